/**
 * What the CLI touches of its process, passed in so `main` runs in tests with captured output, a chosen
 * environment and an abort signal instead of real signals.
 */
import type { FetchFn } from '@dimmer/sdk';

/** Where output goes; `isTTY` decides whether `--watch` redraws in place. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Environment variables (DIMMER_URL, DIMMER_TOKEN, DIMMER_CLIENT_KEY, and the server's for `serve`). */
  env: Record<string, string | undefined>;
  /** Directory relative file paths are read from. */
  cwd: string;
  /** Aborted on Ctrl-C or SIGTERM: ends `serve` and `rollouts status --watch`. */
  signal?: AbortSignal;
  /** Waits `ms` milliseconds or until `signal` aborts (injectable for tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  fetch?: FetchFn;
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when `signal` aborts (never without one). */
export function waitForAbort(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
