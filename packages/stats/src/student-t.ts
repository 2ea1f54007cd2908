// Student t distribution: CDF, survival function, density and quantile (Newton on the exact CDF).

import { normalQuantile } from './normal.ts';
import { logGamma, regularizedBeta } from './special.ts';

const MAX_NEWTON_STEPS = 50;

/** P(T > t) for T ~ t(df), df > 0 (non-integer allowed), accurate in relative terms in the upper tail. */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 0;
  if (t === Number.NEGATIVE_INFINITY) return 1;
  const t2 = t * t;
  const x = df / (df + t2);
  const tail = 0.5 * regularizedBeta(x, df / 2, 0.5, t2 / (df + t2));
  return t > 0 ? tail : 1 - tail;
}

/** P(T ≤ t) for T ~ t(df). */
export function studentTCdf(t: number, df: number): number {
  return studentTSf(-t, df);
}

/** Density of the t distribution with df degrees of freedom. */
export function studentTPdf(t: number, df: number): number {
  const logC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** Quantile of the t distribution: the t with P(T ≤ t) = p, accurate to about 1e-13 relative. */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(df > 0)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  // Upper half: solve P(T > t) = q with q = 1 − p (exact for p ≥ 0.5).
  const q = 1 - p;
  const z = normalQuantile(p);
  // Cornish–Fisher start, then safeguarded Newton on the log survival function.
  let t = z + (z * z * z + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
  if (!Number.isFinite(t) || t <= 0) t = z;
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  for (let i = 0; i < MAX_NEWTON_STEPS; i++) {
    const sf = studentTSf(t, df);
    if (sf > q) lo = t;
    else hi = t;
    // d/dt ln sf = −pdf/sf; Newton on ln sf − ln q converges well in the far tail.
    const step = (Math.log(sf) - Math.log(q)) / (studentTPdf(t, df) / sf);
    let next = t + step;
    if (!(next > lo && next < hi))
      next = hi === Number.POSITIVE_INFINITY ? Math.max(2 * t, lo + 1) : (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-15 * Math.abs(t)) {
      t = next;
      break;
    }
    t = next;
  }
  return t;
}
