// Quantile-metric scenarios of the statistics simulation: A/A false rollbacks of p99 (and p50) guardrails on
// log-normal and heavy-tailed (log-t, 3 degrees of freedom) latency, for `unit` scope (one value per unit) and
// `event` scope (1–100 events per unit with a unit-level random effect), and the power to catch a +20% p99
// regression that leaves the mean unchanged, beside the same sequential test run on the mean.
//
// Every unit and every event is drawn (no shortcut through sufficient statistics): the sketches and the clustered
// statistics are built by the library's own update functions, compared by compareQuantiles and mapped onto the
// guardrail estimate with quantileGuardrailEstimate, exactly what the server will call. Plan: 10% for days 1–2,
// then 50% for days 3–7, daily looks; information on the sample-size scale N = Σ_c n_T·n_C/(n_T + n_C); the
// rollback test spends α_m = 0.05/6 with ρ = 0.5 and no α before the minimum information (looks that do not
// qualify are skipped).

import {
  addToSketch,
  addUnitToQuantileStats,
  type CohortStats,
  combineCohorts,
  compareQuantiles,
  createEventQuantileStats,
  createSketch,
  type EventQuantileStats,
  groupSequentialBoundaries,
  normalQuantile,
  QUANTILE_MIN_EVENT_UNITS,
  QUANTILE_MIN_TAIL_COUNT,
  type QuantileSketch,
  quantileGuardrailEstimate,
  type SufficientStats,
} from '../src/index.ts';
import { Rng } from './prng.ts';
import type { Row } from './scenarios.ts';

const GUARDRAILS = 6;
const ALPHA_PER_METRIC = 0.05 / GUARDRAILS;
const FAMILY_ALPHA = 0.05;
const SPENDING = { kind: 'power', rho: 0.5 } as const;
/** Stages: reach and last day. */
const STAGES = [
  { reach: 0.1, lastDay: 2 },
  { reach: 0.5, lastDay: 7 },
];
const DAYS = 7;
/**
 * Units a day: unit scope (one value each) and event scope (1–100 events each, 50.5 on average), for the A/A runs
 * and, larger, for the power runs (a p99 needs thousands of units).
 */
const UNITS_PER_DAY = {
  aa: { unit: 2_000, event: 100 },
  power: { unit: 5_000, event: 200 },
} as const;
const MAX_EVENTS_PER_UNIT = 100;
const MEAN_EVENTS_PER_UNIT = (1 + MAX_EVENTS_PER_UNIT) / 2;
/** Log-scale location of latency (e^3 ≈ 20 ms), its spread, and the unit random effect in event scope. */
const LOG_LOCATION = 3;
const UNIT_SIGMA = 1;
const EVENT_SIGMA = 0.8;
const UNIT_EFFECT_SIGMA = 0.5;
/** Scale of the log-t (3 df) noise, so its interquartile range is close to the log-normal's. */
const LOG_T_SCALE = 0.6;
const LOG_T_DF = 3;
const REGRESSION = 1.2;

type Scope = 'unit' | 'event';
type Tail = 'log-normal' | 'log-t(3)';

interface Model {
  scope: Scope;
  unitsPerDay: number;
  tail: Tail;
  /** Log-scale spread of the treatment's noise and its location shift (both 0-effect under A/A). */
  treatment: { sigma: number; shift: number };
}

function stageOf(day: number): number {
  return STAGES.findIndex((s) => day <= s.lastDay);
}

function split(day: number, unitsPerDay: number): { stage: number; nT: number; nC: number } {
  const stage = stageOf(day);
  const nT = Math.round(unitsPerDay * (STAGES[stage]?.reach ?? 0));
  return { stage, nT, nC: unitsPerDay - nT };
}

function noise(rng: Rng, tail: Tail): number {
  if (tail === 'log-normal') return rng.normal();
  const chi2 = 2 * rng.gamma(LOG_T_DF / 2);
  return (LOG_T_SCALE * rng.normal()) / Math.sqrt(chi2 / LOG_T_DF);
}

