/**
 * Rate limiting for public (SDK and OFREP) routes: a synchronous fixed-window counter per client key
 * (its SHA-256, shared with authentication), else per IP. A route opts in with `config: sdkRateLimit`;
 * only those routes get the limiter's onRequest hook, so other routes pay nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppError } from '../errors.ts';
import { readClientCredential } from './client-credential.ts';

const ONE_MINUTE_MS = 60_000;
const MS_PER_SECOND = 1000;
/** Most keys and IPs whose windows one route tracks at once; past it the oldest window is forgotten. */
export const MAX_TRACKED_CLIENTS = 10_000;
/** Least time between two sweeps of expired windows, in milliseconds. */
const SWEEP_INTERVAL_MS = 1000;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** True on routes counted by the SDK rate limit (see sdkRateLimit). */
    sdkRateLimit?: boolean;
  }
}

/**
 * Route config that opts a route into the rate limit: `{ config: sdkRateLimit }`. The budget is the
 * app-wide `rateLimitPerMinute` (DIMMER_RATE_LIMIT_PER_MINUTE), counted per client key, else per IP.
 */
export const sdkRateLimit = { sdkRateLimit: true };

/** One client's window: requests counted so far and when (epoch ms) the window ends. */
export interface RateWindow {
  count: number;
  resetAt: number;
}

/**
 * Fixed-window request counters keyed by client. Windows are kept in the Map in order of their end
 * (a renewed window is re-inserted), so sweeping stops at the first live one; the Map never holds more
 * than `maxTracked` windows.
 */
export class FixedWindowLimiter {
  readonly #windowMs: number;
  readonly #maxTracked: number;
  readonly #windows = new Map<string, RateWindow>();
  #nextSweepAt = 0;

  /** `windowMs` is the window length in milliseconds; `maxTracked` bounds the windows held. */
  constructor(windowMs: number, maxTracked: number) {
    this.#windowMs = windowMs;
    this.#maxTracked = maxTracked;
  }

  /** Counts one request of `client` at `now` (epoch ms) and returns its window, counted. */
  hit(client: string, now: number): RateWindow {
    if (now >= this.#nextSweepAt) this.#sweep(now);
    let window = this.#windows.get(client);
    if (window === undefined) {
      if (this.#windows.size >= this.#maxTracked) this.#evictOldest();
      window = { count: 0, resetAt: now + this.#windowMs };
      this.#windows.set(client, window);
    } else if (now >= window.resetAt) {
      this.#windows.delete(client);
      window.count = 0;
      window.resetAt = now + this.#windowMs;
      this.#windows.set(client, window);
    }
    window.count++;
    return window;
  }

  /** How many windows are held (expired ones may linger until the next sweep). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [client, window] of this.#windows) {
      if (window.resetAt > now) break;
      this.#windows.delete(client);
    }
    this.#nextSweepAt = now + SWEEP_INTERVAL_MS;
  }

  #evictOldest(): void {
    const oldest = this.#windows.keys().next();
    if (oldest.done !== true) this.#windows.delete(oldest.value);
  }
}

/** The counter key: the client key's SHA-256 (shared with authentication, never the raw key), else the IP. */
function limitKey(request: FastifyRequest): string {
  const credential = readClientCredential(request);
  return credential === undefined ? `ip:${request.ip}` : credential.hash;
}

/**
 * Installs the limiter for routes registered after this call whose config has `sdkRateLimit`; each such
 * route counts on its own (as the former plugin did). Each answer carries x-ratelimit-limit/remaining/reset;
 * past `perMinute` requests the route answers 429 RATE_LIMITED with Retry-After (seconds to the window's
 * end), through the route's error handler.
 */
export function installRateLimit(app: FastifyInstance, perMinute: number): void {
  const limitHeader = String(perMinute);
  const message = `rate limit of ${perMinute} requests per minute exceeded`;
  const limitHook = (limiter: FixedWindowLimiter) =>
    function sdkRateLimitHook(
      request: FastifyRequest,
      reply: FastifyReply,
      done: HookHandlerDoneFunction,
    ): void {
      const now = Date.now();
      const window = limiter.hit(limitKey(request), now);
      const resetSeconds = Math.max(1, Math.ceil((window.resetAt - now) / MS_PER_SECOND));
      reply.header('x-ratelimit-limit', limitHeader);
      if (window.count <= perMinute) {
        reply.header('x-ratelimit-remaining', perMinute - window.count);
        reply.header('x-ratelimit-reset', resetSeconds);
        done();
        return;
      }
      reply.header('x-ratelimit-remaining', 0);
      reply.header('x-ratelimit-reset', resetSeconds);
      reply.header('retry-after', resetSeconds);
      done(new AppError('RATE_LIMITED', message, { retryAfterSeconds: resetSeconds }));
    };
  app.addHook('onRoute', (route) => {
    if (route.config?.sdkRateLimit !== true) return;
    const hook = limitHook(new FixedWindowLimiter(ONE_MINUTE_MS, MAX_TRACKED_CLIENTS));
    const existing = route.onRequest;
    route.onRequest =
      existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
  });
}
