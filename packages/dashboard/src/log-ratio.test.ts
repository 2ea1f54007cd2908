import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logRatioInterval } from './log-ratio.ts';

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
