/**
 * The simulated users, driven through the real SDK: each new user is evaluated for every demo flag by a
 * server-side client (which logs the exposures of rollout rules), then its visit's events are tracked with
 * timestamps on the shared simulated clock.
 */
import type { DimmerClient } from '@dimmer/sdk';
import type { DemoClock } from './clock.ts';
import { BASELINE, type Random, simulateVisit } from './population.ts';
import type { DemoChange, DemoSettings } from './scenario.ts';

/** What one interval of traffic produced. */
export interface IntervalTraffic {
  users: number;
  /** Tracked events (exposures are counted by the SDK, not here). */
  events: number;
  /** Per flag key, users served the treatment. */
  treated: Record<string, number>;
}

/** Sends the demo's users through `client`, one interval at a time. */
export class TrafficDriver {
  #next = 0;

  constructor(
    private readonly client: DimmerClient,
    private readonly clock: DemoClock,
    private readonly options: {
      settings: DemoSettings;
      changes: readonly DemoChange[];
      random: Random;
      /** Prefix of the user ids (`<prefix>-<n>`). */
      prefix: string;
    },
  ) {}

  /**
   * Simulates the interval that starts at `start` (epoch ms): users arrive evenly spread over it, each is
   * evaluated at arrival (the clock is moved there) and tracks its events up to `visitSpanMs` later.
   */
  runInterval(start: number): IntervalTraffic {
    const { settings, changes, random, prefix } = this.options;
    const users = settings.usersPerInterval;
    const treated: Record<string, number> = {};
    for (const change of changes) treated[change.flag.key] = 0;
    let events = 0;
    for (let i = 0; i < users; i++) {
      const arrival = start + Math.floor((i * settings.intervalMs) / users);
      this.clock.set(arrival);
      const unit = `${prefix}-${this.#next++}`;
      let behaviour = BASELINE;
      for (const change of changes) {
        const key = change.flag.key;
        if (this.client.getBooleanValue(key, false, { targetingKey: unit })) {
          behaviour = change.effect(behaviour);
          treated[key] = (treated[key] ?? 0) + 1;
        }
      }
      for (const event of simulateVisit(random, behaviour, settings.visitSpanMs)) {
        // +1 ms: an event belongs to the visit that the exposure opened, never before it.
        const timestamp = arrival + event.offsetMs + 1;
        this.client.track(
          event.name,
          unit,
          event.value === undefined ? { timestamp } : { value: event.value, timestamp },
        );
        events++;
      }
    }
    return { users, events, treated };
  }
}
