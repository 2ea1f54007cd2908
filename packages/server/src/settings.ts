/** Server settings from environment variables (see docs/operations/configuration.md). */

import { readFileSync } from 'node:fs';
import { DEFAULT_EVENTS_MAX_IN_FLIGHT } from './http/admission.ts';
import {
  type ConnectionTimeouts,
  DEFAULT_CONNECTION_TIMEOUTS,
  DEFAULT_MAX_STREAMS,
  DEFAULT_MAX_STREAMS_PER_ADDRESS,
  DEFAULT_MAX_STREAMS_PER_KEY,
} from './http/connection-limits.ts';
import {
  DEFAULT_AUTH_FAILURES_PER_MINUTE,
  DEFAULT_BROWSER_KEY_RATE_LIMIT_PER_MINUTE,
  DEFAULT_SERVER_KEY_RATE_LIMIT_PER_MINUTE,
} from './http/rate-limit.ts';
import {
  DEFAULT_GROUPS_CLAIM,
  DEFAULT_OIDC_SCOPES,
  DEFAULT_SESSION_TTL_MS,
  type GroupRole,
  type OidcSettings,
  parseGroupRoles,
} from './people/index.ts';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from './rollouts/webhooks.ts';
import { MIN_CUSTOM_TOKEN_LENGTH } from './secrets.ts';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 4242;
export const DEFAULT_DATA_DIR = './.dimmer';
/** Default requests per minute per server key and route on SDK, OFREP and events routes. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = DEFAULT_SERVER_KEY_RATE_LIMIT_PER_MINUTE;

/**
 * The default cap on open config streams: DEFAULT_MAX_STREAMS, but at most half the process's open-file limit
 * (read from /proc/self/limits where it exists), so that streams never starve health checks and storage.
 */
export function defaultMaxStreams(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return DEFAULT_MAX_STREAMS;
    }
  }
  const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1];
  if (soft === undefined) return DEFAULT_MAX_STREAMS;
  return Math.max(1, Math.min(DEFAULT_MAX_STREAMS, Math.floor(Number(soft) / 2)));
}
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
  browserRateLimitPerMinute: number;
  authFailuresPerMinute: number;
  timeouts: ConnectionTimeouts;
  streamLimits: { maxStreams: number; maxStreamsPerKey: number; maxStreamsPerAddress: number };
  eventsMaxInFlight: number;
  eventsPerMinutePerKey: number;
  controllerIntervalMs: number;
  controllerLeaseMs: number;
  configPollMs: number;
  webhooks: { urls: string[]; secret?: string; timeoutMs: number };
  people: { oidc?: OidcSettings; groupRoles: GroupRole[]; sessionTtlMs: number };
  fastPaths: boolean;
} {
  return {
    fastPaths: settings.fastPaths,
    rateLimitPerMinute: settings.rateLimitPerMinute,
    browserRateLimitPerMinute: settings.browserRateLimitPerMinute,
    authFailuresPerMinute: settings.authFailuresPerMinute,
    timeouts: settings.timeouts,
    streamLimits: {
      maxStreams: settings.maxStreams,
      maxStreamsPerKey: settings.maxStreamsPerKey,
      maxStreamsPerAddress: settings.maxStreamsPerAddress,
    },
    eventsMaxInFlight: settings.eventsMaxInFlight,
    eventsPerMinutePerKey: settings.eventsPerMinutePerKey,
    controllerIntervalMs: settings.controllerIntervalMs,
    controllerLeaseMs: settings.controllerLeaseMs,
    configPollMs: settings.configPollMs,
    webhooks: {
      urls: settings.webhookUrls,
      timeoutMs: settings.webhookTimeoutMs,
      ...(settings.webhookSecret !== undefined ? { secret: settings.webhookSecret } : {}),
    },
    people: {
      ...(settings.oidc !== undefined ? { oidc: settings.oidc } : {}),
      groupRoles: settings.groupRoles,
      sessionTtlMs: settings.sessionTtlMs,
    },
  };
}

