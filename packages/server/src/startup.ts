/**
 * Starting the server from its environment settings, shared by `npm start` (main.ts) and `dimmer serve`,
 * and the banner both print.
 */

import { API_PREFIX } from './app.ts';
import { DEFAULT_DASHBOARD_DIR, hasDashboard } from './http/dashboard.ts';
import { type RunningServer, startServer } from './server.ts';
import { appConfigFromSettings, type ServerSettings } from './settings.ts';
import { describeStartError } from './start-errors.ts';

/**
 * Starts Dimmer as the settings say: SQLite in the data directory, or PostgreSQL when a URL is set. A failure
 * to start rejects with a StartError whose message is one line saying why and what to change.
 */
export async function startFromSettings(s: ServerSettings): Promise<RunningServer> {
  try {
    return await start(s);
  } catch (error) {
    throw describeStartError(error, s);
  }
}

function start(s: ServerSettings): Promise<RunningServer> {
  return startServer({
    host: s.host,
    port: s.port,
    dataDir: s.dataDir,
    ...(s.databaseUrl !== undefined ? { databaseUrl: s.databaseUrl, database: s.database } : {}),
    ...(s.adminToken !== undefined ? { adminToken: s.adminToken } : {}),
    logger: { level: s.logLevel },
    config: appConfigFromSettings(s),
  });
}

/** The lines printed at start: where Dimmer runs, on what storage, and a first start's one-time admin token. */
export function formatStartupBanner(server: RunningServer, s: ServerSettings): string {
  const storage = s.databaseUrl !== undefined ? 'PostgreSQL (DIMMER_DATABASE_URL)' : `SQLite in ${s.dataDir}`;
  const lines = [
    '',
    `Dimmer is running at ${server.url}  (${storage})`,
    hasDashboard(DEFAULT_DASHBOARD_DIR)
      ? `  Dashboard:  ${server.url}/`
      : '  Dashboard:  not built, so not served; build it with `npm run build -w @dimmer/dashboard` and restart',
    `  Admin API:  ${server.url}${API_PREFIX}   OpenAPI: ${server.url}/api/openapi.json`,
  ];
  if (server.adminTokenGenerated)
    lines.push(
      '',
      '  First start: an admin token was created. It is shown only this once; store it now:',
      `    ${server.adminToken}`,
      '  Use it as "Authorization: Bearer <token>" (DIMMER_TOKEN for the dimmer CLI).',
      '  Set DIMMER_ADMIN_TOKEN to choose your own.',
    );
  if (server.app.dimmer.createdEnvironments.length > 0)
    lines.push(`  Created environments: ${server.app.dimmer.createdEnvironments.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
