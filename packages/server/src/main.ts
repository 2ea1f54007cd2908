/**
 * `npm start`: serves Dimmer on HOST:PORT (127.0.0.1:4242) with SQLite in DIMMER_DATA_DIR (./.dimmer),
 * or PostgreSQL when DIMMER_DATABASE_URL is set. Stops gracefully on SIGINT and SIGTERM.
 */
import { readSettings } from './config.ts';
import { API_PREFIX, startServer } from './index.ts';

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  if (!settings.ok) {
    for (const issue of settings.issues) console.error(`Invalid ${issue.path}: ${issue.message}`);
    process.exit(2);
  }
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
  const storage = s.databaseUrl !== undefined ? 'PostgreSQL (DIMMER_DATABASE_URL)' : `SQLite in ${s.dataDir}`;
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
      '  Use it as "Authorization: Bearer <token>". Set DIMMER_ADMIN_TOKEN to choose your own.',
    );
  if (server.app.dimmer.createdEnvironments.length > 0)
    lines.push(`  Created environments: ${server.app.dimmer.createdEnvironments.join(', ')}`);
  console.log(lines.join('\n') + '\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    try {
      await server.close();
      process.exit(0);
    } catch (error) {
      console.error(error);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('Dimmer failed to start:', error);
  process.exit(1);
});
