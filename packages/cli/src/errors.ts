/**
 * The CLI's exit codes and the one mapping from errors to an exit code and a message a person can act on:
 * server errors print their code, message and every issue's path.
 */
import { AdminApiError } from '@dimmer/sdk';
import { CommanderError } from 'commander';

/** The command did what was asked. */
export const EXIT_OK = 0;
/** The command failed: a server error, an unreachable server, an unreadable file. */
export const EXIT_FAILURE = 1;
/** The command line was wrong: unknown command or option, missing argument, missing token. */
export const EXIT_USAGE = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILURE | typeof EXIT_USAGE;

/** An error the CLI raises itself, with the exit code it maps to. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A usage error (exit code 2). */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

/** Commander codes that are not failures: help or version asked for. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** The exit code for any error thrown while running a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return COMMANDER_SUCCESS.has(error.code) ? EXIT_OK : EXIT_USAGE;
  if (error instanceof CliError) return error.exitCode;
  return EXIT_FAILURE;
}

function detailsWithoutIssues(details: unknown): unknown {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return details;
  const { issues: _issues, ...rest } = details as Record<string, unknown>;
  return Object.keys(rest).length > 0 ? rest : null;
}

/**
 * The text printed for an error: `Error CODE (HTTP status): message`, one `  - path: message` line per issue
 * and any other details as JSON. Commander errors return '' (commander has printed them already).
 */
export function formatError(error: unknown): string {
  if (error instanceof CommanderError) return '';
  if (error instanceof AdminApiError) {
    const status = error.status > 0 ? ` (HTTP ${error.status})` : '';
    const lines = [`Error ${error.code}${status}: ${error.message}`];
    for (const issue of error.issues)
      lines.push(`  - ${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`);
    const rest = detailsWithoutIssues(error.details);
    if (rest !== null && rest !== undefined) lines.push(`  details: ${JSON.stringify(rest)}`);
    if (error.currentVersion !== undefined)
      lines.push(
        `  It was changed since you read it (now version ${error.currentVersion}); nothing was written. Get it again, redo your change, and retry.`,
      );
    return `${lines.join('\n')}\n`;
  }
  if (error instanceof CliError) return `Error: ${error.message}\n`;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `Error: ${message}\n`;
}

/** The error as JSON for `--json` callers: the server's `{ error: { code, message, details } }` shape. */
export function errorJson(error: unknown): string {
  if (error instanceof AdminApiError)
    return `${JSON.stringify({ error: { code: error.code, status: error.status, message: error.message, details: error.details } }, null, 2)}\n`;
  const code = exitCodeFor(error) === EXIT_USAGE ? 'USAGE' : 'FAILED';
  const message = error instanceof Error ? error.message : String(error);
  return `${JSON.stringify({ error: { code, message, details: null } }, null, 2)}\n`;
}