/**
 * The spread s′ and location shift of a log-normal with spread s whose q-quantile is `factor` times higher and
 * whose mean is unchanged: z_q(s′ − s) − (s′² − s²)/2 = ln factor, shift = −(s′² − s²)/2.
 */
export function tailShift(s: number, q: number, factor: number): { sigma: number; shift: number } {
  const z = normalQuantile(q);
  const f = (x: number) => z * (x - s) - (x * x - s * s) / 2 - Math.log(factor);
  let lo = s;
  let hi = z; // f rises on [s, z]
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  const sigma = (lo + hi) / 2;
  return { sigma, shift: -(sigma * sigma - s * s) / 2 };
}

/** Planned N (sample-size scale) after each day, and whether each look may spend α (minimum information). */
function plan(scope: Scope, perDay: number, q: number): { fractions: number[]; qualifies: boolean[] } {
  const cohorts = STAGES.map(() => ({ t: 0, c: 0 }));
  const info: number[] = [];
  const qualifies: boolean[] = [];
  for (let day = 1; day <= DAYS; day++) {
    const { stage, nT, nC } = split(day, perDay);
    const c = cohorts[stage] as { t: number; c: number };
    c.t += nT;
    c.c += nC;
    info.push(cohorts.reduce((a, x) => a + (x.t > 0 && x.c > 0 ? (x.t * x.c) / (x.t + x.c) : 0), 0));
    const smallUnits = Math.min(...['t', 'c'].map((k) => cohorts.reduce((a, x) => a + x[k as 't' | 'c'], 0)));
    const values = scope === 'unit' ? smallUnits : smallUnits * MEAN_EVENTS_PER_UNIT;
    qualifies.push(
      values * Math.min(q, 1 - q) >= QUANTILE_MIN_TAIL_COUNT &&
        (scope === 'unit' || smallUnits >= QUANTILE_MIN_EVENT_UNITS),
    );
  }
  const max = info[DAYS - 1] as number;
  return { fractions: info.map((x) => x / max), qualifies };
}

/** Boundaries per day (+∞ where the look does not qualify), from the planned fractions of qualifying looks. */
function boundaries(scope: Scope, perDay: number, q: number): number[] {
  const { fractions, qualifies } = plan(scope, perDay, q);
  const spent = groupSequentialBoundaries({
    alpha: ALPHA_PER_METRIC,
    spending: SPENDING,
    informationFractions: fractions.filter((_, i) => qualifies[i]),
  });
  let k = 0;
  return qualifies.map((ok) => (ok ? (spent[k++] as number) : Number.POSITIVE_INFINITY));
}

interface Arm {
  sketch: QuantileSketch;
  events: EventQuantileStats;
  /** The mean (unit scope) or ratio of sums (event scope) of the same values, for the contrast. */
  sums: SufficientStats;
}

function emptyArm(): Arm {
  return {
    sketch: createSketch(),
    events: createEventQuantileStats(),
    sums: { n: 0, sumY: 0, sumY2: 0, sumD: 0, sumD2: 0, sumYD: 0 },
  };
}

function drawUnits(rng: Rng, model: Model, arm: 'treatment' | 'control', n: number, into: Arm): void {
  const sigma =
    arm === 'treatment' ? model.treatment.sigma : model.scope === 'unit' ? UNIT_SIGMA : EVENT_SIGMA;
  const location = LOG_LOCATION + (arm === 'treatment' ? model.treatment.shift : 0);
  const s = into.sums;
  for (let u = 0; u < n; u++) {
    if (model.scope === 'unit') {
      const y = Math.exp(location + sigma * noise(rng, model.tail));
      addToSketch(into.sketch, y);
      s.n += 1;
      s.sumY += y;
      s.sumY2 += y * y;
      continue;
    }
    const effect = UNIT_EFFECT_SIGMA * rng.normal();
    const count = 1 + Math.floor(rng.uniform() * MAX_EVENTS_PER_UNIT);
    const values = new Array<number>(count);
    let sum = 0;
    for (let e = 0; e < count; e++) {
      const y = Math.exp(location + effect + sigma * noise(rng, model.tail));
      values[e] = y;
      sum += y;
    }
    addUnitToQuantileStats(into.events, values);
    s.n += 1;
    s.sumY += sum;
    s.sumY2 += sum * sum;
    s.sumD = (s.sumD ?? 0) + count;
    s.sumD2 = (s.sumD2 ?? 0) + count * count;
    s.sumYD = (s.sumYD ?? 0) + sum * count;
  }
}

