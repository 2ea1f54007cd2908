/** Server settings from environment variables (see docs/operations/configuration.md). */

import { MIN_CUSTOM_TOKEN_LENGTH } from './secrets.ts';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 4242;
export const DEFAULT_DATA_DIR = './.dimmer';
/** Default requests per minute per key or IP on SDK and OFREP routes. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6_000;
/** Default events per minute a client key may send to `/v1/events` (a key may set its own). */
export const DEFAULT_EVENTS_PER_MINUTE_PER_KEY = 60_000;
/** Default time between rollout controller ticks, in milliseconds. */
export const DEFAULT_CONTROLLER_INTERVAL_MS = 60_000;
/** Shortest controller interval accepted from the environment, in milliseconds. */
export const MIN_CONTROLLER_INTERVAL_MS = 1_000;

/** Shortest controller lease accepted, in milliseconds. */
export const MIN_CONTROLLER_LEASE_MS = 1_000;
/** Shortest config poll interval accepted, in milliseconds. */
export const MIN_CONFIG_POLL_MS = 100;
/** Default controller lease, in milliseconds: the holder renews it three times per period; takeover after expiry. */
export const DEFAULT_CONTROLLER_LEASE_MS = 15_000;
/** Default interval between config version polls (the fallback to NOTIFY), in milliseconds. */
export const DEFAULT_CONFIG_POLL_MS = 5_000;

/**
 * PostgreSQL connection limits read from the environment (each variable in milliseconds, except the pool size):
 * the variable and the connection setting it fills.
 */
