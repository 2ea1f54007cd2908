import { describe, expect, it } from 'vitest';
import { Rng } from '../sim/prng.ts';
import { assessGuardrail, canaryGuard, createGuardrailState, type GuardrailConfig } from './guardrail.ts';
import { addToSketch, createSketch, type QuantileSketch, SKETCH_GAMMA } from './histogram.ts';
import { normalPdf, normalQuantile } from './normal.ts';
import {
  bootstrapLogRatio,
  bootstrapQuantile,
  distributionMoments,
  rankedFromSketch,
  rankedFromSorted,
} from './quantile-bootstrap.ts';
import { compareQuantiles, QUANTILE_MIN_TAIL_COUNT, quantileGuardrailEstimate } from './quantile-compare.ts';
import {
  addEventToQuantileStats,
  addUnitToQuantileStats,
  createEventQuantileStats,
  createUnitEvents,
  EVENT_GRID_MAX_POINTS,
  type EventQuantileStats,
  estimateEventQuantile,
  mergeEventQuantileStats,
} from './quantile-event.ts';

function logNormalSample(rng: Rng, n: number, mu: number, sigma: number): number[] {
  return Array.from({ length: n }, () => Math.exp(mu + sigma * rng.normal()));
}

function sketchOf(values: readonly number[]): QuantileSketch {
  const s = createSketch();
  for (const v of values) addToSketch(s, v);
  return s;
}

/** Asymptotic SE of ln Q̂_q for a log-normal(μ, σ) sample of n: σ·√(q(1−q)/n)/φ(z_q). */
function asymptoticLogSe(q: number, n: number, sigma: number): number {
  return (sigma * Math.sqrt((q * (1 - q)) / n)) / normalPdf(normalQuantile(q));
}

/** Units with a unit-level random effect on the log scale and `events` draws each. */
function clusteredUnits(rng: Rng, units: number, spread: number, scale = 1): number[][] {
  return Array.from({ length: units }, () => {
    const effect = spread * rng.normal();
    const events = 1 + Math.floor(rng.uniform() * 100);
    return Array.from({ length: events }, () => scale * Math.exp(3 + effect + 0.5 * rng.normal()));
  });
}

function eventStats(units: readonly number[][]): EventQuantileStats {
  const s = createEventQuantileStats();
  for (const u of units) addUnitToQuantileStats(s, u);
  return s;
}

describe('resampling-free bootstrap of a quantile', () => {
  it('gives the asymptotic standard error of a large sample, on exact values and on the sketch', () => {
    const rng = new Rng(11);
    const n = 200_000;
    const values = logNormalSample(rng, n, 3, 1).sort((a, b) => a - b);
    const sketch = sketchOf(values);
    for (const q of [0.5, 0.95, 0.99]) {
      const expected = asymptoticLogSe(q, n, 1);
      const exact = bootstrapQuantile(rankedFromSorted(values), q);
      const fromSketch = bootstrapQuantile(rankedFromSketch(sketch), q);
      expect(exact?.se).toBeGreaterThan(0.85 * expected);
      expect(exact?.se).toBeLessThan(1.15 * expected);
      // The sketch interpolates inside buckets: its SE does not collapse although it is below the bucket width.
      expect(expected).toBeLessThan(Math.log(SKETCH_GAMMA));
      expect(fromSketch?.se).toBeGreaterThan(0.85 * expected);
      expect(fromSketch?.se).toBeLessThan(1.15 * expected);
      expect(Math.abs((fromSketch?.logQuantile ?? 0) - (exact?.logQuantile ?? 0))).toBeLessThan(
        Math.log(SKETCH_GAMMA),
      );
    }
  });

  it('has a percentile interval around the estimate and a distribution summing to 1', () => {
    const rng = new Rng(12);
    const values = logNormalSample(rng, 3000, 3, 1).sort((a, b) => a - b);
    const b = bootstrapQuantile(rankedFromSorted(values), 0.95);
    expect(b).not.toBeNull();
    if (b === null) return;
    expect(b.interval[0]).toBeLessThan(b.quantile);
    expect(b.interval[1]).toBeGreaterThan(b.quantile);
    expect(b.distribution.probabilities.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 12);
    expect(distributionMoments(b.distribution).mean).toBeCloseTo(b.logQuantile, 1);
  });

  it('refuses fewer than 2 values and quantiles that are not positive', () => {
    expect(bootstrapQuantile(rankedFromSorted([5]), 0.5)).toBeNull();
    expect(bootstrapQuantile(rankedFromSketch(sketchOf(new Array(50).fill(0))), 0.5)).toBeNull();
    // Zeros are fine as long as the bootstrap distribution of the quantile stays among positive values.
    const withZeros = sketchOf([...new Array(50).fill(0), ...Array.from({ length: 2000 }, (_, i) => 1 + i)]);
    expect(bootstrapQuantile(rankedFromSketch(withZeros), 0.99)).not.toBeNull();
    expect(bootstrapQuantile(rankedFromSketch(withZeros), 0.01)).toBeNull();
  });

  it('gives a log-ratio interval covering ln 1.2 for a 20% shift', () => {
    const rng = new Rng(13);
    const c = logNormalSample(rng, 5000, 3, 1).sort((a, b) => a - b);
    const t = logNormalSample(rng, 5000, 3 + Math.log(1.2), 1).sort((a, b) => a - b);
    const bc = bootstrapQuantile(rankedFromSorted(c), 0.5);
    const bt = bootstrapQuantile(rankedFromSorted(t), 0.5);
    if (bc === null || bt === null) throw new Error('no estimate');
    const r = bootstrapLogRatio(bt, bc);
    expect(r.logInterval[0]).toBeLessThan(Math.log(1.2));
    expect(r.logInterval[1]).toBeGreaterThan(Math.log(1.2));
    expect(r.logInterval[0]).toBeGreaterThan(0);
    expect(r.se).toBeCloseTo(Math.sqrt(bc.variance + bt.variance), 15);
  });
});

