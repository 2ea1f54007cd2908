/**
 * The ingestion pipeline: validated batches wait in a bounded queue and are written by one writer that
 * coalesces whatever is waiting into one transaction (group commit): the writer starts after the current
 * event-loop turn's I/O, so concurrent requests share a transaction. A batch is acknowledged only after its
 * transaction committed; beyond capacity a batch is refused at once (429 with Retry-After), before anything
 * is written.
 *
 * A store that writes on the serving thread (SQLite, memory) holds the event loop for a whole transaction, so
 * its groups are also bounded in time: the pipeline keeps the cost per event of its recent transactions and
 * cuts a group where the estimate reaches `targetTransactionMs`. A batch is never split across transactions
 * (its events and its batch id commit together or not at all), so one batch larger than the target still goes
 * alone: the bound is the larger of the target and one batch (at most MAX_BATCH_EVENTS events).
 */
import { performance } from 'node:perf_hooks';
import type { CompiledConfig } from '@dimmer/core';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { markHoldbacks } from './event-admission.ts';
import type { EventsStore, IngestBatch, IngestResult } from './events.store.ts';

/** Capacity and grouping of the pipeline. */
export interface PipelineLimits {
  /** Most events waiting or being written before new batches are refused. */
  maxPendingEvents: number;
  /** Most batches waiting or being written before new batches are refused. */
  maxPendingBatches: number;
  /** Most events coalesced into one transaction (a single larger batch still goes alone). */
  maxGroupEvents: number;
  /**
   * Duration one transaction aims at, in milliseconds: a group is cut where the recent cost per event says it
   * would take longer (a single batch still goes alone). Null: groups are bounded by `maxGroupEvents` only
   * (a store whose writes wait on I/O instead of holding the event loop, PostgreSQL).
   */
  targetTransactionMs: number | null | (() => number | null);
  /**
   * Groups sent to the store before the first of them committed. 1: one transaction at a time. More: while the
   * store writes a group on another thread, the next ones are already there, so each starts the moment the one
   * before commits (the serving thread's part, answering and reading the next requests, overlaps the writing).
   */
  maxInFlight: number;
}

export const DEFAULT_PIPELINE_LIMITS: PipelineLimits = {
  maxPendingEvents: 50_000,
  maxPendingBatches: 400,
  maxGroupEvents: 5_000,
  targetTransactionMs: null,
  maxInFlight: 1,
};

/**
 * Duration a transaction of a store writing on the serving thread aims at, in milliseconds: short enough that
 * requests arriving meanwhile wait only a few milliseconds to be read, long enough that a group of batches
 * shares the per-transaction cost (begin, analyses read, quantile rows, commit). Measured by bench:ingest: at
 * 4 ms a 500-event batch with six metrics went alone and throughput fell 15–25%; at 8 ms about two go together.
 */
export const SERVING_THREAD_TRANSACTION_MS = 8;
/**
 * Duration a transaction written on a thread of its own aims at, in milliseconds (SQLite's events writer): it no
 * longer holds the event loop, only the serving connection's writes, which wait for the groups in flight.
 */
export const WRITER_THREAD_TRANSACTION_MS = 16;
/**
 * Groups in flight to a writer thread: while it writes one, the next ones wait there, so it never idles while the
 * serving thread answers and reads requests. Measured by bench:ingest (4 writers, six metrics): 2 in flight left
 * the writer idle a fifth of the time (89–104k events/s), 3 kept it busy (120–133k events/s).
 */
export const WRITER_THREAD_GROUPS_IN_FLIGHT = 3;
/** Cost per event assumed before any transaction was measured, in milliseconds (a cautious estimate). */
const INITIAL_MS_PER_EVENT = 0.01;
/** Transactions whose duration and size make the cost estimate (their total time over their total events). */
const ESTIMATE_WINDOW = 16;
/** Seconds a client is told to wait when the pipeline is full. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Resolves once the I/O already waiting has been handled (setImmediate runs after the event loop's poll
 * phase). The writer starts there rather than in the microtasks of the first request: a synchronous store
 * (SQLite) would otherwise commit each batch before the next request is even read, so the requests waiting
 * in socket buffers would never count as in flight, never be grouped and never meet the admission bound,
 * and their latency would grow with the flood instead of being refused with 429.
 */
function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Pending {
  batch: IngestBatch;
  size: number;
  resolve(result: IngestResult): void;
  reject(error: unknown): void;
}

