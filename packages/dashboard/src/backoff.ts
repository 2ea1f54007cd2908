/** Retry delays of the live pages: exponential backoff with a cap, so a server that is down is not hammered. */

/** First retry after a failed refresh, in milliseconds. */
export const BACKOFF_BASE_MS = 2_000;
/** Longest wait between retries, in milliseconds. */
export const BACKOFF_MAX_MS = 60_000;

/**
 * The wait before the next try after `failures` consecutive failures (1 → base, 2 → 2×base, …, capped at
 * `max`); `jitter` in [0, 1) spreads retries of many tabs by up to a fifth of the delay. Milliseconds.
 */
export function backoffDelay(
  failures: number,
  options: { baseMs?: number; maxMs?: number; jitter?: number } = {},
): number {
  const base = options.baseMs ?? BACKOFF_BASE_MS;
  const max = options.maxMs ?? BACKOFF_MAX_MS;
  if (!(failures >= 1)) return 0;
  const exponent = Math.min(failures - 1, 30);
  const delay = Math.min(max, base * 2 ** exponent);
  const jitter = Math.min(Math.max(options.jitter ?? 0, 0), 0.999);
  return Math.round(delay * (1 - jitter / 5));
}
