/**
 * Validation of `POST /v1/events` bodies. The batch itself must be well formed (else the whole request is
 * refused); each event is checked on its own, and a bad one is reported by index with the reason while the
 * good ones are kept. Unknown fields are rejected and nothing is coerced.
 */
import { MAX_METRIC_VALUE } from '@dimmer/rollout';
import type { ExposureInput, TrackInput } from './events.store.ts';

/** Largest magnitude of a tracked event's value: `|value| ≤ 1e12` (the range metric caps and floors share). */
export const MAX_EVENT_VALUE = MAX_METRIC_VALUE;
/** Why a browser key's exposure is refused: the server records exposures itself when it resolves. */
export const BROWSER_EXPOSURE_REASON =
  'type: exposures cannot be sent with a browser key; the server records them when it resolves flags';

/** Limits of one batch and of event timestamps. */
export interface EventLimits {
  /** Most events in one batch. */
  maxEvents: number;
  /** How far in the future a timestamp may be, in milliseconds (client clock skew). */
  maxFutureMs: number;
  /** How old a timestamp may be, in milliseconds (also how long raw events are kept). */
  maxAgeMs: number;
}

/** Most events per batch. */
export const MAX_BATCH_EVENTS = 1_000;
/** Timestamps up to 5 minutes ahead of the server clock are accepted, in milliseconds. */
export const DEFAULT_MAX_FUTURE_MS = 5 * 60_000;
/** Timestamps up to 7 days old are accepted, in milliseconds. */
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60_000;
export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxEvents: MAX_BATCH_EVENTS,
  maxFutureMs: DEFAULT_MAX_FUTURE_MS,
  maxAgeMs: DEFAULT_MAX_AGE_MS,
};

const MAX_ID_LENGTH = 128;
const MAX_UNIT_LENGTH = 256;
const BATCH_ID = /^[A-Za-z0-9._:-]+$/;
const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const EXPOSURE_FIELDS = new Set(['type', 'flag', 'variant', 'unit', 'configVersion', 'timestamp']);
const TRACK_FIELDS = new Set(['type', 'name', 'unit', 'value', 'timestamp']);

export interface ParsedBatch {
  batchId: string;
  exposures: ExposureInput[];
  /** The batch index of each of `exposures`, so a later check can refuse one by index. */
  exposureIndexes: number[];
  tracks: TrackInput[];
  rejected: { index: number; reason: string }[];
}

export type ParseBatchResult =
  | { ok: true; value: ParsedBatch }
  | { ok: false; tooLarge: boolean; issues: { path: string; message: string }[] };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    throw new Error(`${field}: expected a string of 1 to ${max} characters, got ${describe(value)}`);
  return value;
}

/** Epoch milliseconds of an ISO 8601 string or an epoch-millisecond integer, or an error naming the problem. */
export function parseTimestamp(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
  } else if (typeof value === 'string' && ISO_8601.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error(`timestamp: expected an ISO 8601 time or epoch milliseconds, got ${describe(value)}`);
}

function checkTime(ts: number, now: number, limits: EventLimits): void {
  if (ts > now + limits.maxFutureMs)
    throw new Error(`timestamp: more than ${Math.round(limits.maxFutureMs / 1000)} s in the future`);
  if (ts < now - limits.maxAgeMs)
    throw new Error(
      `timestamp: older than ${Math.round(limits.maxAgeMs / 3_600_000)} h, the oldest accepted`,
    );
}

function unknownField(event: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(event)) if (!allowed.has(key)) throw new Error(`${key}: unknown field`);
}