/** Counters for /metrics and tests. */
export interface PipelineStats {
  committedBatches: number;
  committedEvents: number;
  duplicateBatches: number;
  refusedBatches: number;
  transactions: number;
  /** Longest transaction so far, in milliseconds. */
  longestTransactionMs: number;
}

/** One written transaction: its duration in milliseconds, its events and batches (duplicates included). */
export interface TransactionRecord {
  ms: number;
  events: number;
  batches: number;
}

export class EventPipeline {
  readonly #store: EventsStore;
  readonly #clock: Clock;
  readonly #limits: PipelineLimits;
  readonly #config: ((environment: string) => CompiledConfig | undefined) | undefined;
  readonly #elapsed: () => number;
  #queue: Pending[] = [];
  #pendingEvents = 0;
  #pendingBatches = 0;
  #writer: Promise<void> | undefined;
  /** Wakes the writer waiting with room for another group in flight when a batch arrives. */
  #arrived: (() => void) | undefined;
  /** When the last group committed (elapsed ms): a group sent earlier started writing then, not when sent. */
  #lastCommitEnd = Number.NEGATIVE_INFINITY;
  /** Durations (ms) and events of the last ESTIMATE_WINDOW transactions, as rings. */
  readonly #recentMs = new Float64Array(ESTIMATE_WINDOW);
  readonly #recentEvents = new Float64Array(ESTIMATE_WINDOW);
  #recentNext = 0;
  readonly #listeners: ((record: TransactionRecord) => void)[] = [];
  readonly stats: PipelineStats = {
    committedBatches: 0,
    committedEvents: 0,
    duplicateBatches: 0,
    refusedBatches: 0,
    transactions: 0,
    longestTransactionMs: 0,
  };

  constructor(deps: {
    store: EventsStore;
    clock: Clock;
    limits?: Partial<PipelineLimits>;
    /** The environment's current config: exposures of flags on a surface with a holdback are marked from it. */
    config?: (environment: string) => CompiledConfig | undefined;
    /** A monotonic time in milliseconds that transactions are timed with (default `performance.now`). */
    elapsed?: () => number;
  }) {
    this.#elapsed = deps.elapsed ?? (() => performance.now());
    this.#store = deps.store;
    this.#config = deps.config;
    this.#clock = deps.clock;
    this.#limits = { ...DEFAULT_PIPELINE_LIMITS, ...deps.limits };
  }

