/**
 * The `dimmer` command line: builds the commander program over an injected io and runs it, returning the exit
 * code (0 success, 1 failure, 2 usage) instead of exiting, so tests drive it like a user would.
 */
import { Command } from 'commander';
import { registerAuditCommands } from './commands/audit.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerEnvironmentCommands } from './commands/environments.ts';
import { registerEventCommands } from './commands/events.ts';
import { registerExperimentCommands } from './commands/experiments.ts';
import { registerFlagCommands } from './commands/flags.ts';
import { registerKeyCommands } from './commands/keys.ts';
import { registerLoginCommands } from './commands/login.ts';
import { registerMetricCommands } from './commands/metrics.ts';
import { registerRolloutCommands } from './commands/rollouts.ts';
import { registerSegmentCommands } from './commands/segments.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerSimulateCommand } from './commands/simulate.ts';
import { registerSurfaceCommands } from './commands/surfaces.ts';
import { registerTokenCommands } from './commands/tokens.ts';
import { CliContext, DEFAULT_URL } from './context.ts';
import { EXIT_OK, errorJson, exitCodeFor, formatError } from './errors.ts';
import type { CliIo } from './io.ts';

/** The CLI's version, printed by `dimmer --version`. */
export const CLI_VERSION = '0.3.0';

/** Builds the program with every command group registered on `ctx`. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('dimmer')
    .description('Dimmer: feature flags with guarded rollouts')
    .version(CLI_VERSION)
    .option('--url <url>', `server URL (default: DIMMER_URL or ${DEFAULT_URL})`)
    .option('--token <token>', 'admin token (default: DIMMER_TOKEN)')
    .option('--json', 'print JSON instead of tables')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)');
  registerServeCommand(program, ctx);
  registerDemoCommand(program, ctx);
  registerSimulateCommand(program, ctx);
  registerEnvironmentCommands(program, ctx);
  registerFlagCommands(program, ctx);
  registerSegmentCommands(program, ctx);
  registerMetricCommands(program, ctx);
  registerSurfaceCommands(program, ctx);
  registerRolloutCommands(program, ctx);
  registerExperimentCommands(program, ctx);
  registerKeyCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerLoginCommands(program, ctx);
  registerEventCommands(program, ctx);
  registerAuditCommands(program, ctx);
  return program;
}

/**
 * Runs `dimmer` with `argv` (the arguments after the program name) and returns the exit code. Errors are
 * printed to `io.stderr`: server errors with their code and each issue's path; with `--json`, as JSON.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    const code = exitCodeFor(error);
    if (code === EXIT_OK) return EXIT_OK;
    const json = argv.includes('--json');
    const text =
      json && !(error instanceof Error && error.name === 'CommanderError')
        ? errorJson(error)
        : formatError(error);
    if (text !== '') io.stderr.write(text);
    return code;
  }
}
