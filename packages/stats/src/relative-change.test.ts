import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decidingInterval, logRatioInterval } from './relative-change.ts';

describe('logRatioInterval', () => {
  it('keeps a wide interval of a large rise above −100% where the symmetric one passes it', () => {
    // A crash rate from 2.1% to 15.3% with a wide always-valid interval (k = 33 SE).
    const t = 0.153;
    const c = 0.021;
    const relSe = 0.62;
    const k = 33;
    const lift = t / c - 1;
    expect(lift - k * relSe).toBeLessThan(-1);
    const out = logRatioInterval({ meanTreatment: t, meanControl: c, relativeLiftSe: relSe, multiplier: k });
    expect(out).not.toBeNull();
    expect(out?.lift).toBeCloseTo(lift, 12);
    expect(out?.lower).toBeGreaterThan(-1);
    expect(out?.upper).toBeGreaterThan(lift);
  });

  it('equals exp(ln ratio ± k·SE_rel·μC/μT) − 1', () => {
    const out = logRatioInterval({
      meanTreatment: 0.12,
      meanControl: 0.1,
      relativeLiftSe: 0.05,
      multiplier: 2,
    });
    const seLog = (0.05 * 0.1) / 0.12;
    expect(out?.lower).toBeCloseTo(Math.exp(Math.log(1.2) - 2 * seLog) - 1, 12);
    expect(out?.upper).toBeCloseTo(Math.exp(Math.log(1.2) + 2 * seLog) - 1, 12);
  });

  it('is close to the symmetric interval when the SE is small', () => {
    const out = logRatioInterval({
      meanTreatment: 0.101,
      meanControl: 0.1,
      relativeLiftSe: 0.001,
      multiplier: 1.96,
    });
    expect(out?.lower).toBeCloseTo(0.01 - 1.96 * 0.001, 4);
    expect(out?.upper).toBeCloseTo(0.01 + 1.96 * 0.001, 4);
  });

  it('gives null when a mean is zero or negative, or an input is not finite', () => {
    expect(
      logRatioInterval({ meanTreatment: 0, meanControl: 0.1, relativeLiftSe: 0.1, multiplier: 2 }),
    ).toBeNull();
    expect(
      logRatioInterval({ meanTreatment: 0.1, meanControl: -1, relativeLiftSe: 0.1, multiplier: 2 }),
    ).toBeNull();
    expect(
      logRatioInterval({ meanTreatment: 0.1, meanControl: 0.1, relativeLiftSe: Number.NaN, multiplier: 2 }),
    ).toBeNull();
  });

  it('never passes −100% and always contains the estimate', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        (t, c, se, k) => {
          const out = logRatioInterval({
            meanTreatment: t,
            meanControl: c,
            relativeLiftSe: se,
            multiplier: k,
          });
          if (out === null) return false;
          const tol = 1e-9 * Math.max(1, Math.abs(out.lift));
          return out.lower >= -1 && out.lower <= out.lift + tol && out.upper >= out.lift - tol;
        },
      ),
    );
  });
});

describe('decidingInterval', () => {
  const base = {
    delta: 0.132,
    se: 0.02,
    interval: [0.05, 0.214] as [number, number],
    meanTreatment: 0.153,
    meanControl: 0.021,
    relativeLiftSe: 1.1,
    deterioration: { z: 6.6, boundary: 3.1 },
    nonInferiority: { z: -5, boundary: 2.5, margin: 0.00042 },
  };

  it('takes the rollback boundary when harm was detected, on both scales', () => {
    const out = decidingInterval({ ...base, verdict: 'harm_detected' });
    expect(out.test).toBe('rollback');
    expect(out.multiplier).toBe(3.1);
    expect(out.boundary).toBe(3.1);
    expect(out.z).toBe(6.6);
    expect(out.absolute?.[0]).toBeCloseTo(0.132 - 3.1 * 0.02, 12);
    expect(out.relative?.lower).toBeGreaterThan(-1);
    expect(out.relative?.lift).toBeCloseTo(0.153 / 0.021 - 1, 12);
    expect(out.margin).toBe(0.00042);
  });

  it('takes the non-inferiority boundary when the metric passed', () => {
    const out = decidingInterval({
      ...base,
      verdict: 'non_inferior',
      nonInferiority: { z: 4, boundary: 2.2, margin: 0.001 },
    });
    expect(out).toMatchObject({
      test: 'non_inferiority',
      multiplier: 2.2,
      z: 4,
      boundary: 2.2,
      margin: 0.001,
    });
  });

  it('uses the always-valid interval while no test has decided, and keeps an infinite boundary as null', () => {
    const out = decidingInterval({
      ...base,
      verdict: 'inconclusive',
      deterioration: { z: 0.4, boundary: null },
      nonInferiority: null,
    });
    expect(out.test).toBe('interval');
    expect(out.multiplier).toBeCloseTo(0.082 / 0.02, 12);
    expect(out.boundary).toBeNull();
    expect(out.margin).toBeNull();
  });

  it('gives no relative interval when the control mean is zero, but keeps the absolute one', () => {
    const out = decidingInterval({ ...base, meanControl: 0, verdict: 'inconclusive' });
    expect(out.relative).toBeNull();
    expect(out.absolute).not.toBeNull();
  });
});