describe('event-scope quantile statistics', () => {
  it('are the same whether events arrive one by one or a unit at a time, and merge over disjoint units', () => {
    const rng = new Rng(21);
    const units = clusteredUnits(rng, 60, 0.7).map((u, i) => (i % 7 === 0 ? [...u, 0, -1] : u));
    const batch = eventStats(units);
    const incremental = createEventQuantileStats();
    // Events of different units interleave, as they do at ingestion.
    const states = units.map(() => createUnitEvents());
    const longest = Math.max(...units.map((u) => u.length));
    for (let e = 0; e < longest; e++)
      units.forEach((u, i) => {
        const v = u[e];
        if (v !== undefined)
          addEventToQuantileStats(incremental, states[i] as ReturnType<typeof createUnitEvents>, v);
      });
    // Equal but for the rounding of the sum of values, which is added in another order.
    expect({ ...incremental, events: { ...incremental.events, sum: 0 } }).toEqual({
      ...batch,
      events: { ...batch.events, sum: 0 },
    });
    expect(incremental.events.sum).toBeCloseTo(batch.events.sum, 6);
    const merged = mergeEventQuantileStats(eventStats(units.slice(0, 25)), eventStats(units.slice(25)));
    expect(merged.grid).toEqual(batch.grid);
    expect(merged.belowGrid).toEqual(batch.belowGrid);
    expect(merged.units).toBe(batch.units);
    expect(merged.sumN2).toBe(batch.sumN2);
    expect(JSON.parse(JSON.stringify(batch))).toEqual(batch);
  });

  it('keep a bounded grid whatever the values', () => {
    const stats = eventStats([
      [1e-300, 1e300],
      [5, 0, -2],
    ]);
    expect(stats.grid.sumC2.length).toBeLessThanOrEqual(EVENT_GRID_MAX_POINTS);
    expect(EVENT_GRID_MAX_POINTS).toBe(524);
    expect(stats.units).toBe(2);
    expect(stats.sumN2).toBe(4 + 9);
  });

  it('matches the i.i.d. variance with one event per unit and inflates it when units differ', () => {
    const rng = new Rng(22);
    const single = eventStats(logNormalSample(rng, 20_000, 3, 1).map((x) => [x]));
    const one = estimateEventQuantile(single, 0.95);
    expect(one?.designEffect).toBeGreaterThan(0.9);
    expect(one?.designEffect).toBeLessThan(1.1);
    expect(one?.se).toBeGreaterThan(0.85 * asymptoticLogSe(0.95, 20_000, 1));
    expect(one?.se).toBeLessThan(1.15 * asymptoticLogSe(0.95, 20_000, 1));
    const clustered = estimateEventQuantile(eventStats(clusteredUnits(rng, 400, 0.7)), 0.95);
    expect(clustered?.designEffect).toBeGreaterThan(3);
  });

  it('has a standard error that matches the spread of the estimate over repeated clustered samples', () => {
    const rng = new Rng(23);
    const estimates: number[] = [];
    const ses: number[] = [];
    for (let r = 0; r < 150; r++) {
      const e = estimateEventQuantile(eventStats(clusteredUnits(rng, 200, 0.5)), 0.99);
      if (e === null) throw new Error('no estimate');
      estimates.push(e.logQuantile);
      ses.push(e.se);
    }
    const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
    const sd = Math.sqrt(estimates.reduce((a, b) => a + (b - mean) ** 2, 0) / (estimates.length - 1));
    const meanSe = ses.reduce((a, b) => a + b, 0) / ses.length;
    // 150 replicates estimate the SD within about ±12% (2 SE of a sample SD).
    expect(meanSe / sd).toBeGreaterThan(0.8);
    expect(meanSe / sd).toBeLessThan(1.25);
  });
});