interface RunResult {
  /** Per quantile: replications rolled back by the end of each day (cumulative). */
  quantile: Map<number, number[]>;
  /** The same for the mean (unit scope) or the ratio of sums (event scope), harm = higher. */
  mean: number[];
  /** Per replication, per quantile: the day of rollback (0 = never), for family-wise rates. */
  rolledDay: Map<number, Int8Array>;
}

/** Runs `reps` rollouts of one metric model, testing each quantile in `quantiles` and the mean at every look. */
function runModel(reps: number, seed: number, model: Model, quantiles: number[]): RunResult {
  const rng = new Rng(seed);
  const perDay = model.unitsPerDay;
  const bounds = new Map(quantiles.map((q) => [q, boundaries(model.scope, perDay, q)] as const));
  // The mean (or ratio) test uses the boundaries of the first quantile's test: the same looks and spending.
  const meanBounds = bounds.get(quantiles[0] as number) as number[];
  const quantile = new Map(quantiles.map((q) => [q, new Array<number>(DAYS).fill(0)] as const));
  const rolledDay = new Map(quantiles.map((q) => [q, new Int8Array(reps)] as const));
  const mean = new Array<number>(DAYS).fill(0);
  for (let rep = 0; rep < reps; rep++) {
    const cohorts = STAGES.map(() => ({ treatment: emptyArm(), control: emptyArm() }));
    const done = new Map<number, number>(quantiles.map((q) => [q, 0]));
    let meanDone = 0;
    for (let day = 1; day <= DAYS; day++) {
      const { stage, nT, nC } = split(day, perDay);
      const cohort = cohorts[stage] as { treatment: Arm; control: Arm };
      drawUnits(rng, model, 'treatment', nT, cohort.treatment);
      drawUnits(rng, model, 'control', nC, cohort.control);
      const live = cohorts.filter((c) => c.treatment.sums.n > 0);
      for (const q of quantiles) {
        if ((done.get(q) as number) > 0) continue;
        const b = bounds.get(q)?.[day - 1] as number;
        if (!Number.isFinite(b)) continue;
        const comparison =
          model.scope === 'unit'
            ? compareQuantiles({
                scope: 'unit',
                quantile: q,
                cohorts: live.map((c) => ({ treatment: c.treatment.sketch, control: c.control.sketch })),
              })
            : compareQuantiles({
                scope: 'event',
                quantile: q,
                cohorts: live.map((c) => ({ treatment: c.treatment.events, control: c.control.events })),
              });
        if (comparison === null || !comparison.minimumInformationMet) continue;
        const estimate = quantileGuardrailEstimate(comparison);
        if (estimate.delta / estimate.se >= b) done.set(q, day);
      }
      if (meanDone === 0) {
        const est = combineCohorts(
          model.scope === 'unit' ? 'mean' : 'ratio',
          live.map((c): CohortStats => ({ treatment: c.treatment.sums, control: c.control.sums })),
        );
        const b = meanBounds[day - 1] as number;
        if (est !== null && Number.isFinite(b) && est.delta / est.se >= b) meanDone = day;
      }
    }
    for (const q of quantiles) {
      const d = done.get(q) as number;
      (rolledDay.get(q) as Int8Array)[rep] = d;
      const counts = quantile.get(q) as number[];
      for (let k = d; d > 0 && k <= DAYS; k++) counts[k - 1] = (counts[k - 1] as number) + 1;
    }
    for (let k = meanDone; meanDone > 0 && k <= DAYS; k++) mean[k - 1] = (mean[k - 1] as number) + 1;
  }
  return { quantile, mean, rolledDay };
}

