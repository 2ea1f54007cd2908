import { describe, expect, it } from 'vitest';
import { combineCohorts, estimateArm, forecastInformation, type SufficientStats } from './metrics.ts';

function statsOf(values: readonly number[]): SufficientStats {
  return {
    n: values.length,
    sumY: values.reduce((a, b) => a + b, 0),
    sumY2: values.reduce((a, b) => a + b * b, 0),
  };
}

describe('metric estimates from sufficient statistics', () => {
  it('proportion: p̂ and p̂(1−p̂)/(n−1)', () => {
    const e = estimateArm('proportion', { n: 100, sumY: 20, sumY2: 20 });
    expect(e?.mean).toBe(0.2);
    expect(e?.variance).toBeCloseTo((0.2 * 0.8) / 99, 15);
  });

  it('mean: the sample variance over n', () => {
    const e = estimateArm('mean', statsOf([1, 2, 3, 4]));
    expect(e?.mean).toBe(2.5);
    expect(e?.variance).toBeCloseTo(5 / 3 / 4, 15);
  });

  it('ratio: Σy/Σd with the delta-method variance', () => {
    const y = [1, 0, 3, 2];
    const d = [4, 2, 5, 5];
    const e = estimateArm('ratio', {
      ...statsOf(y),
      sumD: 16,
      sumD2: d.reduce((a, b) => a + b * b, 0),
      sumYD: y.reduce((a, v, i) => a + v * (d[i] as number), 0),
    });
    expect(e?.mean).toBe(6 / 16);
    expect(e?.variance).toBeGreaterThan(0);
  });

  it('an arm with fewer than 2 units contributes nothing', () => {
    expect(estimateArm('mean', statsOf([5]))).toBeNull();
    const combined = combineCohorts('mean', [
      { treatment: statsOf([100]), control: statsOf([1, 2, 3]) },
      { treatment: statsOf([2, 3, 4]), control: statsOf([1, 2, 3]) },
    ]);
    expect(combined?.cohortsUsed).toBe(1);
    expect(combined?.delta).toBeCloseTo(1, 12);
  });

  it('weights cohorts by inverse variance, removing a baseline shift between cohorts', () => {
    // Cohort 1 (small split, baseline 10) and cohort 2 (large split, baseline 20), same effect +1 in each.
    const c1 = { treatment: statsOf([10, 12, 11, 13]), control: statsOf([9, 11, 10, 12, 9, 11, 10, 12]) };
    const c2 = { treatment: statsOf([20, 22, 21, 23, 20, 22]), control: statsOf([19, 21, 20, 22, 19, 21]) };
    const combined = combineCohorts('mean', [c1, c2]);
    expect(combined?.delta).toBeCloseTo(1, 12);
    const pooledNaive =
      (c1.treatment.sumY + c2.treatment.sumY) / 10 - (c1.control.sumY + c2.control.sumY) / 14;
    expect(Math.abs(pooledNaive - 1)).toBeGreaterThan(1);
  });

  it('forecasts information additively over cohorts', () => {
    const info = forecastInformation(
      [
        { nTreatment: 100, nControl: 900 },
        { nTreatment: 500, nControl: 500 },
      ],
      { treatment: 4, control: 4 },
    );
    expect(info).toBeCloseTo(1 / (4 / 100 + 4 / 900) + 1 / (4 / 500 + 4 / 500), 9);
  });
});
