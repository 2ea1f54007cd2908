/**
 * The gate of the public (SDK, OFREP and events) routes, run when the request line and headers have arrived
 * and before any body is read: it authenticates the client key (an unknown or missing key is answered 401 at
 * once, and a request with a body also gets its connection closed), then counts the request against the key's
 * fixed-window budget. Unknown keys never reach the per-key counters, so they cannot evict known keys; their
 * failures are counted per client address instead, and an address past its failure budget gets 429.
 * A route opts in with `config: sdkRateLimit`; only those routes get the hook, so other routes pay nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { ClientPrincipal, SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';
import {
  admitPrincipal,
  closeConnectionAfterReply,
  missingKeyError,
  unknownKeyError,
} from './client-auth.ts';
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
 * Route config that opts a route into the client gate: `{ config: sdkRateLimit }`. The budget is the key's own
 * `rateLimitPerMinute`, else the default of its kind (see RateLimits), counted per key and route.
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

  /**
   * Whether one more request of `client` at `now` (epoch ms) would stay within `budget`, without counting it:
   * a caller that must leave the refusal to someone else asks this before it counts.
   */
  wouldAdmit(client: string, now: number, budget: number): boolean {
    const window = this.#windows.get(client);
    if (window === undefined || now >= window.resetAt) return budget >= 1;
    return window.count < budget;
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

/** The budgets of the client gate. */
export interface RateLimits {
  /** Requests per minute per server key and route, unless the key sets its own (DIMMER_RATE_LIMIT_PER_MINUTE). */
  serverKeyPerMinute: number;
  /** Requests per minute per browser key and route, unless the key sets its own (DIMMER_BROWSER_RATE_LIMIT_PER_MINUTE). */
  browserKeyPerMinute: number;
  /** Failed authentications per minute per client address before they are answered 429 (DIMMER_AUTH_FAILURES_PER_MINUTE). */
  authFailuresPerMinute: number;
}

/** Default requests per minute per server key and route. */
export const DEFAULT_SERVER_KEY_RATE_LIMIT_PER_MINUTE = 60_000;
/** Default requests per minute per browser key and route: one key serves every visitor of a site. */
export const DEFAULT_BROWSER_KEY_RATE_LIMIT_PER_MINUTE = 600_000;
/** Default failed authentications per minute per client address. */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 600;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  serverKeyPerMinute: DEFAULT_SERVER_KEY_RATE_LIMIT_PER_MINUTE,
  browserKeyPerMinute: DEFAULT_BROWSER_KEY_RATE_LIMIT_PER_MINUTE,
  authFailuresPerMinute: DEFAULT_AUTH_FAILURES_PER_MINUTE,
};

/** Seconds from `now` to the end of `window`, at least one. */
function secondsLeft(window: RateWindow, now: number): number {
  return Math.max(1, Math.ceil((window.resetAt - now) / MS_PER_SECOND));
}

/** The budget of a principal: its own, else its kind's default. */
export function budgetOf(principal: ClientPrincipal, limits: RateLimits): number {
  if (principal.rateLimitPerMinute !== undefined) return principal.rateLimitPerMinute;
  return principal.kind === 'browser' ? limits.browserKeyPerMinute : limits.serverKeyPerMinute;
}

/** The x-ratelimit-limit, -reset and -remaining values of an admitted request counted in `window`. */
export interface RateLimitHeaders {
  limit: number;
  /** Seconds to the window's end, at least one. */
  reset: number;
  remaining: number;
}

/** The rate-limit header values of a request admitted within `perMinute`, counted in `window` at `now` (ms). */
export function rateLimitHeaders(window: RateWindow, perMinute: number, now: number): RateLimitHeaders {
  return {
    limit: perMinute,
    reset: secondsLeft(window, now),
    remaining: Math.max(0, perMinute - window.count),
  };
}

/** The client gate's counters, shared by the Fastify routes and the fast paths (http/fast-path.ts). */
export interface ClientGate {
  readonly budgets: RateLimits;
  /** The per-key counter of route `method url` (its Fastify URL, e.g. `/ofrep/v1/evaluate/flags/:key`). */
  limiter(method: string, url: string): FixedWindowLimiter;
}

