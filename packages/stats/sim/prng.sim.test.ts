// The simulation's samplers against their laws: exact probabilities of the binomial and Poisson (χ² over
// their central cells) on both sides of the switch to transformed rejection, and moments of large draws.
import { describe, expect, it } from 'vitest';
import { logGamma, regularizedGammaQ } from '../src/index.ts';
import { Rng } from './prng.ts';

const DRAWS = 200_000;
/** χ² critical value far in the tail (p ≈ 1e-6 for up to ~60 cells): fixed seeds, so a pass is exact. */
function chiSquareOk(observed: Map<number, number>, pmf: (k: number) => number, draws: number): void {
  let stat = 0;
  let cells = 0;
  let restObserved = draws;
  let restExpected = 1;
  for (const [k, count] of observed) {
    const expected = pmf(k) * draws;
    if (expected < 20) continue;
    stat += (count - expected) ** 2 / expected;
    cells++;
    restObserved -= count;
    restExpected -= pmf(k);
  }
  if (restExpected * draws >= 20) {
    stat += (restObserved - restExpected * draws) ** 2 / (restExpected * draws);
    cells++;
  }
  const p = regularizedGammaQ((cells - 1) / 2, stat / 2);
  expect(p, `χ² = ${stat.toFixed(1)} on ${cells - 1} df`).toBeGreaterThan(1e-6);
}

function tally(draw: () => number): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < DRAWS; i++) {
    const k = draw();
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

describe('simulation samplers', () => {
  for (const [n, p] of [
    [30, 0.2],
    [1_000, 0.02],
    [10_000, 0.001],
    [990_000, 0.02],
  ] as const) {
    it(`binomial(${n}, ${p}) follows its law`, () => {
      const rng = new Rng(n);
      const logPmf = (k: number) =>
        logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
      chiSquareOk(
        tally(() => rng.binomial(n, p)),
        (k) => Math.exp(logPmf(k)),
        DRAWS,
      );
    });
  }
  for (const mu of [3, 12, 400, 2e7]) {
    it(`poisson(${mu}) follows its law`, () => {
      const rng = new Rng(Math.round(mu));
      chiSquareOk(
        tally(() => rng.poisson(mu)),
        (k) => Math.exp(-mu + k * Math.log(mu) - logGamma(k + 1)),
        DRAWS,
      );
    });
  }
});