function mcse(p: number, reps: number): number {
  return Math.sqrt((p * (1 - p)) / reps);
}

function atMost(scenario: string, measured: number, bound: number, reps: number, note: string): Row {
  const limit = bound + 2 * mcse(bound, reps);
  return {
    scenario,
    target: `≤ ${limit.toFixed(4)} (${bound.toFixed(4)} + 2·MCSE)`,
    compareTo: limit,
    measured,
    mcse: mcse(Math.max(measured, 1 / reps), reps),
    pass: measured <= limit,
    unit: 'probability',
    note,
  };
}

function reported(scenario: string, measured: number, reps: number, target: string, note: string): Row {
  return {
    scenario,
    target,
    compareTo: 0,
    measured,
    mcse: mcse(measured, reps),
    pass: null,
    unit: 'probability',
    note,
  };
}

const AA_MODELS: Model[] = [
  {
    scope: 'unit',
    unitsPerDay: UNITS_PER_DAY.aa.unit,
    tail: 'log-normal',
    treatment: { sigma: UNIT_SIGMA, shift: 0 },
  },
  {
    scope: 'unit',
    unitsPerDay: UNITS_PER_DAY.aa.unit,
    tail: 'log-t(3)',
    treatment: { sigma: UNIT_SIGMA, shift: 0 },
  },
  {
    scope: 'event',
    unitsPerDay: UNITS_PER_DAY.aa.event,
    tail: 'log-normal',
    treatment: { sigma: EVENT_SIGMA, shift: 0 },
  },
  {
    scope: 'event',
    unitsPerDay: UNITS_PER_DAY.aa.event,
    tail: 'log-t(3)',
    treatment: { sigma: EVENT_SIGMA, shift: 0 },
  },
];

function describeModel(m: Model): string {
  const perDay = m.unitsPerDay;
  const events =
    m.scope === 'unit'
      ? 'one value per unit'
      : `1–${MAX_EVENTS_PER_UNIT} events per unit, unit effect N(0, ${UNIT_EFFECT_SIGMA}²) on the log scale`;
  return `${perDay.toLocaleString('en')} units/day, 10% (days 1–2) → 50% (days 3–7), ${events}`;
}

/** Replications of the unit-scope and the (about 50 times costlier) event-scope runs. */
export interface QuantileReps {
  unit: number;
  event: number;
}

/** The full run's cap on replications: unit scope up to 4,000, event scope up to 1,000 (about 6 minutes). */
export const QUANTILE_MAX_REPS: QuantileReps = { unit: 4_000, event: 1_000 };
/** Seed of the quantile scenarios. */
export const QUANTILE_SEED = 90_901;

/** The quantile rows for `npm run sim:stats -- --reps N`: N replications, capped at QUANTILE_MAX_REPS. */
export function runQuantileScenarios(reps: number): Row[] {
  return quantileScenarios(
    { unit: Math.min(reps, QUANTILE_MAX_REPS.unit), event: Math.min(reps, QUANTILE_MAX_REPS.event) },
    QUANTILE_SEED,
  );
}

/**
 * The quantile rows: A/A false rollback per metric model (p99 and p50) and family-wise over the four p99
 * guardrails, then the power against a +20% p99 regression with an unchanged mean, beside the mean's test.
 */
