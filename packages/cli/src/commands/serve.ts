/**
 * `dimmer serve`: the server, exactly as `npm start` runs it (settings from the same environment variables,
 * read by the server's `readSettings`), with `--port`, `--host` and `--data-dir` overriding them.
 */
import { API_PREFIX, readSettings, startServer } from '@dimmer/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { usageError } from '../errors.ts';
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
      const settings = readSettings({
        ...ctx.io.env,
        ...(opts.port !== undefined ? { PORT: opts.port } : {}),
        ...(opts.host !== undefined ? { HOST: opts.host } : {}),
        ...(opts.dataDir !== undefined ? { DIMMER_DATA_DIR: opts.dataDir } : {}),
      });
      if (!settings.ok)
        throw usageError(settings.issues.map((i) => `invalid ${i.path}: ${i.message}`).join('; '));
      const s = settings.value;
      const server = await startServer({
        host: s.host,
        port: s.port,
        dataDir: s.dataDir,
        ...(s.databaseUrl !== undefined ? { databaseUrl: s.databaseUrl } : {}),
        ...(s.adminToken !== undefined ? { adminToken: s.adminToken } : {}),
        logger: { level: s.logLevel },
        config: { rateLimitPerMinute: s.rateLimitPerMinute },
      });
      const storage =
        s.databaseUrl !== undefined ? 'PostgreSQL (DIMMER_DATABASE_URL)' : `SQLite in ${s.dataDir}`;
      const lines = [
        '',
        `Dimmer is running at ${server.url}  (${storage})`,
        `  Dashboard:  ${server.url}/`,
        `  Admin API:  ${server.url}${API_PREFIX}   OpenAPI: ${server.url}/api/openapi.json`,
      ];
      if (server.adminTokenGenerated)
        lines.push(
          '',
          '  First start: an admin token was created. It is shown only this once; store it now:',
          `    ${server.adminToken}`,
          '  Use it as "Authorization: Bearer <token>" or DIMMER_TOKEN for this CLI.',
          '  Set DIMMER_ADMIN_TOKEN to choose your own.',
        );
      if (server.app.dimmer.createdEnvironments.length > 0)
        lines.push(`  Created environments: ${server.app.dimmer.createdEnvironments.join(', ')}`);
      ctx.print(`${lines.join('\n')}\n`);
      await waitForAbort(ctx.io.signal);
      server.app.log.info('shutting down');
      await server.close();
    });
}
