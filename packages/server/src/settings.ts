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

/** The app config parts that come from the settings (shared by `npm start` and `dimmer serve`). */
export function appConfigFromSettings(settings: ServerSettings): {
  rateLimitPerMinute: number;
  eventsPerMinutePerKey: number;
  controllerIntervalMs: number;
  webhooks: { urls: string[]; secret?: string };
} {
  return {
    rateLimitPerMinute: settings.rateLimitPerMinute,
    eventsPerMinutePerKey: settings.eventsPerMinutePerKey,
    controllerIntervalMs: settings.controllerIntervalMs,
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
  };
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
