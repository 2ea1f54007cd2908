/**
 * Keeps a client current: listens to `GET /sdk/v1/stream` (server-sent events over fetch), reconnects with
 * jittered exponential backoff, and polls with ETags while the stream is down or disabled.
 * What "refresh" means (refetch the config, or re-resolve the flags) is the client's business.
 */

import type { ConfigNotice } from './patch.ts';
import {
  type BackoffOptions,
  backoffDelay,
  describeError,
  joinUrl,
  type Platform,
  sleep,
} from './platform.ts';
import { readEventStream, SseParser } from './sse.ts';
import type { TimerHandle } from './types.ts';

/** Default polling interval while the stream is unavailable, in milliseconds. */
export const DEFAULT_POLL_INTERVAL_MS = 30_000;
/** Default reconnect backoff of the stream, in milliseconds. */
export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000 };
/** Default time without any byte on the stream (not even a heartbeat) before it is reopened, in milliseconds. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 90_000;
/**
 * Default longest wait before refetching after the stream announced a new version, in milliseconds: each client
 * waits a uniform random part of it, so a thousand clients of one server do not all connect in the same instant.
 */
export const DEFAULT_REFETCH_JITTER_MS = 100;
/** Default timeout of one config or resolve request, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** How the client stays current. */
export interface SyncOptions {
  /** Listen to the change stream (default true); when false the client only polls. */
  stream?: boolean;
  /** Poll interval while the stream is down or disabled, in milliseconds (default 30,000). */
  pollIntervalMs?: number;
  /** Stream reconnect backoff in milliseconds (default 1 s doubling to 30 s, jittered). */
  reconnectBackoff?: BackoffOptions;
  /** Reopen the stream after this long without a byte, in milliseconds (default 90,000). */
  streamIdleTimeoutMs?: number;
  /** Longest random wait before refetching after a stream notice, in milliseconds (default 100; 0: at once). */
  refetchJitterMs?: number;
  /** Timeout of one config or resolve request, in milliseconds (default 10,000). */
  requestTimeoutMs?: number;
}

/** What the sync loop calls back into. None of these may throw. */
export interface SyncHandlers {
  /** Fetches the current config or resolution (with ETag); never rejects. */
  refresh(): Promise<void>;
  /** The stream announced the environment's current config version (with a patch, for server keys). */
  onNotice(notice: ConfigNotice): void;
  /** The stream opened or closed (`error` says why it closed). */
  onStreamState(connected: boolean, error?: string): void;
  /** Any byte arrived on an open stream (heartbeats included). */
  onActivity(): void;
}

/** Fetch with a timeout and an optional parent abort signal, on the injected timers. */
export async function fetchWithTimeout(
  platform: Platform,
  url: string,
  init: RequestInit & { timeoutMs: number; parent?: AbortSignal },
): Promise<Response> {
  const controller = new AbortController();
  const { timeoutMs, parent, ...rest } = init;
  const onAbort = (): void => controller.abort();
  parent?.addEventListener('abort', onAbort, { once: true });
  const timer = platform.timers.setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await platform.fetch(url, { ...rest, signal: controller.signal });
  } finally {
    platform.timers.clearTimeout(timer);
    parent?.removeEventListener('abort', onAbort);
  }
}

/** Runs the stream, reconnect and polling loops until `stop()`. */
export class SyncLoop {
  private readonly stopped = new AbortController();
  private pollTimer: TimerHandle | undefined;
  private streamController: AbortController | undefined;
  private connected = false;
  private readonly pollIntervalMs: number;
  private readonly reconnectBackoff: BackoffOptions;
  private readonly idleTimeoutMs: number;

  constructor(
    private readonly endpoint: { url: string; clientKey: string },
    private readonly platform: Platform,
    private readonly options: SyncOptions,
    private readonly handlers: SyncHandlers,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.reconnectBackoff = options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF;
    this.idleTimeoutMs = options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
  }