describe('comparing quantile metrics across cohorts', () => {
  it('estimates the log ratio of a 20% slower treatment in both scopes', () => {
    const rng = new Rng(31);
    const unit = compareQuantiles({
      scope: 'unit',
      quantile: 0.99,
      cohorts: [0, 1].map(() => ({
        treatment: sketchOf(logNormalSample(rng, 20_000, 3 + Math.log(1.2), 1)),
        control: sketchOf(logNormalSample(rng, 20_000, 3, 1)),
      })),
    });
    expect(unit).not.toBeNull();
    expect(Math.abs((unit?.logRatio ?? 0) - Math.log(1.2))).toBeLessThan(4 * (unit?.se ?? 0));
    expect(unit?.relativeDifference).toBeCloseTo(Math.exp(unit?.logRatio ?? 0) - 1, 15);
    expect(unit?.effectiveUnits).toBe(20_000);
    expect(unit?.minimumInformationMet).toBe(true);
    const event = compareQuantiles({
      scope: 'event',
      quantile: 0.95,
      cohorts: [
        {
          treatment: eventStats(clusteredUnits(rng, 500, 0.5, 1.2)),
          control: eventStats(clusteredUnits(rng, 500, 0.5)),
        },
      ],
    });
    expect(Math.abs((event?.logRatio ?? 0) - Math.log(1.2))).toBeLessThan(4 * (event?.se ?? 0));
    expect(event?.nTreatment).toBe(500);
  });

  it('weights a drifting baseline out of the comparison: cohorts at different levels, no effect', () => {
    const rng = new Rng(32);
    const cohorts = [1, 3].map((scale) => ({
      treatment: sketchOf(logNormalSample(rng, scale === 1 ? 200 : 20_000, 3 + Math.log(scale), 1)),
      control: sketchOf(logNormalSample(rng, 20_000, 3 + Math.log(scale), 1)),
    }));
    const c = compareQuantiles({ scope: 'unit', quantile: 0.5, cohorts });
    expect(Math.abs(c?.logRatio ?? 1)).toBeLessThan(4 * (c?.se ?? 0));
    expect(c?.cohortsUsed).toBe(2);
  });

  it('says when the tail is too thin to spend α, and returns null without a usable cohort', () => {
    const rng = new Rng(33);
    const small = compareQuantiles({
      scope: 'unit',
      quantile: 0.99,
      cohorts: [
        {
          treatment: sketchOf(logNormalSample(rng, 500, 3, 1)),
          control: sketchOf(logNormalSample(rng, 500, 3, 1)),
        },
      ],
    });
    expect(500 * 0.01).toBeLessThan(QUANTILE_MIN_TAIL_COUNT);
    expect(small?.minimumInformationMet).toBe(false);
    expect(
      compareQuantiles({
        scope: 'unit',
        quantile: 0.5,
        cohorts: [{ treatment: sketchOf([1]), control: sketchOf([1, 2]) }],
      }),
    ).toBeNull();
    expect(() => compareQuantiles({ scope: 'unit', quantile: 1, cohorts: [] })).toThrow(/quantile/);
  });

  it('maps onto the guardrail estimate: relative margins and lift on the quantile ratio', () => {
    const rng = new Rng(34);
    const c = compareQuantiles({
      scope: 'unit',
      quantile: 0.95,
      cohorts: [
        {
          treatment: sketchOf(logNormalSample(rng, 50_000, 3 + Math.log(1.3), 1)),
          control: sketchOf(logNormalSample(rng, 50_000, 3, 1)),
        },
      ],
    });
    if (c === null) throw new Error('no comparison');
    const estimate = quantileGuardrailEstimate(c);
    expect(estimate.meanTreatment - estimate.meanControl).toBeCloseTo(estimate.delta, 15);
    const config: GuardrailConfig = {
      direction: 'higher_is_worse',
      maxInformation: c.effectiveUnits,
      rollbackAlpha: 0.05 / 6,
      nonInferiority: { margin: { relative: 0.05 } },
    };
    const look = assessGuardrail(createGuardrailState(config), config, {
      kind: 'quantile',
      estimate,
      effectiveUnits: c.effectiveUnits,
      minimumMet: c.minimumInformationMet,
    });
    expect(look.summary.relativeLift).toBeCloseTo(c.relativeDifference, 12);
    expect(look.summary.relativeLiftSe).toBeCloseTo(c.relativeDifferenceSe, 12);
    expect(look.summary.nonInferiority?.margin).toBeCloseTo(0.05, 15);
    expect(look.summary.harmDetected).toBe(true);
    const guard = canaryGuard({
      estimate,
      direction: 'higher_is_worse',
      alpha: 0.05 / 6,
      tuningN: 100_000,
      threshold: 0.1,
    });
    expect(guard.triggered).toBe(true);
  });
});
