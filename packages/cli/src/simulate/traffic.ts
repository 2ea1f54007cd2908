/**
 * Real-time simulated traffic for `dimmer simulate`: users arrive at a steady rate, each is evaluated for the
 * chosen flags by the real SDK (a server-key client, which logs the exposures of rollout rules), and its visit's
 * events are tracked when they happen, with their own current timestamps.
 */
import type { DimmerClient } from '@dimmer/sdk';
import {
  BASELINE,
  type Behaviour,
  type Random,
  type SimulatedEvent,
  scaleBehaviour,
  simulateVisit,
} from '../demo/population.ts';

/** Milliseconds in a day: `unitsPerDay` is spread evenly over it. */
export const DAY_MS = 86_400_000;

/** A change to the behaviour of treated users: the rate behind `event` multiplied by `factor`. */
export interface Regression {
  /** The metric the person named (for messages). */
  metric: string;
  event: SimulatedEvent;
  factor: number;
}

export interface TrafficOptions {
  flags: readonly string[];
  unitsPerDay: number;
  /** A visit's events fall within this many milliseconds after the user's first evaluation. */
  visitSpanMs: number;
  regression: Regression | undefined;
  random: Random;
  /** Prefix of the unit ids (`<prefix>-<n>`). */
  prefix: string;
}

/** Counts since the start. */
export interface TrafficTotals {
  users: number;
  /** Per flag, users served the treatment arm of a rollout or experiment. */
  treated: Record<string, number>;
  /** Tracked events handed to the SDK. */
  events: number;
}

interface PendingEvent {
  at: number;
  name: string;
  unit: string;
  value: number | undefined;
}

/** Sends simulated users through `client` as real time passes; call `step(now)` on every tick. */
export class RealtimeTraffic {
  readonly totals: TrafficTotals;
  #owed = 0;
  #last: number | undefined;
  #next = 0;
  /** Events not yet due, ordered by time. */
  #pending: PendingEvent[] = [];

  constructor(
    private readonly client: DimmerClient,
    private readonly options: TrafficOptions,
  ) {
    const treated: Record<string, number> = {};
    for (const flag of options.flags) treated[flag] = 0;
    this.totals = { users: 0, treated, events: 0 };
  }

  /**
   * Moves to `now` (epoch ms): the users owed since the last step arrive (evaluated now), and every event due by
   * `now` is tracked with its own timestamp.
   */
  step(now: number): void {
    const { unitsPerDay } = this.options;
    if (this.#last !== undefined) this.#owed += (unitsPerDay * Math.max(0, now - this.#last)) / DAY_MS;
    this.#last = now;
    let arrived = 0;
    while (this.#owed >= 1) {
      this.#owed -= 1;
      this.#arrive(now);
      arrived++;
    }
    if (arrived > 0) this.#pending.sort((a, b) => a.at - b.at);
    let due = 0;
    while (due < this.#pending.length && (this.#pending[due] as PendingEvent).at <= now) due++;
    for (const e of this.#pending.splice(0, due)) {
      this.client.track(
        e.name,
        e.unit,
        e.value === undefined ? { timestamp: e.at } : { value: e.value, timestamp: e.at },
      );
      this.totals.events++;
    }
  }

  #arrive(now: number): void {
    const { flags, regression, random, prefix, visitSpanMs } = this.options;
    const unit = `${prefix}-${this.#next++}`;
    let treated = false;
    for (const flag of flags) {
      if (this.client.evaluate(flag, { targetingKey: unit }).arm === 'treatment') {
        treated = true;
        this.totals.treated[flag] = (this.totals.treated[flag] ?? 0) + 1;
      }
    }
    this.totals.users++;
    const behaviour: Behaviour =
      treated && regression !== undefined
        ? scaleBehaviour(BASELINE, regression.event, regression.factor)
        : BASELINE;
    for (const event of simulateVisit(random, behaviour, visitSpanMs)) {
      // +1 ms: an event belongs to the visit its exposure opened, never before it.
      this.#pending.push({ at: now + event.offsetMs + 1, name: event.name, unit, value: event.value });
    }
  }
}