const DATABASE_SETTINGS = [
  ['DIMMER_DATABASE_POOL_SIZE', 'poolSize', 1],
  ['DIMMER_DATABASE_STATEMENT_TIMEOUT_MS', 'statementTimeoutMs', 0],
  ['DIMMER_DATABASE_LOCK_TIMEOUT_MS', 'lockTimeoutMs', 0],
  ['DIMMER_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'idleInTransactionTimeoutMs', 0],
  ['DIMMER_DATABASE_CONNECT_TIMEOUT_MS', 'connectTimeoutMs', 1],
  ['DIMMER_DATABASE_KEEPALIVE_MS', 'keepAliveMs', 1_000],
  ['DIMMER_DATABASE_STARTUP_TIMEOUT_MS', 'startupTimeoutMs', 0],
] as const;

/** PostgreSQL pool and session limits; absent fields take the driver's defaults. */
export interface DatabaseSettings {
  poolSize?: number;
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  connectTimeoutMs?: number;
  keepAliveMs?: number;
  startupTimeoutMs?: number;
}

/** The app config parts that come from the settings (shared by `npm start` and `dimmer serve`). */
export function appConfigFromSettings(settings: ServerSettings): {
  rateLimitPerMinute: number;
  eventsPerMinutePerKey: number;
  controllerIntervalMs: number;
  controllerLeaseMs: number;
  configPollMs: number;
  webhooks: { urls: string[]; secret?: string };
} {
  return {
    rateLimitPerMinute: settings.rateLimitPerMinute,
    eventsPerMinutePerKey: settings.eventsPerMinutePerKey,
    controllerIntervalMs: settings.controllerIntervalMs,
    controllerLeaseMs: settings.controllerLeaseMs,
    configPollMs: settings.configPollMs,
    webhooks: {
      urls: settings.webhookUrls,
      ...(settings.webhookSecret !== undefined ? { secret: settings.webhookSecret } : {}),
    },
  };
}

export interface ServerSettings {
  host: string;
  port: number;
  /** SQLite data directory (ignored when databaseUrl is set). */
  dataDir: string;
  databaseUrl?: string;
  adminToken?: string;
  rateLimitPerMinute: number;
  /** Events per minute a client key may send unless it sets its own (DIMMER_EVENTS_PER_MINUTE_PER_KEY). */
  eventsPerMinutePerKey: number;
  logLevel: string;
  /** Milliseconds between rollout controller ticks (DIMMER_CONTROLLER_INTERVAL_MS, default 60000). */
  controllerIntervalMs: number;
  /** Webhook receivers of rollout decisions (DIMMER_WEBHOOK_URLS, comma-separated). */
  webhookUrls: string[];
  /** HMAC-SHA256 key of the X-Dimmer-Signature header (DIMMER_WEBHOOK_SECRET). */
  webhookSecret?: string;
  /** PostgreSQL pool size, timeouts and keepalive (DIMMER_DATABASE_*). */
  database: DatabaseSettings;
  /** Controller lease period across nodes (DIMMER_CONTROLLER_LEASE_MS, default 15000). */
  controllerLeaseMs: number;
  /** Interval of the config version poll that backs up NOTIFY (DIMMER_CONFIG_POLL_MS, default 5000; 0: off). */
  configPollMs: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the settings; the issues name the variable and what was expected. */
export function readSettings(
  env: Record<string, string | undefined>,
): { ok: true; value: ServerSettings } | { ok: false; issues: { path: string; message: string }[] } {
  const issues: { path: string; message: string }[] = [];
  const value: ServerSettings = {
    host: env.HOST?.trim() || DEFAULT_HOST,
    port: DEFAULT_PORT,
    dataDir: env.DIMMER_DATA_DIR?.trim() || DEFAULT_DATA_DIR,
    rateLimitPerMinute: DEFAULT_RATE_LIMIT_PER_MINUTE,
    eventsPerMinutePerKey: DEFAULT_EVENTS_PER_MINUTE_PER_KEY,
    logLevel: env.DIMMER_LOG_LEVEL?.trim() || 'info',
    controllerIntervalMs: DEFAULT_CONTROLLER_INTERVAL_MS,
    webhookUrls: [],
    database: {},
    controllerLeaseMs: DEFAULT_CONTROLLER_LEASE_MS,
    configPollMs: DEFAULT_CONFIG_POLL_MS,
  };
  for (const [name, field, min] of DATABASE_SETTINGS) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    if (/^\d+$/.test(raw) && Number(raw) >= min) value.database[field] = Number(raw);
    else issues.push({ path: name, message: `expected an integer ≥ ${min}` });
  }
  const lease = env.DIMMER_CONTROLLER_LEASE_MS?.trim();
  if (lease) {
    if (/^\d+$/.test(lease) && Number(lease) >= MIN_CONTROLLER_LEASE_MS)
      value.controllerLeaseMs = Number(lease);
    else
      issues.push({
        path: 'DIMMER_CONTROLLER_LEASE_MS',
        message: `expected milliseconds ≥ ${MIN_CONTROLLER_LEASE_MS}`,
      });
  }
  const poll = env.DIMMER_CONFIG_POLL_MS?.trim();
  if (poll) {
    if (/^\d+$/.test(poll) && (Number(poll) === 0 || Number(poll) >= MIN_CONFIG_POLL_MS))
      value.configPollMs = Number(poll);
    else
      issues.push({
        path: 'DIMMER_CONFIG_POLL_MS',
        message: `expected milliseconds ≥ ${MIN_CONFIG_POLL_MS} (or 0 to turn polling off)`,
      });
  }
  const interval = env.DIMMER_CONTROLLER_INTERVAL_MS?.trim();
  if (interval) {
    if (/^\d+$/.test(interval) && (Number(interval) === 0 || Number(interval) >= MIN_CONTROLLER_INTERVAL_MS))
      value.controllerIntervalMs = Number(interval);
    else
      issues.push({
        path: 'DIMMER_CONTROLLER_INTERVAL_MS',
        message: `expected milliseconds ≥ ${MIN_CONTROLLER_INTERVAL_MS} (or 0 to turn the controller off)`,
      });
  }
  const urls = env.DIMMER_WEBHOOK_URLS?.trim();
  if (urls) {
    for (const url of urls
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '')) {
      if (/^https?:\/\/[^\s]+$/.test(url)) value.webhookUrls.push(url);
      else
        issues.push({
          path: 'DIMMER_WEBHOOK_URLS',
          message: `expected http(s) URLs, got ${JSON.stringify(url)}`,
        });
    }
  }
  const secret = env.DIMMER_WEBHOOK_SECRET?.trim();
  if (secret) value.webhookSecret = secret;
  const port = env.PORT?.trim();
  if (port) {
    const n = Number(port);
    if (/^\d+$/.test(port) && n <= 65_535) value.port = n;
    else issues.push({ path: 'PORT', message: 'expected an integer from 0 to 65535' });
  }
  const rate = env.DIMMER_RATE_LIMIT_PER_MINUTE?.trim();
  if (rate) {
    if (/^[1-9]\d*$/.test(rate)) value.rateLimitPerMinute = Number(rate);
    else issues.push({ path: 'DIMMER_RATE_LIMIT_PER_MINUTE', message: 'expected a positive integer' });
  }
  const quota = env.DIMMER_EVENTS_PER_MINUTE_PER_KEY?.trim();
  if (quota) {
    if (/^[1-9]\d*$/.test(quota)) value.eventsPerMinutePerKey = Number(quota);
    else issues.push({ path: 'DIMMER_EVENTS_PER_MINUTE_PER_KEY', message: 'expected a positive integer' });
  }
  const url = env.DIMMER_DATABASE_URL?.trim();
  if (url) {
    if (/^postgres(ql)?:\/\//.test(url)) value.databaseUrl = url;
    else issues.push({ path: 'DIMMER_DATABASE_URL', message: 'expected postgres://user@host:port/database' });
  }
  const token = env.DIMMER_ADMIN_TOKEN?.trim();
  if (token) {
    if (token.length >= MIN_CUSTOM_TOKEN_LENGTH && /^[\x21-\x7e]+$/.test(token)) value.adminToken = token;
    else
      issues.push({
        path: 'DIMMER_ADMIN_TOKEN',
        message: `expected at least ${MIN_CUSTOM_TOKEN_LENGTH} printable characters without spaces`,
      });
  }
  if (!LOG_LEVELS.includes(value.logLevel))
    issues.push({ path: 'DIMMER_LOG_LEVEL', message: `expected one of ${LOG_LEVELS.join(', ')}` });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}