export interface ServerSettings {
  host: string;
  port: number;
  /** Port of the operations listener for /healthz, /readyz and /metrics (DIMMER_OPS_PORT); absent: none. */
  opsPort?: number;
  /** SQLite data directory (ignored when databaseUrl is set). */
  dataDir: string;
  databaseUrl?: string;
  adminToken?: string;
  /** Requests per minute per server key and route (DIMMER_RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number;
  /** Requests per minute per browser key and route (DIMMER_BROWSER_RATE_LIMIT_PER_MINUTE). */
  browserRateLimitPerMinute: number;
  /** Whether OFREP and resolve are answered on the fast paths in front of Fastify (DIMMER_FAST_PATHS, default true). */
  fastPaths: boolean;
  /** Failed authentications per minute per client address (DIMMER_AUTH_FAILURES_PER_MINUTE). */
  authFailuresPerMinute: number;
  /** Header, request, idle and keep-alive timeouts (DIMMER_*_TIMEOUT_MS). */
  timeouts: ConnectionTimeouts;
  /** Most open config streams in all (DIMMER_MAX_STREAMS). */
  maxStreams: number;
  /** Most open config streams per client key (DIMMER_MAX_STREAMS_PER_KEY). */
  maxStreamsPerKey: number;
  /** Most open config streams per client address (DIMMER_MAX_STREAMS_PER_ADDRESS). */
  maxStreamsPerAddress: number;
  /** Most `POST /v1/events` requests admitted at once (DIMMER_EVENTS_MAX_IN_FLIGHT). */
  eventsMaxInFlight: number;
  /** Events per minute a client key may send unless it sets its own (DIMMER_EVENTS_PER_MINUTE_PER_KEY). */
  eventsPerMinutePerKey: number;
  logLevel: string;
  /** Milliseconds between rollout controller ticks (DIMMER_CONTROLLER_INTERVAL_MS, default 60000). */
  controllerIntervalMs: number;
  /** Webhook receivers of rollout decisions (DIMMER_WEBHOOK_URLS, comma-separated). */
  webhookUrls: string[];
  /** HMAC-SHA256 key of the X-Dimmer-Signature header (DIMMER_WEBHOOK_SECRET). */
  webhookSecret?: string;
  /** Longest wait for a webhook receiver's answer, in ms (DIMMER_WEBHOOK_TIMEOUT_MS, default 10000). */
  webhookTimeoutMs: number;
  /** PostgreSQL pool size, timeouts and keepalive (DIMMER_DATABASE_*). */
  database: DatabaseSettings;
  /** Controller lease period across nodes (DIMMER_CONTROLLER_LEASE_MS, default 15000). */
  controllerLeaseMs: number;
  /** Interval of the config version poll that backs up NOTIFY (DIMMER_CONFIG_POLL_MS, default 5000; 0: off). */
  configPollMs: number;
  /** Dashboard sign-in through an OpenID Connect provider (DIMMER_OIDC_*); absent: token sign-in only. */
  oidc?: OidcSettings;
  /** Roles of provider groups (DIMMER_OIDC_GROUP_ROLES: `group=role[@environment],…`). */
  groupRoles: GroupRole[];
  /** Session lifetime in milliseconds (DIMMER_SESSION_TTL_MS, default 12 hours). */
  sessionTtlMs: number;
}

