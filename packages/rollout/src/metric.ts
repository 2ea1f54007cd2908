// The metric definition shared by the server (which stores it and aggregates events into sufficient
// statistics) and the rollout logic (which needs its kind, harm direction, margin and category).

import type { ValidationResult } from '@dimmer/core';
import { MAX_DESCRIPTION_LENGTH, MAX_KEY_LENGTH } from '@dimmer/core';
import type { Direction, QuantileScope, MetricKind as StatsMetricKind } from '@dimmer/stats';
import { DAY_MS, parseDuration } from './duration.ts';
import {
  checkPositive,
  child,
  describe,
  expectObject,
  expectOneOf,
  type Fields,
  Issues,
  rejectUnknownFields,
  requireField,
} from './issues.ts';

export type { Direction, QuantileScope } from '@dimmer/stats';

/**
 * Kinds of metric: the stats package's moment-based kinds (`proportion`, `mean`, `ratio`) and `quantile` (a
 * percentile of per-unit or per-event values, compared with `compareQuantiles`).
 */
export type MetricKind = StatsMetricKind | 'quantile';

/** Which kind of harm a metric watches; a plan without one of them gets a warning. */
export type MetricCategory = 'reliability' | 'experience' | 'business';
/** How a metric turns a unit's events into a number: how many there were, or the sum of their values. */
export type EventAggregate = 'count' | 'sum';

/** The closed sets of the metric fields, in the order the messages list them. */
export const METRIC_KINDS: readonly MetricKind[] = ['proportion', 'mean', 'ratio', 'quantile'];
export const QUANTILE_SCOPES: readonly QuantileScope[] = ['unit', 'event'];
/** Longest name of a quantile metric's value unit ("ms", "seconds", "bytes"). */
export const MAX_VALUE_UNIT_LENGTH = 32;
export const DIRECTIONS: readonly Direction[] = ['higher_is_worse', 'lower_is_worse'];
export const METRIC_CATEGORIES: readonly MetricCategory[] = ['reliability', 'experience', 'business'];
export const EVENT_AGGREGATES: readonly EventAggregate[] = ['count', 'sum'];
/** Per-unit observation window after exposure when a metric names none: 24 hours, in milliseconds. */
export const DEFAULT_METRIC_WINDOW_MS = DAY_MS;
/** The window value meaning "everything from exposure until the look" (for short rollouts). */
export const WINDOW_UNTIL_NOW = 'until_now';

/** One side of a ratio: the per-unit count or sum of the values of one tracked event. */
export interface EventMeasure {
  event: string;
  aggregate: EventAggregate;
}

interface MetricBase {
  key: string;
  description?: string;
  direction: Direction;
  /** Relative non-inferiority margin (> 0): 0.02 means "at most 2% worse than control". */
  margin: number;
  /** Per-unit observation window after exposure in milliseconds, or `until_now`. */
  window: number | typeof WINDOW_UNTIL_NOW;
  category: MetricCategory;
  /** Per-unit values (numerator values for ratios) above this are capped before summing. */
  cap?: number;
  /** Per-unit values (numerator values for ratios) below this are raised to it before summing. */
  floor?: number;
  /**
   * Whether events sent with a browser key count for this metric (default false: only server keys). Browser
   * events count only for units the server itself recorded an exposure for.
   */
  clientReportable?: boolean;
}

/**
 * A metric over tracked events. `proportion`: share of units with at least one `event`; `mean`: per-unit count
 * or sum of `event`, averaged over units; `ratio`: Σ numerator / Σ denominator across units.
 */
export type MetricDefinition =
  | (MetricBase & { kind: 'proportion'; event: string })
  | (MetricBase & { kind: 'mean'; event: string; aggregate: EventAggregate })
  | (MetricBase & { kind: 'ratio'; numerator: EventMeasure; denominator: EventMeasure })
  | (MetricBase & QuantileFields);

