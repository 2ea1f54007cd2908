/**
 * Exposure logging for remote resolution (`/sdk/v1/resolve`, OFREP): results served by a rollout or experiment
 * rule, or by a surface holdback, are
 * buffered in memory for a moment and written through the ingestion pipeline as internal batches, so a
 * request never waits for a database write. A buffer that cannot be written (over capacity, storage down)
 * is dropped and counted: exposures of remote evaluation are best effort, like an SDK's.
 */
import { randomBytes } from 'node:crypto';
import type { ExposureSink } from '../client-deps.ts';
import type { Clock } from '../clock.ts';
import type { EventPipeline } from './events.service.ts';
import type { ExposureInput } from './events.store.ts';

/** Longest time an exposure waits in the buffer, in milliseconds. */
export const EXPOSURE_FLUSH_MS = 100;
/** Buffered exposures that trigger an immediate flush. */
export const EXPOSURE_FLUSH_EVENTS = 500;

export interface ExposureBufferOptions {
  flushMs?: number;
  flushEvents?: number;
  onError?: (error: unknown, dropped: number) => void;
}

export class ExposureBuffer {
  readonly #pipeline: EventPipeline;
  readonly #clock: Clock;
  readonly #flushMs: number;
  readonly #flushEvents: number;
  readonly #onError: (error: unknown, dropped: number) => void;
  /** environment → (flag, variant, unit) → exposure (the earliest of the buffer). */
  #buffer = new Map<string, Map<string, ExposureInput>>();
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  #sequence = 0;
  readonly #node = randomBytes(6).toString('hex');
  #inFlight = new Set<Promise<void>>();
  dropped = 0;

  constructor(pipeline: EventPipeline, clock: Clock, options: ExposureBufferOptions = {}) {
    this.#pipeline = pipeline;
    this.#clock = clock;
    this.#flushMs = options.flushMs ?? EXPOSURE_FLUSH_MS;
    this.#flushEvents = options.flushEvents ?? EXPOSURE_FLUSH_EVENTS;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** The sink `buildApp` hands to the resolve and OFREP routes. */
  readonly sink: ExposureSink = (principal, context, results) => {
    if (context.unit === undefined) return;
    const ts = this.#clock.now();
    for (const result of results) {
      if (result.inExperiment !== true || result.variant === undefined) continue;
      let env = this.#buffer.get(principal.environment);
      if (!env) {
        env = new Map();
        this.#buffer.set(principal.environment, env);
      }
      const key = `${result.flagKey}\u0000${result.variant}\u0000${context.unit}`;
      if (env.has(key)) continue;
      env.set(key, { flag: result.flagKey, variant: result.variant, unit: context.unit, ts });
      this.#size++;
    }
    if (this.#size >= this.#flushEvents) this.flush();
    else if (this.#size > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#flushMs);
      this.#timer.unref();
    }
  };

  /** Hands the buffered exposures to the pipeline now. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const buffer = this.#buffer;
    this.#buffer = new Map();
    this.#size = 0;
    for (const [environment, entries] of buffer) {
      const exposures = [...entries.values()];
      const batchId = `server-${this.#node}-${++this.#sequence}`;
      const write = this.#pipeline
        .submit({
          environment,
          batchId,
          answer: { batchId, accepted: exposures.length, rejected: [] },
          exposures,
          tracks: [],
        })
        .then(
          () => undefined,
          (error: unknown) => {
            this.dropped += exposures.length;
            this.#onError(error, exposures.length);
          },
        );
      this.#inFlight.add(write);
      void write.finally(() => this.#inFlight.delete(write));
    }
  }

  /** Flushes and waits for every buffered exposure to be written or dropped. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all([...this.#inFlight]);
  }
}
