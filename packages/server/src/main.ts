/**
 * `npm start`: serves Dimmer on HOST:PORT (127.0.0.1:4242) with SQLite in DIMMER_DATA_DIR (./.dimmer),
 * or PostgreSQL when DIMMER_DATABASE_URL is set. Stops gracefully on SIGINT and SIGTERM.
 */
import { readSettings } from './settings.ts';
import { formatStartupBanner, startFromSettings } from './startup.ts';
import { SqliteStartError } from './storage/sqlite/database.ts';

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
  // A storage refusal (data directory in use, empty or corrupt database) is explained by its message alone.
  if (error instanceof SqliteStartError) console.error(`Dimmer failed to start: ${error.message}`);
  else console.error('Dimmer failed to start:', error);
  process.exit(1);
});