/**
 * A quantile metric: the `q`-quantile (0 < q < 1; 0.99 for p99) of the values of `event`. Scope `unit`: one value
 * per unit, the mean of its event values within the window (a unit with one event, e.g. time to first render,
 * contributes that value); scope `event`: every event's value (e.g. request latency, several per unit). Cap and
 * floor clamp each event value before it is counted. `valueUnit` names the values' unit for display ("ms").
 */
export interface QuantileFields {
  kind: 'quantile';
  event: string;
  q: number;
  scope: QuantileScope;
  valueUnit?: string;
}

const FIELDS_BY_KIND: Record<MetricKind, readonly string[]> = {
  proportion: ['event'],
  mean: ['event', 'aggregate'],
  ratio: ['numerator', 'denominator'],
  quantile: ['event', 'q', 'scope', 'valueUnit'],
};
const BASE_FIELDS = [
  'key',
  'description',
  'kind',
  'direction',
  'margin',
  'window',
  'category',
  'cap',
  'floor',
  'clientReportable',
];
/** Largest magnitude of a tracked event's value, and so of a cap or floor (the event API's range). */
export const MAX_METRIC_VALUE = 1e12;
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function checkName(value: unknown, path: string, issues: Issues, what: string): value is string {
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY_LENGTH && KEY.test(value))
    return true;
  issues.add(
    path,
    `expected ${what}: 1 to ${MAX_KEY_LENGTH} letters, digits, "_", "." or "-" starting with a letter or digit, got ${describe(value)}`,
  );
  return false;
}

function checkMeasure(value: unknown, path: string, issues: Issues): EventMeasure | null {
  if (!expectObject(value, path, issues, 'an event measure {event, aggregate}')) return null;
  rejectUnknownFields(value, ['event', 'aggregate'], path, issues);
  const okEvent =
    requireField(value, 'event', path, issues) &&
    checkName(value.event, child(path, 'event'), issues, 'an event name');
  const okAgg =
    requireField(value, 'aggregate', path, issues) &&
    expectOneOf(value.aggregate, EVENT_AGGREGATES, child(path, 'aggregate'), issues);
  return okEvent && okAgg
    ? { event: value.event as string, aggregate: value.aggregate as EventAggregate }
    : null;
}

function checkQuantileFields(input: Fields, issues: Issues): Fields {
  if (requireField(input, 'event', '', issues)) checkName(input.event, 'event', issues, 'an event name');
  if (requireField(input, 'q', '', issues)) {
    const q = input.q;
    if (typeof q !== 'number' || !Number.isFinite(q) || q <= 0 || q >= 1)
      issues.add(
        'q',
        `expected a quantile strictly between 0 and 1 such as 0.99 for p99, got ${describe(q)}`,
      );
  }
  if (requireField(input, 'scope', '', issues)) expectOneOf(input.scope, QUANTILE_SCOPES, 'scope', issues);
  if (Object.hasOwn(input, 'valueUnit')) {
    const u = input.valueUnit;
    if (typeof u !== 'string' || u.length === 0 || u.length > MAX_VALUE_UNIT_LENGTH)
      issues.add(
        'valueUnit',
        `expected the values' unit as a string of 1 to ${MAX_VALUE_UNIT_LENGTH} characters such as "ms", got ${describe(u)}`,
      );
  }
  return { event: input.event };
}

/**
 * Validates a metric definition as sent to the admin API: rejects unknown fields, never coerces, fills the
 * window (default 24 h, stored in milliseconds) and reports every problem with its JSON path.
 */
