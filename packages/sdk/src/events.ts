/**
 * Exposure and metric event delivery: deduplication of exposures, a bounded queue that drops the oldest
 * event when full, batching by size and interval, and retries with backoff that reuse the batch id so the
 * server's idempotent ingestion never counts a batch twice. Nothing here throws into application code.
 */
import {
  type BackoffOptions,
  backoffDelay,
  describeError,
  joinUrl,
  newBatchId,
  type Platform,
  sleep,
} from './platform.ts';
import type { SdkEvent, TimerHandle } from './types.ts';

/** Default number of events per `POST /v1/events` request. */
export const DEFAULT_BATCH_SIZE = 100;
/** Default interval between timed flushes, in milliseconds. */
export const DEFAULT_FLUSH_INTERVAL_MS = 5_000;
/** Default queue capacity; beyond it the oldest events are dropped and counted. */
export const DEFAULT_MAX_QUEUE_SIZE = 10_000;
/** Default number of retries of one batch before it is dropped. */
export const DEFAULT_MAX_RETRIES = 5;
/** Default backoff between retries of one batch, in milliseconds. */
export const DEFAULT_RETRY_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000 };
/** Default window within which one (unit, flag, variant) exposure is logged once, in milliseconds. */
export const DEFAULT_EXPOSURE_DEDUP_WINDOW_MS = 10 * 60_000;
/** Default number of remembered (unit, flag, variant) triples; the oldest are forgotten first. */
export const DEFAULT_EXPOSURE_DEDUP_CAPACITY = 50_000;
/**
 * Default time one upload may take, from sending the request to reading the reply, in milliseconds. A
 * server that accepts the connection and never answers would otherwise hold the batch (and every batch
 * behind it) forever; past this time the upload is aborted and retried with backoff under the same batch id.
 */
export const DEFAULT_UPLOAD_TIMEOUT_MS = 10_000;
/** Longest wait honoured from a `Retry-After` header, in milliseconds. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
const HTTP_TOO_MANY_REQUESTS = 429;
const HTTP_SERVICE_UNAVAILABLE = 503;

/**
 * The recent exposures of one flag: unit → variant last logged, in the two generations of the
 * `ExposureDeduper` that owns it. Get it once with `ExposureDeduper.forFlag` and keep it: checking an
 * exposure is then one Map lookup on the unit (whose string hash is cached).
 */
export class FlagExposures {
  /** @internal unit → variant logged in the current generation. */
  current = new Map<string, string>();
  /** @internal unit → variant logged in the previous generation. */
  previous = new Map<string, string>();

  /** @internal Created by `ExposureDeduper.forFlag`. */
  constructor(private readonly owner: ExposureDeduper) {}

  /** True when `unit` was not logged with `variant` of this flag recently (and records it as logged). */
  shouldLog(unit: string, variant: string): boolean {
    const seen = this.current.get(unit);
    if (seen === variant) return false;
    if (seen !== undefined) {
      // The unit now gets another variant: log the change at once (no new entry, so no count).
      this.current.set(unit, variant);
      return true;
    }
    if (this.previous.get(unit) === variant) return false;
    this.current.set(unit, variant);
    this.owner.noteAdded();
    return true;
  }

  /** @internal The current generation becomes the previous one; the previous one is forgotten. */
  rotate(): void {
    const forgotten = this.previous;
    forgotten.clear();
    this.previous = this.current;
    this.current = forgotten;
  }
}

/**
 * Remembers which (unit, flag, variant) exposures were logged recently, in two generations that the
 * owner rotates every half window (`rotate()`): an exposure is suppressed for between half a window and a
 * full window after it was logged, and logged again at once when the unit's variant of that flag changes.
 * At most `capacity` triples are remembered across all flags. State is kept per flag (`forFlag`), so the
 * evaluation hot path holds the flag's `FlagExposures` and does one lookup by unit; no clock is read per call.
 */
export class ExposureDeduper {
  private readonly flags = new Map<string, FlagExposures>();
  private currentSize = 0;

  /** `capacity` bounds the remembered triples; beyond half of it a generation rotates early. */
  constructor(private readonly capacity: number) {}

  /** The exposure state of one flag, created on first use and kept for the deduper's lifetime. */
  forFlag(flag: string): FlagExposures {
    let exposures = this.flags.get(flag);
    if (exposures === undefined) {
      exposures = new FlagExposures(this);
      this.flags.set(flag, exposures);
    }
    return exposures;
  }

