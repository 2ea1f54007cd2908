/**
 * What a client may write through `POST /v1/events`, beyond a well-formed body:
 * - every exposure must name a flag of the environment and, when the flag has a rollout or experiment rule,
 *   match the assignment: the unit's bucket under the flag's salt (hash v1) must fall in a slice of that rule
 *   serving the exposure's variant (treatment range for treatment, control range for control). The exposure's `unit` is
 *   the rule's bucketing unit (the `bucketBy` attribute's value, else the targeting key), which is what the
 *   SDKs send. Otherwise the exposure is refused by index.
 *   A unit in the flag's surface holdback is served the default variant: its exposure must name that.
 * - each client key may send a bounded number of events per minute (its own quota or the server default).
 */
import { bucketFromPrefix, type CompiledConfig, type CompiledFlag, inHoldback } from '@dimmer/core';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { ExposureInput } from './events.store.ts';

/** One refused event of a batch: its index and why. */
export interface RejectedEvent {
  index: number;
  reason: string;
}

/** The slice of a managed (rollout or experiment) rule that serves `bucket`, if any. */
function managedSlice(flag: CompiledFlag, bucket: number) {
  for (const rule of flag.rules) {
    if (rule.rollout === undefined && rule.experiment === undefined) continue;
    for (const slice of rule.slices) if (bucket >= slice.start && bucket < slice.end) return slice;
  }
  return undefined;
}

/** Why an exposure does not match the assignment, or null when it does. */
function exposureProblem(config: CompiledConfig | undefined, exposure: ExposureInput): string | null {
  const flag = config?.flags.get(exposure.flag);
  if (flag === undefined) return `flag: "${exposure.flag}" is not a flag of this environment`;
  if (flag.holdback !== null && inHoldback(flag, exposure.unit))
    return exposure.variant === flag.defaultVariant
      ? null
      : `variant: unit "${exposure.unit}" is in the holdback of surface "${flag.holdback.surface}", which is served "${flag.defaultVariant}", not "${exposure.variant}"`;
  // Without a rollout or experiment rule no comparison reads the exposure: it is kept and changes nothing.
  if (!flag.rules.some((r) => r.rollout !== undefined || r.experiment !== undefined)) return null;
  const bucket = bucketFromPrefix(flag.prefix, exposure.unit);
  const slice = managedSlice(flag, bucket);
  if (slice === undefined)
    return `unit: "${exposure.unit}" is in bucket ${bucket}, outside the split of flag "${exposure.flag}"`;
  if (slice.variant !== exposure.variant)
    return `variant: unit "${exposure.unit}" is in bucket ${bucket}, which flag "${exposure.flag}" serves "${slice.variant}"${slice.arm ? ` (${slice.arm})` : ''}, not "${exposure.variant}"`;
  return null;
}

/**
 * Splits a batch's exposures into those matching the environment's current assignment and the refused ones
 * (with their batch indexes). `indexes[i]` is the batch index of `exposures[i]`.
 */
export function admitExposures(
  config: CompiledConfig | undefined,
  exposures: readonly ExposureInput[],
  indexes: readonly number[],
): { exposures: ExposureInput[]; rejected: RejectedEvent[] } {
  const kept: ExposureInput[] = [];
  const rejected: RejectedEvent[] = [];
  exposures.forEach((exposure, i) => {
    const problem = exposureProblem(config, exposure);
    if (problem === null) kept.push(exposure);
    else rejected.push({ index: indexes[i] as number, reason: problem });
  });
  return { exposures: kept, rejected };
}

/**
 * The exposures with their surface holdback marked (`holdback: { surface, held }`) for flags whose surface keeps
 * one in `config`; others unchanged.
 */
export function markHoldbacks(
  config: CompiledConfig | undefined,
  exposures: readonly ExposureInput[],
): ExposureInput[] {
  if (config === undefined) return [...exposures];
  return exposures.map((e) => {
    const flag = config.flags.get(e.flag);
    if (flag?.holdback == null) return e;
    return { ...e, holdback: { surface: flag.holdback.surface, held: inHoldback(flag, e.unit) } };
  });
}

const MINUTE_MS = 60_000;
/** Keys with a window before old windows are dropped (bounds the memory of the quotas). */
const MAX_TRACKED_KEYS = 10_000;

/**
 * Per-key event quotas over fixed one-minute windows. `take` either counts a whole batch against the key's
 * window or refuses it (RATE_LIMITED with the seconds until the window ends); a refused batch counts nothing.
 */
export class EventQuotas {
  readonly #clock: Clock;
  readonly #defaultPerMinute: number;
  readonly #windows = new Map<string, { start: number; used: number }>();

  /** `defaultPerMinute` applies to keys without their own quota (settings: DIMMER_EVENTS_PER_MINUTE_PER_KEY). */
  constructor(clock: Clock, defaultPerMinute: number) {
    this.#clock = clock;
    this.#defaultPerMinute = defaultPerMinute;
  }

  /** Counts `events` for `keyId` against `perMinute` (the server default when null or absent). */
  take(keyId: string, events: number, perMinute?: number | null): void {
    const limit = perMinute ?? this.#defaultPerMinute;
    const now = this.#clock.now();
    const start = now - (now % MINUTE_MS);
    let window = this.#windows.get(keyId);
    if (window === undefined || window.start !== start) {
      if (this.#windows.size > MAX_TRACKED_KEYS) this.#prune(start);
      window = { start, used: 0 };
      this.#windows.set(keyId, window);
    }
    if (window.used + events > limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((start + MINUTE_MS - now) / 1000));
      throw new AppError(
        'RATE_LIMITED',
        `this client key may send ${limit} events per minute; ${window.used} were sent this minute and the batch has ${events}`,
        { retryAfterSeconds, eventsPerMinute: limit },
      );
    }
    window.used += events;
  }

  #prune(start: number): void {
    for (const [key, window] of this.#windows) if (window.start !== start) this.#windows.delete(key);
  }
}