export function validateMetricDefinition(input: unknown): ValidationResult<MetricDefinition> {
  const issues = new Issues();
  if (!expectObject(input, '', issues, 'a metric object')) return issues.result(input as MetricDefinition);
  const kindOk =
    requireField(input, 'kind', '', issues) && expectOneOf(input.kind, METRIC_KINDS, 'kind', issues);
  const kind = kindOk ? (input.kind as MetricKind) : null;
  const allowed = [...BASE_FIELDS, ...(kind ? FIELDS_BY_KIND[kind] : Object.values(FIELDS_BY_KIND).flat())];
  rejectUnknownFields(input, allowed, '', issues);
  if (requireField(input, 'key', '', issues)) checkName(input.key, 'key', issues, 'a metric key');
  if (Object.hasOwn(input, 'description')) {
    if (typeof input.description !== 'string' || input.description.length > MAX_DESCRIPTION_LENGTH)
      issues.add(
        'description',
        `expected a string of at most ${MAX_DESCRIPTION_LENGTH} characters, got ${describe(input.description)}`,
      );
  }
  if (requireField(input, 'direction', '', issues))
    expectOneOf(input.direction, DIRECTIONS, 'direction', issues);
  if (requireField(input, 'margin', '', issues))
    checkPositive(input.margin, 'margin', issues, 'a relative margin such as 0.02 for 2%');
  if (requireField(input, 'category', '', issues))
    expectOneOf(input.category, METRIC_CATEGORIES, 'category', issues);
  let observation: number | typeof WINDOW_UNTIL_NOW = DEFAULT_METRIC_WINDOW_MS;
  const rawWindow = input.window;
  if (rawWindow === WINDOW_UNTIL_NOW) observation = WINDOW_UNTIL_NOW;
  else if (Object.hasOwn(input, 'window')) {
    const parsed = parseDuration(rawWindow, 'window');
    if (!parsed.ok) issues.list.push(...parsed.issues);
    else if (parsed.value === 0) issues.add('window', 'expected a duration longer than zero, or "until_now"');
    else observation = parsed.value;
  }
  if (Object.hasOwn(input, 'cap')) {
    if (kind === 'proportion') issues.add('cap', 'a proportion metric counts units, so it cannot be capped');
    else if (
      checkPositive(input.cap, 'cap', issues, 'a cap on per-unit values') &&
      input.cap > MAX_METRIC_VALUE
    )
      issues.add('cap', `expected at most ${MAX_METRIC_VALUE}, got ${describe(input.cap)}`);
  }
  if (Object.hasOwn(input, 'floor')) {
    const floor = input.floor;
    if (kind === 'proportion')
      issues.add('floor', 'a proportion metric counts units, so it cannot have a floor');
    else if (typeof floor !== 'number' || !Number.isFinite(floor) || Math.abs(floor) > MAX_METRIC_VALUE)
      issues.add(
        'floor',
        `expected a floor on per-unit values between ${-MAX_METRIC_VALUE} and ${MAX_METRIC_VALUE}, got ${describe(floor)}`,
      );
    else if (typeof input.cap === 'number' && floor >= input.cap)
      issues.add('floor', `expected a floor below the cap ${input.cap}, got ${floor}`);
  }
  if (Object.hasOwn(input, 'clientReportable') && typeof input.clientReportable !== 'boolean')
    issues.add('clientReportable', `expected true or false, got ${describe(input.clientReportable)}`);
  let extra: Fields = {};
  if (kind === 'quantile') extra = checkQuantileFields(input, issues);
  else if (kind === 'proportion' || kind === 'mean') {
    if (requireField(input, 'event', '', issues)) checkName(input.event, 'event', issues, 'an event name');
    extra = { event: input.event };
    if (kind === 'mean') {
      if (requireField(input, 'aggregate', '', issues))
        expectOneOf(input.aggregate, EVENT_AGGREGATES, 'aggregate', issues);
      extra.aggregate = input.aggregate;
    }
  } else if (kind === 'ratio') {
    const num = requireField(input, 'numerator', '', issues)
      ? checkMeasure(input.numerator, 'numerator', issues)
      : null;
    const den = requireField(input, 'denominator', '', issues)
      ? checkMeasure(input.denominator, 'denominator', issues)
      : null;
    extra = { numerator: num, denominator: den };
  }
  const value = { ...input, ...extra, window: observation } as unknown as MetricDefinition;
  return issues.result(value);
}