export function quantileScenarios(counts: QuantileReps, seed: number): Row[] {
  const reps = counts.unit;
  const rows: Row[] = [];
  const eventReps = counts.event;
  const family = new Int32Array(Math.max(reps, eventReps));
  const familyReps = eventReps;
  AA_MODELS.forEach((m, i) => {
    const r = m.scope === 'unit' ? reps : eventReps;
    const result = runModel(r, seed + i, m, [0.99, 0.5]);
    for (const q of [0.99, 0.5]) {
      const rate = (result.quantile.get(q)?.[DAYS - 1] ?? 0) / r;
      rows.push(
        atMost(
          `Q. A/A false rollback, p${Math.round(q * 100)} ${m.scope} scope, ${m.tail}`,
          rate,
          ALPHA_PER_METRIC,
          r,
          `${describeModel(m)}; ${r.toLocaleString('en')} replications`,
        ),
      );
    }
    const days = result.rolledDay.get(0.99) as Int8Array;
    for (let k = 0; k < familyReps; k++) if ((days[k] as number) > 0) family[k] = (family[k] as number) + 1;
  });
  let anyRolled = 0;
  for (let k = 0; k < familyReps; k++) if ((family[k] as number) > 0) anyRolled++;
  rows.push(
    atMost(
      'Q. A/A family-wise false rollback, the four p99 guardrails of one rollout',
      anyRolled / familyReps,
      FAMILY_ALPHA,
      familyReps,
      `first ${familyReps.toLocaleString('en')} replications of each model taken as one rollout (seeds differ, so they are independent)`,
    ),
  );
  const unitShift = tailShift(UNIT_SIGMA, 0.99, REGRESSION);
  const eventSpread = Math.hypot(EVENT_SIGMA, UNIT_EFFECT_SIGMA);
  const eventShift = tailShift(eventSpread, 0.99, REGRESSION);
  const power: { model: Model; reps: number; label: string; contrast: string }[] = [
    {
      model: {
        scope: 'unit',
        unitsPerDay: UNITS_PER_DAY.power.unit,
        tail: 'log-normal',
        treatment: unitShift,
      },
      reps,
      label: 'unit scope',
      contrast: 'mean of the per-unit values',
    },
    {
      model: {
        scope: 'event',
        unitsPerDay: UNITS_PER_DAY.power.event,
        tail: 'log-normal',
        treatment: {
          sigma: Math.sqrt(eventShift.sigma ** 2 - UNIT_EFFECT_SIGMA ** 2),
          shift: eventShift.shift,
        },
      },
      reps: eventReps,
      label: 'event scope',
      contrast: 'mean per event (ratio of sums)',
    },
  ];
  power.forEach((p, i) => {
    const result = runModel(p.reps, seed + 100 + i, p.model, [0.99]);
    const counts = result.quantile.get(0.99) as number[];
    const note = `${describeModel(p.model)}; treatment log-normal spread ${p.model.treatment.sigma.toFixed(4)}, location ${p.model.treatment.shift.toFixed(4)}: p99 ×${REGRESSION}, mean unchanged`;
    rows.push(
      reported(
        `Q. +20% p99, same mean, ${p.label}: p99 guardrail rolls back by day 2 (end of 10%)`,
        (counts[1] ?? 0) / p.reps,
        p.reps,
        'reported',
        note,
      ),
    );
    const byEnd = (counts[DAYS - 1] ?? 0) / p.reps;
    rows.push({
      scenario: `Q. +20% p99, same mean, ${p.label}: p99 guardrail rolls back by day 7`,
      target: `≥ ${MIN_POWER.toFixed(2)}`,
      compareTo: MIN_POWER,
      measured: byEnd,
      mcse: mcse(byEnd, p.reps),
      pass: byEnd >= MIN_POWER,
      unit: 'probability',
      note,
    });
    rows.push(
      reported(
        `Q. +20% p99, same mean, ${p.label}: the same test on the ${p.contrast} by day 7`,
        (result.mean[DAYS - 1] ?? 0) / p.reps,
        p.reps,
        `contrast (≈ α/G = ${ALPHA_PER_METRIC.toFixed(4)}: the mean did not move)`,
        note,
      ),
    );
  });
  return rows;
}

/**
 * Power the p99 guardrail must reach by the end of the plan against the +20% regression (the exact figure depends
 * on the plan's size; the gate is that the quantile test sees what the mean's test, at about α, cannot).
 */
const MIN_POWER = 0.5;