/** The OpenID Connect settings: issuer, client id and redirect URL together, or none of them. */
function readOidc(
  env: Record<string, string | undefined>,
  issues: { path: string; message: string }[],
): OidcSettings | undefined {
  const get = (name: string) => env[name]?.trim() || undefined;
  const issuer = get('DIMMER_OIDC_ISSUER');
  const clientId = get('DIMMER_OIDC_CLIENT_ID');
  const redirectUrl = get('DIMMER_OIDC_REDIRECT_URL');
  if (issuer === undefined && clientId === undefined && redirectUrl === undefined) return undefined;
  const url = (name: string, value: string | undefined): boolean => {
    if (value === undefined) {
      issues.push({
        path: name,
        message: 'required with DIMMER_OIDC_ISSUER, DIMMER_OIDC_CLIENT_ID and DIMMER_OIDC_REDIRECT_URL',
      });
      return false;
    }
    try {
      const parsed = new URL(value);
      if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return true;
    } catch {
      // reported below
    }
    issues.push({ path: name, message: 'expected an http(s) URL' });
    return false;
  };
  const okIssuer = url('DIMMER_OIDC_ISSUER', issuer);
  const okRedirect = url('DIMMER_OIDC_REDIRECT_URL', redirectUrl);
  if (redirectUrl !== undefined && okRedirect && !new URL(redirectUrl).pathname.endsWith('/auth/callback'))
    issues.push({ path: 'DIMMER_OIDC_REDIRECT_URL', message: "expected this server's /auth/callback URL" });
  if (clientId === undefined)
    issues.push({ path: 'DIMMER_OIDC_CLIENT_ID', message: 'required with DIMMER_OIDC_ISSUER' });
  if (!okIssuer || !okRedirect || clientId === undefined || issuer === undefined || redirectUrl === undefined)
    return undefined;
  const secret = get('DIMMER_OIDC_CLIENT_SECRET');
  return {
    issuer,
    clientId,
    ...(secret !== undefined ? { clientSecret: secret } : {}),
    redirectUrl,
    providerName: get('DIMMER_OIDC_PROVIDER_NAME') ?? new URL(issuer).hostname,
    scopes: get('DIMMER_OIDC_SCOPES') ?? DEFAULT_OIDC_SCOPES,
    groupsClaim: get('DIMMER_OIDC_GROUPS_CLAIM') ?? DEFAULT_GROUPS_CLAIM,
  };
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
    browserRateLimitPerMinute: DEFAULT_BROWSER_KEY_RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: DEFAULT_AUTH_FAILURES_PER_MINUTE,
    fastPaths: true,
    timeouts: { ...DEFAULT_CONNECTION_TIMEOUTS },
    maxStreams: defaultMaxStreams(),
    maxStreamsPerKey: DEFAULT_MAX_STREAMS_PER_KEY,
    maxStreamsPerAddress: DEFAULT_MAX_STREAMS_PER_ADDRESS,
    eventsMaxInFlight: DEFAULT_EVENTS_MAX_IN_FLIGHT,
    eventsPerMinutePerKey: DEFAULT_EVENTS_PER_MINUTE_PER_KEY,
    logLevel: env.DIMMER_LOG_LEVEL?.trim() || 'info',
    controllerIntervalMs: DEFAULT_CONTROLLER_INTERVAL_MS,
    webhookUrls: [],
    webhookTimeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS,
    database: {},
    controllerLeaseMs: DEFAULT_CONTROLLER_LEASE_MS,
    configPollMs: DEFAULT_CONFIG_POLL_MS,
    groupRoles: [],
    sessionTtlMs: DEFAULT_SESSION_TTL_MS,
  };
  const oidc = readOidc(env, issues);
  if (oidc !== undefined) value.oidc = oidc;
  try {
    value.groupRoles = parseGroupRoles(env.DIMMER_OIDC_GROUP_ROLES ?? '');
  } catch (error) {
    issues.push({ path: 'DIMMER_OIDC_GROUP_ROLES', message: (error as Error).message });
  }
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
  const fastPaths = env.DIMMER_FAST_PATHS?.trim();
  if (fastPaths === 'false') value.fastPaths = false;
  else if (fastPaths && fastPaths !== 'true')
    issues.push({ path: 'DIMMER_FAST_PATHS', message: 'expected true or false' });
  const secret = env.DIMMER_WEBHOOK_SECRET?.trim();
  if (secret) value.webhookSecret = secret;
  const port = env.PORT?.trim();
  if (port) {
    const n = Number(port);
    if (/^\d+$/.test(port) && n <= 65_535) value.port = n;
    else issues.push({ path: 'PORT', message: 'expected an integer from 0 to 65535' });
  }
  const opsPort = env.DIMMER_OPS_PORT?.trim();
  if (opsPort) {
    const n = Number(opsPort);
    if (/^\d+$/.test(opsPort) && n <= 65_535 && (n === 0 || n !== value.port)) value.opsPort = n;
    else
      issues.push({
        path: 'DIMMER_OPS_PORT',
        message: `expected an integer from 0 to 65535 other than PORT (${value.port})`,
      });
  }
  const integer = (name: string, min: 0 | 1, set: (n: number) => void): void => {
    const text = env[name]?.trim();
    if (!text) return;
    if (/^\d+$/.test(text) && Number(text) >= min && Number.isSafeInteger(Number(text))) set(Number(text));
    else
      issues.push({
        path: name,
        message: min === 1 ? 'expected a positive integer' : 'expected a non-negative integer (0: off)',
      });
  };
  integer('DIMMER_RATE_LIMIT_PER_MINUTE', 1, (n) => {
    value.rateLimitPerMinute = n;
  });
  integer('DIMMER_BROWSER_RATE_LIMIT_PER_MINUTE', 1, (n) => {
    value.browserRateLimitPerMinute = n;
  });
  integer('DIMMER_AUTH_FAILURES_PER_MINUTE', 1, (n) => {
    value.authFailuresPerMinute = n;
  });
  integer('DIMMER_HEADERS_TIMEOUT_MS', 1, (n) => {
    value.timeouts.headersTimeoutMs = n;
  });
  integer('DIMMER_REQUEST_TIMEOUT_MS', 0, (n) => {
    value.timeouts.requestTimeoutMs = n;
  });
  integer('DIMMER_IDLE_TIMEOUT_MS', 0, (n) => {
    value.timeouts.idleTimeoutMs = n;
  });
  integer('DIMMER_KEEP_ALIVE_TIMEOUT_MS', 1, (n) => {
    value.timeouts.keepAliveTimeoutMs = n;
  });
  integer('DIMMER_MAX_STREAMS', 1, (n) => {
    value.maxStreams = n;
  });
  integer('DIMMER_MAX_STREAMS_PER_KEY', 1, (n) => {
    value.maxStreamsPerKey = n;
  });
  integer('DIMMER_MAX_STREAMS_PER_ADDRESS', 1, (n) => {
    value.maxStreamsPerAddress = n;
  });
  integer('DIMMER_WEBHOOK_TIMEOUT_MS', 1, (n) => {
    value.webhookTimeoutMs = n;
  });
  integer('DIMMER_EVENTS_MAX_IN_FLIGHT', 1, (n) => {
    value.eventsMaxInFlight = n;
  });
  integer('DIMMER_EVENTS_PER_MINUTE_PER_KEY', 1, (n) => {
    value.eventsPerMinutePerKey = n;
  });
  integer('DIMMER_SESSION_TTL_MS', 1, (n) => {
    value.sessionTtlMs = n;
  });
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