  /** Whether the change stream is open right now. */
  get streaming(): boolean {
    return this.connected;
  }

  /** Starts listening (or polling when the stream is disabled). */
  start(): void {
    if (this.options.stream === false) this.schedulePoll();
    else void this.streamLoop();
  }

  /** Stops every loop and closes the stream. */
  stop(): void {
    this.stopped.abort();
    this.streamController?.abort();
    this.stopPolling();
  }

  private schedulePoll(): void {
    if (this.stopped.signal.aborted || this.pollTimer !== undefined) return;
    this.pollTimer = this.platform.timers.setTimeout(() => {
      this.pollTimer = undefined;
      if (this.stopped.signal.aborted || this.connected) return;
      void this.handlers.refresh().finally(() => {
        if (!this.connected) this.schedulePoll();
      });
    }, this.pollIntervalMs);
  }

  private stopPolling(): void {
    if (this.pollTimer === undefined) return;
    this.platform.timers.clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async streamLoop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped.signal.aborted) {
      const error = await this.runStream(() => {
        attempt = 0;
      });
      if (this.stopped.signal.aborted) return;
      if (this.connected) {
        this.connected = false;
        this.handlers.onStreamState(false, error);
        // Find out at once whether only the stream broke or the whole server is gone.
        void this.handlers.refresh();
      } else {
        this.handlers.onStreamState(false, error);
      }
      this.schedulePoll();
      attempt++;
      await sleep(
        this.platform.timers,
        backoffDelay(attempt, this.reconnectBackoff, this.platform.random),
        this.stopped.signal,
      );
    }
  }

  /** Opens the stream once and reads it to its end; returns why it ended. */
  private async runStream(onOpen: () => void): Promise<string> {
    const controller = new AbortController();
    this.streamController = controller;
    let idleTimer: TimerHandle | undefined;
    const armIdle = (): void => {
      if (idleTimer !== undefined) this.platform.timers.clearTimeout(idleTimer);
      idleTimer = this.platform.timers.setTimeout(() => controller.abort(), this.idleTimeoutMs);
    };
    try {
      armIdle();
      const response = await this.platform.fetch(joinUrl(this.endpoint.url, '/sdk/v1/stream'), {
        headers: { authorization: `Bearer ${this.endpoint.clientKey}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (!response.ok || response.body === null) {
        await response.body?.cancel().catch(() => {});
        return `stream answered HTTP ${response.status}`;
      }
      this.connected = true;
      onOpen();
      this.stopPolling();
      this.handlers.onStreamState(true);
      const parser = new SseParser((event) => {
        if (event.event !== 'config') return;
        const notice = parseNotice(event.data);
        if (notice !== undefined) this.handlers.onNotice(notice);
      });
      await readEventStream(response.body, parser, () => {
        armIdle();
        this.handlers.onActivity();
      });
      return 'stream closed by the server';
    } catch (error) {
      if (controller.signal.aborted && !this.stopped.signal.aborted) return 'stream idle timeout';
      return describeError(error);
    } finally {
      if (idleTimer !== undefined) this.platform.timers.clearTimeout(idleTimer);
      controller.abort();
    }
  }
}

/**
 * Reads a stream notice `{"environment":"production","version":43}` (a server key's also has `etag` and maybe
 * `patch`); undefined when it has no numeric version.
 */
export function parseNotice(data: string): ConfigNotice | undefined {
  try {
    const parsed = JSON.parse(data) as Record<string, unknown> | null;
    const version = parsed?.version;
    if (typeof version !== 'number' || !Number.isFinite(version)) return undefined;
    const notice: ConfigNotice = { version };
    if (typeof parsed?.environment === 'string') notice.environment = parsed.environment;
    if (typeof parsed?.etag === 'string') notice.etag = parsed.etag;
    if (parsed?.patch !== undefined) notice.patch = parsed.patch;
    return notice;
  } catch {
    return undefined;
  }
}