/**
 * Installs the gate on routes registered after this call whose config has `sdkRateLimit`; each such route
 * counts on its own. Each admitted answer carries x-ratelimit-limit/remaining/reset; past the budget the route
 * answers 429 RATE_LIMITED with Retry-After (seconds to the window's end), through the route's error handler.
 * Failed authentications share one per-address counter across routes. Returns the counters, so that a fast
 * path answering the same route counts in the same windows.
 */
export function installRateLimit(
  app: FastifyInstance,
  limits: Partial<RateLimits>,
  authenticate: SdkDeps['authenticateClientKey'],
): ClientGate {
  const budgets: RateLimits = { ...DEFAULT_RATE_LIMITS, ...limits };
  const failures = new FixedWindowLimiter(ONE_MINUTE_MS, MAX_TRACKED_CLIENTS);
  const limiters = new Map<string, FixedWindowLimiter>();
  const limiterOf = (method: string, url: string): FixedWindowLimiter => {
    const route = `${method} ${url}`;
    let limiter = limiters.get(route);
    if (limiter === undefined) {
      limiter = new FixedWindowLimiter(ONE_MINUTE_MS, MAX_TRACKED_CLIENTS);
      limiters.set(route, limiter);
    }
    return limiter;
  };

  const refuse = (request: FastifyRequest, reply: FastifyReply, error: AppError): AppError => {
    closeConnectionAfterReply(request, reply);
    const now = Date.now();
    const window = failures.hit(request.ip, now);
    if (window.count <= budgets.authFailuresPerMinute) return error;
    const retryAfterSeconds = secondsLeft(window, now);
    reply.header('retry-after', retryAfterSeconds);
    return new AppError(
      'RATE_LIMITED',
      `too many failed authentications from this address (limit ${budgets.authFailuresPerMinute} per minute)`,
      { retryAfterSeconds },
    );
  };

  const count = (
    limiter: FixedWindowLimiter,
    hash: string,
    principal: ClientPrincipal,
    reply: FastifyReply,
  ): AppError | undefined => {
    const perMinute = budgetOf(principal, budgets);
    const now = Date.now();
    const window = limiter.hit(hash, now);
    const headers = rateLimitHeaders(window, perMinute, now);
    const resetSeconds = headers.reset;
    reply.header('x-ratelimit-limit', headers.limit);
    reply.header('x-ratelimit-reset', resetSeconds);
    reply.header('x-ratelimit-remaining', headers.remaining);
    if (window.count <= perMinute) return undefined;
    reply.header('retry-after', resetSeconds);
    return new AppError('RATE_LIMITED', `rate limit of ${perMinute} requests per minute exceeded`, {
      retryAfterSeconds: resetSeconds,
    });
  };

  const gateHook = (limiter: FixedWindowLimiter) =>
    function clientGateHook(
      request: FastifyRequest,
      reply: FastifyReply,
      done: HookHandlerDoneFunction,
    ): void {
      const credential = readClientCredential(request);
      if (credential === undefined) {
        done(refuse(request, reply, missingKeyError()));
        return;
      }
      const finish = (principal: ClientPrincipal | null): void => {
        if (principal === null) {
          done(refuse(request, reply, unknownKeyError()));
          return;
        }
        try {
          admitPrincipal(request, reply, principal);
        } catch (error) {
          done(error as Error);
          return;
        }
        const limited = count(limiter, credential.hash, principal, reply);
        if (limited === undefined) done();
        else done(limited);
      };
      const found = authenticate(credential.raw, credential.hash);
      if (found instanceof Promise) found.then(finish, (error: unknown) => done(error as Error));
      else finish(found);
    };

  app.addHook('onRoute', (route) => {
    if (route.config?.sdkRateLimit !== true) return;
    const hook = gateHook(limiterOf(String(route.method), route.url));
    const existing = route.onRequest;
    route.onRequest =
      existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
  });
  return { budgets, limiter: limiterOf };
}