  /** True when this exposure was not logged recently (and records it as logged). */
  shouldLog(unit: string, flag: string, variant: string): boolean {
    return this.forFlag(flag).shouldLog(unit, variant);
  }

  /** Forgets the older generation of every flag; call every half dedup window. */
  rotate(): void {
    for (const exposures of this.flags.values()) exposures.rotate();
    this.currentSize = 0;
  }

  /** Number of (unit, flag) entries remembered over both generations (for tests and diagnostics). */
  get size(): number {
    let total = 0;
    for (const exposures of this.flags.values()) total += exposures.current.size + exposures.previous.size;
    return total;
  }

  /** @internal Called by a `FlagExposures` that remembered a new (unit, flag) entry. */
  noteAdded(): void {
    if (++this.currentSize * 2 > this.capacity) this.rotate();
  }
}

/** A fixed-capacity FIFO that overwrites its oldest entry when full. */
class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  length = 0;

  constructor(private readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  /** Appends; returns true when the oldest entry had to be dropped to make room. */
  push(item: T): boolean {
    if (this.length === this.capacity) {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
      return true;
    }
    this.items[(this.head + this.length) % this.capacity] = item;
    this.length++;
    return false;
  }

  take(count: number): T[] {
    const n = Math.min(count, this.length);
    const out: T[] = [];
    for (let i = 0; i < n; i++) {
      out.push(this.items[this.head] as T);
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.length -= n;
    return out;
  }
}

export interface EventQueueOptions {
  /** Events per request; default 100. */
  batchSize?: number;
  /** Interval between timed flushes in milliseconds; default 5,000. */
  flushIntervalMs?: number;
  /** Queue capacity in events; default 10,000. */
  maxQueueSize?: number;
  /** Retries of one batch before it is dropped; default 5. */
  maxRetries?: number;
  /** Backoff between retries in milliseconds; default 1 s doubling to 60 s. */
  retryBackoff?: BackoffOptions;
  /** Longest time `close()` waits for the last batches, in milliseconds; default 5,000. */
  closeTimeoutMs?: number;
  /**
   * Longest time one upload may take before it is aborted and retried (same batch id), in milliseconds;
   * default 10,000.
   */
  uploadTimeoutMs?: number;
}

/** Default time `close()` spends delivering the remaining events, in milliseconds. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

type SendOutcome = { kind: 'done' } | { kind: 'retry'; afterMs?: number } | { kind: 'drop'; message: string };

/** Batches events to `POST {url}/v1/events` with the client key. */
export class EventQueue {
  private readonly queue: RingBuffer<SdkEvent>;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxRetries: number;
  private readonly retryBackoff: BackoffOptions;
  private readonly closeTimeoutMs: number;
  private readonly uploadTimeoutMs: number;
  private sending: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly closing = new AbortController();
  private droppedCount = 0;

  constructor(
    private readonly endpoint: { url: string; clientKey: string },
    private readonly platform: Platform,
    options: EventQueueOptions = {},
  ) {
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.retryBackoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.uploadTimeoutMs = Math.max(1, options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS);
    this.queue = new RingBuffer(Math.max(1, options.maxQueueSize ?? DEFAULT_MAX_QUEUE_SIZE));
    this.armTimer();
  }

  /** Events dropped so far: queue overflow, refused by the server, or out of retries. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Events waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues one event; starts a flush when a full batch is waiting. */
  enqueue(event: SdkEvent): void {
    if (this.closed) {
      this.droppedCount++;
      return;
    }
    if (this.queue.push(event)) this.droppedCount++;
    if (this.queue.length >= this.batchSize && this.sending === undefined) void this.flush();
  }

  /** Sends every queued event (retrying as configured); resolves when the queue is empty or given up on. */
  flush(): Promise<void> {
    if (this.sending) return this.sending;
    if (this.queue.length === 0) return Promise.resolve();
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /** Stops the timer and delivers what is queued within the close timeout; later events are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.platform.timers.clearTimeout(this.timer);
    const deadline = this.platform.timers.setTimeout(() => this.closing.abort(), this.closeTimeoutMs);
    try {
      await this.flush();
      // A flush that was already running may have stopped before events queued meanwhile.
      if (this.queue.length > 0 && !this.closing.signal.aborted) await this.flush();
    } finally {
      this.platform.timers.clearTimeout(deadline);
      this.droppedCount += this.queue.take(this.queue.length).length;
    }
  }

  private armTimer(): void {
    if (this.closed) return;
    this.timer = this.platform.timers.setTimeout(() => {
      void this.flush().finally(() => this.armTimer());
    }, this.flushIntervalMs);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closing.signal.aborted) {
      const events = this.queue.take(this.batchSize);
      await this.deliver(newBatchId(this.platform.random), events);
    }
  }

  private async deliver(batchId: string, events: SdkEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.send(batchId, events);
      if (outcome.kind === 'done') return;
      if (outcome.kind === 'drop') {
        this.droppedCount += events.length;
        this.platform.logger.warn('events dropped', {
          batchId,
          count: events.length,
          reason: outcome.message,
        });
        return;
      }
      if (attempt >= this.maxRetries || this.closing.signal.aborted) {
        this.droppedCount += events.length;
        this.platform.logger.warn('events dropped after retries', { batchId, count: events.length });
        return;
      }
      const delay = outcome.afterMs ?? backoffDelay(attempt + 1, this.retryBackoff, this.platform.random);
      await sleep(this.platform.timers, delay, this.closing.signal);
    }
  }

  /**
   * One upload attempt, aborted when it takes longer than the upload timeout (the request, the reply and
   * its body) or when `close()` gives up.
   */
  private async send(batchId: string, events: SdkEvent[]): Promise<SendOutcome> {
    const attempt = new AbortController();
    const abort = (): void => attempt.abort();
    this.closing.signal.addEventListener('abort', abort, { once: true });
    let timedOut = false;
    const timer = this.platform.timers.setTimeout(() => {
      timedOut = true;
      attempt.abort();
    }, this.uploadTimeoutMs);
    try {
      return await this.exchange(batchId, events, attempt.signal);
    } catch (error) {
      this.platform.logger.debug(timedOut ? 'event upload timed out' : 'event delivery failed', {
        batchId,
        ...(timedOut ? { timeoutMs: this.uploadTimeoutMs } : { error: describeError(error) }),
      });
      return { kind: 'retry' };
    } finally {
      this.platform.timers.clearTimeout(timer);
      this.closing.signal.removeEventListener('abort', abort);
    }
  }

  private async exchange(batchId: string, events: SdkEvent[], signal: AbortSignal): Promise<SendOutcome> {
    const response = await this.platform.fetch(joinUrl(this.endpoint.url, '/v1/events'), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.endpoint.clientKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ batchId, events }),
      signal,
    });
    if (response.ok) {
      await this.countRejected(response, batchId);
      return { kind: 'done' };
    }
    await response.body?.cancel().catch(() => {});
    if (response.status === HTTP_TOO_MANY_REQUESTS || response.status === HTTP_SERVICE_UNAVAILABLE) {
      const afterMs = parseRetryAfter(response.headers.get('retry-after'), this.platform.clock.now());
      return afterMs === undefined ? { kind: 'retry' } : { kind: 'retry', afterMs };
    }
    if (response.status >= 500) return { kind: 'retry' };
    return { kind: 'drop', message: `HTTP ${response.status}` };
  }

  private async countRejected(response: Response, batchId: string): Promise<void> {
    try {
      const body = (await response.json()) as { rejected?: { index: number; reason: string }[] };
      const rejected = Array.isArray(body?.rejected) ? body.rejected : [];
      if (rejected.length > 0) {
        this.droppedCount += rejected.length;
        this.platform.logger.warn('server rejected events', { batchId, rejected: rejected.slice(0, 5) });
      }
    } catch {
      // A 2xx without a JSON body still means the batch was accepted.
    }
  }
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) into milliseconds from `nowMs`. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1_000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

/** The last millisecond formatted and its text: exposures logged in a burst share their millisecond. */
let lastEpochMs = Number.NaN;
let lastIso = '';

/** Formats epoch milliseconds as ISO 8601 for the events API. */
export function isoTimestamp(epochMs: number): string {
  if (epochMs !== lastEpochMs) {
    lastIso = new Date(epochMs).toISOString();
    lastEpochMs = epochMs;
  }
  return lastIso;
}
