/**
 * `npm start`: serves Dimmer on HOST:PORT (127.0.0.1:4242) with SQLite in DIMMER_DATA_DIR (./.dimmer),
 * or PostgreSQL when DIMMER_DATABASE_URL is set. Stops gracefully on SIGINT and SIGTERM.
 */
import { readSettings } from './settings.ts';
import { StartError } from './start-errors.ts';
import { formatStartupBanner, startFromSettings } from './startup.ts';

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  if (!settings.ok) {
    for (const issue of settings.issues) console.error(`Invalid ${issue.path}: ${issue.message}`);
    process.exit(2);
  }
  const server = await startFromSettings(settings.value);
  console.log(formatStartupBanner(server, settings.value));

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
  // A known start failure is one line saying what to change; anything else keeps its stack for a report.
  console.error(error instanceof StartError ? error.message : error);
  process.exit(1);
});