function parseEvent(
  event: unknown,
  now: number,
  limits: EventLimits,
  browser: boolean,
): { exposure: ExposureInput } | { track: TrackInput } {
  if (!isObject(event)) throw new Error(`expected an event object, got ${describe(event)}`);
  if (event.type === 'exposure') {
    if (browser) throw new Error(BROWSER_EXPOSURE_REASON);
    unknownField(event, EXPOSURE_FIELDS);
    const flag = text(event.flag, 'flag', MAX_ID_LENGTH);
    const variant = text(event.variant, 'variant', MAX_ID_LENGTH);
    const unit = text(event.unit, 'unit', MAX_UNIT_LENGTH);
    if (event.configVersion !== undefined) {
      const v = event.configVersion;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        throw new Error(`configVersion: expected a non-negative integer, got ${describe(v)}`);
    }
    const ts = parseTimestamp(event.timestamp);
    checkTime(ts, now, limits);
    return { exposure: { flag, variant, unit, ts } };
  }
  if (event.type === 'track') {
    unknownField(event, TRACK_FIELDS);
    const name = text(event.name, 'name', MAX_ID_LENGTH);
    if (!EVENT_NAME.test(name))
      throw new Error('name: expected letters, digits, "_", "." or "-", starting with a letter or digit');
    const unit = text(event.unit, 'unit', MAX_UNIT_LENGTH);
    let value: number | null = null;
    if (event.value !== undefined) {
      if (
        typeof event.value !== 'number' ||
        !Number.isFinite(event.value) ||
        Math.abs(event.value) > MAX_EVENT_VALUE
      )
        throw new Error(
          `value: expected a finite number between ${-MAX_EVENT_VALUE} and ${MAX_EVENT_VALUE}, got ${describe(event.value)}`,
        );
      value = event.value;
    }
    const ts = parseTimestamp(event.timestamp);
    checkTime(ts, now, limits);
    return { track: { name, unit, ts, value, client: browser } };
  }
  throw new Error(`type: expected "exposure" or "track", got ${describe(event.type)}`);
}

/**
 * Parses a batch body at server time `now` (epoch ms). With `browser` (a browser key sent it) exposures are
 * refused by index and tracked events are marked client-reported.
 */
export function parseEventBatch(
  body: unknown,
  now: number,
  limits: EventLimits = DEFAULT_EVENT_LIMITS,
  browser = false,
): ParseBatchResult {
  const issues: { path: string; message: string }[] = [];
  if (!isObject(body))
    return {
      ok: false,
      tooLarge: false,
      issues: [{ path: '', message: 'expected an object { batchId, events }' }],
    };
  for (const key of Object.keys(body))
    if (key !== 'batchId' && key !== 'events') issues.push({ path: key, message: 'unknown field' });
  const batchId = body.batchId;
  if (
    typeof batchId !== 'string' ||
    batchId.length === 0 ||
    batchId.length > MAX_ID_LENGTH ||
    !BATCH_ID.test(batchId)
  )
    issues.push({
      path: 'batchId',
      message: `expected 1 to ${MAX_ID_LENGTH} letters, digits, ".", "_", ":" or "-", got ${describe(batchId)}`,
    });
  const events = body.events;
  if (!Array.isArray(events))
    issues.push({ path: 'events', message: `expected an array, got ${describe(events)}` });
  else if (events.length > limits.maxEvents)
    return {
      ok: false,
      tooLarge: true,
      issues: [
        { path: 'events', message: `at most ${limits.maxEvents} events per batch, got ${events.length}` },
      ],
    };
  if (issues.length > 0 || !Array.isArray(events)) return { ok: false, tooLarge: false, issues };
  const parsed: ParsedBatch = {
    batchId: batchId as string,
    exposures: [],
    exposureIndexes: [],
    tracks: [],
    rejected: [],
  };
  events.forEach((event, index) => {
    try {
      const one = parseEvent(event, now, limits, browser);
      if ('exposure' in one) {
        parsed.exposures.push(one.exposure);
        parsed.exposureIndexes.push(index);
      } else parsed.tracks.push(one.track);
    } catch (error) {
      parsed.rejected.push({ index, reason: (error as Error).message });
    }
  });
  return { ok: true, value: parsed };
}
