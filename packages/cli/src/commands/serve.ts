/**
 * `dimmer serve`: the server, exactly as `npm start` runs it (settings from the same environment variables,
 * read by the server's `readSettings`), with `--port`, `--host` and `--data-dir` overriding them.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { waitForAbort } from '../io.ts';

/** Registers the `serve` command. */
export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Run the Dimmer server (like `npm start`): API, SDK routes and dashboard')
    .option('--port <port>', 'port (default: PORT or 4242; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default: HOST or 127.0.0.1)')
    .option('--data-dir <dir>', 'SQLite data directory (default: DIMMER_DATA_DIR or ./.dimmer)')
    .action(async (opts: { port?: string; host?: string; dataDir?: string }) => {
      // Loaded on use: the server's modules stay out of every other command's startup.
      const { formatStartupBanner, readSettings, startFromSettings } = await import('@dimmer/server');
      const settings = readSettings({
        ...ctx.io.env,
        ...(opts.port !== undefined ? { PORT: opts.port } : {}),
        ...(opts.host !== undefined ? { HOST: opts.host } : {}),
        ...(opts.dataDir !== undefined ? { DIMMER_DATA_DIR: opts.dataDir } : {}),
      });
      if (!settings.ok)
        throw usageError(settings.issues.map((i) => `invalid ${i.path}: ${i.message}`).join('; '));
      // A start failure (port in use, data directory not writable) is one line, not a stack trace.
      const server = await startFromSettings(settings.value).catch((error: unknown) => {
        throw new CliError(error instanceof Error ? error.message : String(error));
      });
      ctx.print(formatStartupBanner(server, settings.value));
      await waitForAbort(ctx.io.signal);
      server.app.log.info('shutting down');
      await server.close();
    });
}
