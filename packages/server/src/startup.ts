/**
 * Starting the server from its environment settings, shared by `npm start` (main.ts) and `dimmer serve`,
 * and the banner both print.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    ...(s.opsPort !== undefined ? { opsPort: s.opsPort } : {}),
    dataDir: s.dataDir,
    ...(s.databaseUrl !== undefined ? { databaseUrl: s.databaseUrl, database: s.database } : {}),
    ...(s.adminToken !== undefined ? { adminToken: s.adminToken } : {}),
    logger: { level: s.logLevel },
    config: appConfigFromSettings(s),
  });
}

/** The file a first start's admin token is written to when no terminal shows it (mode 0600, in the data directory). */
export const ADMIN_TOKEN_FILE_NAME = 'admin-token.txt';

/** Where a first start's admin token can be shown: a terminal (stderr) when it is one. */
export interface TokenTerminal {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Hands a generated admin token to the operator once, never through the log stream (stdout carries JSON logs):
 * on the terminal (stderr) when it is a TTY, else in `<data dir>/admin-token.txt` (0600). Returns the banner
 * lines saying where it went.
 */
export function revealAdminToken(token: string, s: ServerSettings, terminal: TokenTerminal): string[] {
  const usage = '  Use it as "Authorization: Bearer <token>" (DIMMER_TOKEN for the dimmer CLI).';
  if (terminal.isTTY === true) {
    terminal.write(
      `\n  First start: an admin token was created. It is shown only this once; store it now:\n    ${token}\n\n`,
    );
    return ['', '  First start: an admin token was created and shown once on the terminal (stderr).', usage];
  }
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  const path = join(s.dataDir, ADMIN_TOKEN_FILE_NAME);
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return [
    '',
    `  First start: an admin token was created and written to ${path} (mode 0600).`,
    '  Read it, store it somewhere safe, then delete the file.',
    usage,
  ];
}

/**
 * The lines printed at start: where Dimmer runs, on what storage, and where a first start's one-time admin
 * token went (it is never part of the banner itself: see revealAdminToken).
 */
export function formatStartupBanner(
  server: RunningServer,
  s: ServerSettings,
  terminal: TokenTerminal = process.stderr,
): string {
  const storage = s.databaseUrl !== undefined ? 'PostgreSQL (DIMMER_DATABASE_URL)' : `SQLite in ${s.dataDir}`;
  const lines = [
    '',
    `Dimmer is running at ${server.url}  (${storage})`,
    hasDashboard(DEFAULT_DASHBOARD_DIR)
      ? `  Dashboard:  ${server.url}/`
      : '  Dashboard:  not built, so not served; build it with `npm run build -w @dimmer/dashboard` and restart',
    `  Admin API:  ${server.url}${API_PREFIX}   OpenAPI: ${server.url}/api/openapi.json`,
  ];
  if (server.opsUrl !== undefined)
    lines.push(`  Operations: ${server.opsUrl}/healthz, /readyz, /metrics (also on the main port)`);
  if (server.adminTokenGenerated && server.adminToken !== undefined)
    lines.push(
      ...revealAdminToken(server.adminToken, s, terminal),
      '  Create more with `dimmer tokens create`.',
    );
  if (server.app.dimmer.createdEnvironments.length > 0)
    lines.push(`  Created environments: ${server.app.dimmer.createdEnvironments.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
