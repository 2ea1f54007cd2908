// Reads spec/quantile-vectors.json (written by sim/quantile-vectors.ts) and recomputes every vector with the library.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addToSketch, createSketch, SKETCH_GAMMA } from './histogram.ts';
import {
  bootstrapLogRatio,
  bootstrapQuantile,
  type LogDistribution,
  type QuantileBootstrap,
  rankedFromSketch,
  rankedFromSorted,
} from './quantile-bootstrap.ts';

interface MonteCarlo {
  replicates: number;
  se: number;
  seMcse: number;
}
interface QuantileVector {
  id: string;
  sample: string;
  quantile: number;
  exact: { logQuantile: number; se: number; interval: [number, number] };
  poissonBootstrap: MonteCarlo & { interval: [number, number] };
}
interface DifferenceVector {
  id: string;
  treatment: string;
  control: string;
  quantile: number;
  exact: { logRatio: number; se: number; logInterval: [number, number] };
  poissonBootstrap: MonteCarlo & { logInterval: [number, number] };
}
interface Vectors {
  tolerance: { exact: number };
  samples: { id: string; values: number[] }[];
  quantiles: QuantileVector[];
  differences: DifferenceVector[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../spec/quantile-vectors.json', import.meta.url), 'utf8'),
) as Vectors;
const LEVELS = [0.025, 0.975];
/** Monte Carlo standard errors allowed between the library and the simulated Poisson bootstrap. */
const MC_SES = 4;
/** Allowance for the fractional-rank formula against the exact Poisson law: 0.3% on the SE, 0.002 on a CDF. */
const LAW_SE = 0.003;
const LAW_CDF = 0.002;

const sorted = new Map(vectors.samples.map((s) => [s.id, [...s.values].sort((a, b) => a - b)]));

function boot(sample: string, q: number): QuantileBootstrap {
  const b = bootstrapQuantile(rankedFromSorted(sorted.get(sample) ?? []), q);
  if (b === null) throw new Error(`no bootstrap for ${sample}`);
  return b;
}

function relClose(got: number, want: number, tol: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}

/** P(X < x) and P(X ≤ x) of a discrete distribution (with a relative slack for the support's rounding). */
function cdfAround(d: LogDistribution, x: number): [number, number] {
  let below = 0;
  let atOrBelow = 0;
  const eps = 1e-12 * Math.max(1, Math.abs(x));
  d.values.forEach((v, i) => {
    const p = d.probabilities[i] as number;
    if (v < x - eps) below += p;
    if (v <= x + eps) atOrBelow += p;
  });
  return [below, atOrBelow];
}

function differenceOf(t: LogDistribution, c: LogDistribution): LogDistribution {
  const values: number[] = [];
  const probabilities: number[] = [];
  t.values.forEach((vt, i) => {
    c.values.forEach((vc, j) => {
      values.push(vt - vc);
      probabilities.push((t.probabilities[i] as number) * (c.probabilities[j] as number));
    });
  });
  return { values, probabilities };
}

/** The Monte Carlo percentile endpoint must be where the library's distribution function crosses the level. */
function expectPercentileAgrees(
  d: LogDistribution,
  mcEndpoint: number,
  level: number,
  replicates: number,
): void {
  const [below, atOrBelow] = cdfAround(d, mcEndpoint);
  const tol = MC_SES * Math.sqrt((level * (1 - level)) / replicates) + LAW_CDF;
  expect(level).toBeGreaterThanOrEqual(below - tol);
  expect(level).toBeLessThanOrEqual(atOrBelow + tol);
}

function expectSeAgrees(se: number, mc: MonteCarlo): void {
  expect(Math.abs(se - mc.se)).toBeLessThanOrEqual(MC_SES * mc.seMcse + LAW_SE * mc.se);
}

describe('quantile reference vectors (spec/quantile-vectors.json)', () => {
  it('holds quantile and difference vectors', () => {
    expect(vectors.quantiles.length).toBeGreaterThanOrEqual(20);
    expect(vectors.differences.length).toBeGreaterThanOrEqual(6);
  });

  for (const v of vectors.quantiles) {
    it(`${v.id}: the exact order-statistic formula, and the 100,000-replicate Poisson bootstrap`, () => {
      const b = boot(v.sample, v.quantile);
      relClose(b.logQuantile, v.exact.logQuantile, vectors.tolerance.exact);
      relClose(b.se, v.exact.se, vectors.tolerance.exact);
      relClose(b.interval[0], v.exact.interval[0], vectors.tolerance.exact);
      relClose(b.interval[1], v.exact.interval[1], vectors.tolerance.exact);
      expectSeAgrees(b.se, v.poissonBootstrap);
      LEVELS.forEach((level, i) => {
        const endpoint = Math.log(v.poissonBootstrap.interval[i] as number);
        expectPercentileAgrees(b.distribution, endpoint, level, v.poissonBootstrap.replicates);
      });
    });
  }

  for (const v of vectors.differences) {
    it(`${v.id}: exact convolution, and the Poisson bootstrap of both arms`, () => {
      const t = boot(v.treatment, v.quantile);
      const c = boot(v.control, v.quantile);
      const r = bootstrapLogRatio(t, c);
      relClose(r.logRatio, v.exact.logRatio, vectors.tolerance.exact);
      relClose(r.se, v.exact.se, vectors.tolerance.exact);
      relClose(r.logInterval[0], v.exact.logInterval[0], vectors.tolerance.exact);
      relClose(r.logInterval[1], v.exact.logInterval[1], vectors.tolerance.exact);
      expectSeAgrees(r.se, v.poissonBootstrap);
      const diff = differenceOf(t.distribution, c.distribution);
      LEVELS.forEach((level, i) => {
        const endpoint = v.poissonBootstrap.logInterval[i] as number;
        expectPercentileAgrees(diff, endpoint, level, v.poissonBootstrap.replicates);
      });
    });
  }

  it('gives nearly the same SE and interval from the sketch of each sample as from its exact values', () => {
    for (const v of vectors.quantiles) {
      const sketch = createSketch();
      for (const x of sorted.get(v.sample) ?? []) addToSketch(sketch, x);
      const b = bootstrapQuantile(rankedFromSketch(sketch), v.quantile);
      if (b === null) throw new Error(`no bootstrap for ${v.id}`);
      // Interpolated inside buckets: each value is within one bucket (γ − 1 = 2%) of the exact order statistic.
      const bucket = SKETCH_GAMMA - 1;
      expect(Math.abs(b.quantile / Math.exp(v.exact.logQuantile) - 1)).toBeLessThanOrEqual(bucket);
      expect(Math.abs(b.interval[0] / v.exact.interval[0] - 1)).toBeLessThanOrEqual(bucket);
      expect(Math.abs(b.interval[1] / v.exact.interval[1] - 1)).toBeLessThanOrEqual(bucket);
      expect(Math.abs(b.se / v.exact.se - 1)).toBeLessThan(0.25);
    }
  });
});
