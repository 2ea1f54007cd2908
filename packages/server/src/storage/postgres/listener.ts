/**
 * The LISTEN side of config change notices: one dedicated long-lived pg.Client (a pooled client
 * would be handed to other queries), reconnected with exponential backoff when the connection drops.
 */
import pg from 'pg';
import type { ConfigWatchHandlers } from '../write.ts';
import { CONFIG_CHANNEL, clientConfig, KEYS_CHANNEL, type PostgresConnection } from './driver.ts';

/** First and largest delay between reconnection attempts, in milliseconds. */
const RECONNECT_INITIAL_MS = 250;
const RECONNECT_MAX_MS = 2_000;

/** application_name of the listening connection (visible in pg_stat_activity). */
export const LISTENER_APPLICATION_NAME = 'dimmer-config-listener';

export interface ListenerLogger {
  warn(message: string): void;
}

/** Parses a NOTIFY payload; undefined when it is not `{environment: string, version: number}`. */
export function parseConfigNotice(
  payload: string | undefined,
): { environment: string; version: number } | undefined {
  if (payload === undefined) return undefined;
  try {
    const value = JSON.parse(payload) as { environment?: unknown; version?: unknown };
    if (typeof value.environment === 'string' && typeof value.version === 'number')
      return { environment: value.environment, version: value.version };
  } catch {
    // fall through
  }
  return undefined;
}

/** Starts listening; resolves once the first LISTEN succeeded; the returned function stops it. */
export async function listenForConfigChanges(
  connection: PostgresConnection,
  handlers: ConfigWatchHandlers,
  logger: ListenerLogger = { warn: () => undefined },
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = RECONNECT_INITIAL_MS;

  async function connect(): Promise<void> {
    const next = new pg.Client({ ...clientConfig(connection), application_name: LISTENER_APPLICATION_NAME });
    next.on('notification', (message) => {
      if (message.channel === KEYS_CHANNEL) handlers.onKeysChange?.();
      if (message.channel !== CONFIG_CHANNEL) return;
      const notice = parseConfigNotice(message.payload);
      if (notice) handlers.onChange(notice);
    });
    next.on('error', (error) => {
      logger.warn(`config listener error: ${error.message}`);
      drop(next);
    });
    next.on('end', () => drop(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${CONFIG_CHANNEL}; LISTEN ${KEYS_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
    delay = RECONNECT_INITIAL_MS;
    handlers.onListenerState?.(true);
  }

  function drop(which: pg.Client): void {
    if (client !== which) return;
    client = undefined;
    which.end().catch(() => undefined);
    if (!stopped) handlers.onListenerState?.(false);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (stopped || timer) return;
    timer = setTimeout(async () => {
      timer = undefined;
      try {
        await connect();
        if (stopped) {
          await client?.end();
          return;
        }
        logger.warn('config listener reconnected; re-reading every environment');
        handlers.onResync();
        handlers.onKeysChange?.();
      } catch (error) {
        logger.warn(`config listener reconnect failed: ${(error as Error).message}`);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        scheduleReconnect();
      }
    }, delay);
    timer.unref();
  }

  try {
    await connect();
  } catch (error) {
    // The database went away between migration and here: keep trying in the background.
    logger.warn(`config listener failed to connect: ${(error as Error).message}`);
    scheduleReconnect();
  }
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const current = client;
    client = undefined;
    await current?.end().catch(() => undefined);
  };
}
