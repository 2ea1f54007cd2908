/**
 * The refresh loop of a live page (a rollout, an experiment): loads, refreshes every few seconds while the
 * object is live, and on a failed refresh keeps the last data, reports the error and retries with backoff
 * until the server answers again.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { backoffDelay } from './backoff.ts';

/** How often a live page refreshes, in milliseconds. */
export const REFRESH_MS = 5_000;

export interface Live<T> {
  data: T | undefined;
  /** The error of the last refresh while it keeps failing; undefined once one succeeds. */
  error: unknown;
  /** When the shown data was last fetched (ms since the epoch). */
  fetchedAt: number | null;
  /** When the next retry runs after a failure (ms since the epoch). */
  retryAt: number | null;
  /** Refreshes now (after an action, or from the stale banner). */
  refresh(): void;
}

/** Reads an optional part without failing the refresh: an older server may lack the route. */
export async function optional<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch {
    return null;
  }
}

/**
 * Runs `fetch(previous)` now, again every REFRESH_MS while `isLive(data)`, and with backoff after failures.
 * `key` names the object: a new key starts from nothing.
 */
export function useLive<T>(
  key: readonly unknown[],
  fetch: (previous: T | undefined) => Promise<T>,
  isLive: (data: T) => boolean,
): Live<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [fetchedAt, setFetchedAt] = useState<number | null>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const dataRef = useRef<T | undefined>(undefined);
  const failures = useRef(0);
  const calls = useRef({ fetch, isLive });
  calls.current = { fetch, isLive };

  // A new object starts from nothing.
  useEffect(() => {
    dataRef.current = undefined;
    setData(undefined);
    setError(undefined);
    failures.current = 0;
  }, [...key]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` asks for one more refresh
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const run = async () => {
      try {
        const next = await calls.current.fetch(dataRef.current);
        if (!live) return;
        dataRef.current = next;
        failures.current = 0;
        setData(next);
        setError(undefined);
        setRetryAt(null);
        setFetchedAt(Date.now());
        if (calls.current.isLive(next)) timer = window.setTimeout(run, REFRESH_MS);
      } catch (e) {
        if (!live) return;
        failures.current += 1;
        const wait = backoffDelay(failures.current, { jitter: Math.random() });
        setError(e);
        setRetryAt(Date.now() + wait);
        timer = window.setTimeout(run, wait);
      }
    };
    void run();
    return () => {
      live = false;
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [...key, tick]);

  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, fetchedAt, retryAt, refresh };
}
