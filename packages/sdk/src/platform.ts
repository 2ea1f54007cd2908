/**
 * The client's view of its platform: clock, timers, fetch, randomness and logger, each injectable so
 * tests run deterministically. Defaults use only globals present in Node 20, browsers and edge runtimes.
 */
import type { Clock, FetchFn, Logger, Timers } from './types.ts';

/** The platform pieces every client needs. */
export interface Platform {
  clock: Clock;
  timers: Timers;
  fetch: FetchFn;
  /** Uniform in [0, 1); used for backoff jitter and batch ids when `crypto.randomUUID` is missing. */
  random: () => number;
  logger: Logger;
}

/** Options through which callers replace platform pieces. */
export interface PlatformOptions {
  clock?: Clock;
  timers?: Timers;
  fetch?: FetchFn;
  random?: () => number;
  logger?: Logger;
}

const noop = (): void => {};

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A logger that writes warnings and errors to the console and drops debug and info lines. */
export const consoleLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (message, fields) => console.warn(`[dimmer] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[dimmer] ${message}`, fields ?? ''),
};

/** Global timers; in Node the handles are unref'd so background refreshes never keep a process alive. */
export const globalTimers: Timers = {
  setTimeout(callback, delayMs) {
    const handle = setTimeout(callback, delayMs) as unknown as { unref?: () => void };
    if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};

/** Fills in the defaults for every platform piece not given. */
export function resolvePlatform(options: PlatformOptions): Platform {
  return {
    clock: options.clock ?? { now: () => Date.now() },
    timers: options.timers ?? globalTimers,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    random: options.random ?? Math.random,
    logger: options.logger ?? consoleLogger,
  };
}

/** Backoff settings for reconnects and retries, in milliseconds. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential growth from `initialMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so a fleet of clients does not reconnect in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}

/** A promise that resolves after `delayMs` on the injected timers, or early when `signal` aborts. */
export function sleep(timers: Timers, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve();
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Joins the server base URL and a path, tolerating a trailing slash on the base. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** A random identifier for an event batch (UUID v4 when the platform has `crypto.randomUUID`). */
export function newBatchId(random: () => number): string {
  const cryptoApi = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (cryptoApi?.randomUUID) return cryptoApi.randomUUID();
  let out = '';
  for (let i = 0; i < 32; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** Describes an unknown thrown value in one line. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.message}${causeText}`;
  }
  return String(error);
}
