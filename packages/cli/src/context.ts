/** What every command gets: the io, the global options (`--url`, `--token`, `--json`) and an admin client. */
import { type AdminClient, createAdminClient } from '@dimmer/sdk';
import type { Command } from 'commander';
import { loadCredential } from './credentials.ts';
import { usageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { formatJson } from './output.ts';

/** Where the CLI looks for the server when neither `--url` nor DIMMER_URL says. */
export const DEFAULT_URL = 'http://127.0.0.1:4242';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** The shared state of one `main` run. */
export class CliContext {
  /** Set by a command that finished its output but must still report failure (e.g. rejected events). */
  exitCode = 0;

  constructor(readonly io: CliIo) {}

  /** The global options as seen from `command` (flags win over the environment). */
  options(command: Command): { url: string; token: string | undefined; json: boolean } {
    const o = command.optsWithGlobals<GlobalOptions>();
    const url = o.url ?? this.io.env.DIMMER_URL ?? DEFAULT_URL;
    const given = o.token ?? this.io.env.DIMMER_TOKEN;
    // Without --token or DIMMER_TOKEN: the credential `dimmer login` stored for this server.
    const token =
      given === undefined || given.trim() === '' ? loadCredential(this.io.env, url)?.token : given.trim();
    return { url, token, json: o.json === true };
  }

  /** True when `--json` was given. */
  json(command: Command): boolean {
    return this.options(command).json;
  }

  /** An admin client for the server; a usage error when no admin token is known. */
  admin(command: Command): AdminClient {
    const { url, token } = this.options(command);
    if (token === undefined)
      throw usageError(
        'not signed in: run `dimmer login`, pass --token <token> or set DIMMER_TOKEN (the token `dimmer serve` prints on its first start, or your DIMMER_ADMIN_TOKEN)',
      );
    return this.client(url, token);
  }

  /** A client without the admin token (for routes that take a client key). */
  anonymous(command: Command): AdminClient {
    return this.client(this.options(command).url, undefined);
  }

  private client(url: string, token: string | undefined): AdminClient {
    return createAdminClient({
      url,
      ...(token !== undefined ? { token } : {}),
      ...(this.io.fetch !== undefined ? { fetch: this.io.fetch } : {}),
    });
  }

  /** Writes text to stdout. */
  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Writes `value` as JSON with `--json`, or the human text otherwise. */
  output(command: Command, value: unknown, human: () => string): void {
    this.print(this.json(command) ? formatJson(value) : human());
  }
}
