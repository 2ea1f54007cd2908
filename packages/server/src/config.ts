/** Server settings from environment variables (see docs/operations/configuration.md). */

import { DEFAULT_RATE_LIMIT_PER_MINUTE } from './http/rate-limit.ts';
import { MIN_CUSTOM_TOKEN_LENGTH } from './keys/keys.service.ts';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 4242;
export const DEFAULT_DATA_DIR = './.dimmer';

export interface ServerSettings {
  host: string;
  port: number;
  /** SQLite data directory (ignored when databaseUrl is set). */
  dataDir: string;
  databaseUrl?: string;
  adminToken?: string;
  rateLimitPerMinute: number;
  logLevel: string;
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
    logLevel: env.DIMMER_LOG_LEVEL?.trim() || 'info',
  };
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