  /** Events and batches accepted but not yet committed. */
  get pending(): { events: number; batches: number } {
    return { events: this.#pendingEvents, batches: this.#pendingBatches };
  }

  /**
   * Queues a batch and resolves once it is committed (or found to be a duplicate). Throws RATE_LIMITED at
   * once when the pipeline is over capacity.
   */
  submit(batch: IngestBatch): Promise<IngestResult> {
    const size = batch.exposures.length + batch.tracks.length;
    if (
      this.#pendingBatches > 0 &&
      (this.#pendingBatches >= this.#limits.maxPendingBatches ||
        this.#pendingEvents + size > this.#limits.maxPendingEvents)
    ) {
      this.stats.refusedBatches++;
      return Promise.reject(
        new AppError('RATE_LIMITED', 'event ingestion is over capacity; retry the same batch later', {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        }),
      );
    }
    this.#pendingEvents += size;
    this.#pendingBatches++;
    const marked =
      this.#config === undefined || batch.exposures.length === 0
        ? batch
        : { ...batch, exposures: markHoldbacks(this.#config(batch.environment), batch.exposures) };
    return new Promise<IngestResult>((resolve, reject) => {
      this.#queue.push({ batch: marked, size, resolve, reject });
      this.#writer ??= this.#startWriter();
      this.#arrived?.();
    });
  }

  /** Calls `listener` after every transaction (committed or failed) with its duration and size. */
  onTransaction(listener: (record: TransactionRecord) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Most events the next group may hold: `maxGroupEvents`, and with a target duration the events the recent
   * cost per event (total time over total events of the last transactions, so small ones weigh little) fits in it.
   */
  groupEventLimit(): number {
    const { maxGroupEvents } = this.#limits;
    const aim = this.#limits.targetTransactionMs;
    const targetTransactionMs = typeof aim === 'function' ? aim() : aim;
    if (targetTransactionMs === null) return maxGroupEvents;
    let ms = 0;
    let events = 0;
    for (let i = 0; i < ESTIMATE_WINDOW; i++) {
      ms += this.#recentMs[i] as number;
      events += this.#recentEvents[i] as number;
    }
    const msPerEvent = events > 0 ? ms / events : INITIAL_MS_PER_EVENT;
    return Math.max(1, Math.min(maxGroupEvents, Math.floor(targetTransactionMs / msPerEvent)));
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.#writer) await this.#writer;
  }

  /**
   * Starts the writer after the I/O callbacks of this event-loop turn (setImmediate), so the batches of every
   * request read in the same turn share its first transaction; later batches queue while a transaction runs
   * and go together in the next one.
   */
  #startWriter(): Promise<void> {
    return afterPendingIo()
      .then(() => this.#drain())
      .finally(() => {
        // A batch queued between the last group and this callback starts the next writer.
        this.#writer = this.#queue.length > 0 ? this.#startWriter() : undefined;
      });
  }

  async #drain(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      if (this.#queue.length > 0 && inFlight.size < this.#limits.maxInFlight) {
        const group = this.#nextGroup();
        const commit: Promise<void> = this.#commit(group).finally(() => inFlight.delete(commit));
        inFlight.add(commit);
        continue;
      }
      if (inFlight.size === 0) return;
      // Wait for a group to commit, or (with room for another group in flight) for a batch to arrive.
      await new Promise<void>((resume) => {
        if (inFlight.size < this.#limits.maxInFlight) this.#arrived = resume;
        for (const commit of inFlight) void commit.then(resume);
      });
      this.#arrived = undefined;
      // Let the requests that arrived meanwhile be read (admitted or refused) before the next group is cut.
      if (this.#queue.length > 0) await afterPendingIo();
    }
  }

  /** Takes the next group off the queue: at least one batch, more while they fit `groupEventLimit`. */
  #nextGroup(): Pending[] {
    const group: Pending[] = [];
    const limit = this.groupEventLimit();
    let events = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Pending;
      if (group.length > 0 && events + next.size > limit) break;
      group.push(next);
      events += next.size;
      this.#queue.shift();
    }
    return group;
  }

  async #commit(group: Pending[]): Promise<void> {
    // The same batch id twice in one group (a retry racing the original) is written once.
    const first = new Map<string, number>();
    const unique: IngestBatch[] = [];
    const slot = group.map((p) => {
      const key = `${p.batch.environment}\u0000${p.batch.batchId}`;
      let index = first.get(key);
      if (index === undefined) {
        index = unique.length;
        first.set(key, index);
        unique.push(p.batch);
        return { index, repeat: false };
      }
      return { index, repeat: true };
    });
    const sent = this.#elapsed();
    // A group sent while another was in flight waits for it in the store: its transaction starts when that ends.
    const duration = () => {
      const end = this.#elapsed();
      const ms = end - Math.max(sent, this.#lastCommitEnd);
      this.#lastCommitEnd = end;
      return ms;
    };
    try {
      const results = await this.#store.ingest(unique, this.#clock.now());
      this.#recordTransaction(duration(), group);
      this.stats.transactions++;
      group.forEach((p, i) => {
        const { index, repeat } = slot[i] as { index: number; repeat: boolean };
        const result = results[index] as IngestResult;
        const outcome = repeat ? { answer: result.answer, duplicate: true } : result;
        if (outcome.duplicate) this.stats.duplicateBatches++;
        else {
          this.stats.committedBatches++;
          this.stats.committedEvents += p.size;
        }
        p.resolve(outcome);
      });
    } catch (error) {
      this.#recordTransaction(duration(), group);
      for (const p of group) p.reject(error);
    } finally {
      for (const p of group) {
        this.#pendingEvents -= p.size;
        this.#pendingBatches--;
      }
    }
  }

  #recordTransaction(ms: number, group: readonly Pending[]): void {
    let events = 0;
    for (const p of group) events += p.size;
    this.#recentMs[this.#recentNext] = ms;
    this.#recentEvents[this.#recentNext] = events;
    this.#recentNext = (this.#recentNext + 1) % ESTIMATE_WINDOW;
    if (ms > this.stats.longestTransactionMs) this.stats.longestTransactionMs = ms;
    const record = { ms, events, batches: group.length };
    for (const listener of this.#listeners) listener(record);
  }
}
