// Standard normal distribution: erfc, CDF, survival function, density and quantile, accurate to a few
// units in the last place so boundaries and p-values can be compared with reference tools at 1e-12.

const SQRT2 = Math.SQRT2;
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** Below this argument erfc is computed from the all-positive erf series; above it from the continued fraction. */
const ERFC_SERIES_LIMIT = 2;
/** erfc underflows to 0 in double precision beyond this argument. */
const ERFC_UNDERFLOW = 27.3;
const MAX_TERMS = 500;
const EPSILON = 1e-17;

/** erf(x)·e^{x²}·√π/2 as the series Σ 2ⁿ x^{2n+1}/(2n+1)!!: every term positive, so no cancellation. */
function scaledErfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < MAX_TERMS; n++) {
    term *= x2 / (2 * n + 3);
    sum += term;
    if (term < sum * EPSILON) break;
  }
  return sum;
}

/** erfc(x)·e^{x²}·√π by the Laplace continued fraction 1/(x+ (1/2)/(x+ 1/(x+ (3/2)/(x+ …)))), modified Lentz. */
function scaledErfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < MAX_TERMS; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return 1 / f;
}

/** Complementary error function erfc(x) = 1 − erf(x), with small relative error in both tails. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x > ERFC_UNDERFLOW) return 0;
  if (x < ERFC_SERIES_LIMIT) return 1 - 2 * INV_SQRT_PI * Math.exp(-x * x) * scaledErfSeries(x);
  return Math.exp(-x * x) * INV_SQRT_PI * scaledErfcFraction(x);
}

/** Error function erf(x). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (Math.abs(x) < ERFC_SERIES_LIMIT) return 2 * INV_SQRT_PI * Math.exp(-x * x) * scaledErfSeries(x);
  return x > 0 ? 1 - erfc(x) : erfc(-x) - 1;
}

/** Standard normal density φ(z). */
export function normalPdf(z: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * z * z);
}

/** Standard normal CDF Φ(z) = P(Z ≤ z), accurate in relative terms in the lower tail. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT2);
}

/** Standard normal survival function 1 − Φ(z) = P(Z > z), accurate in relative terms in the upper tail. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / SQRT2);
}

/** Lower-tail quantile for p ≤ 0.5: a rational start (error < 5e-4) refined by Halley steps on the exact CDF. */
function lowerQuantile(p: number): number {
  const t = Math.sqrt(-2 * Math.log(p));
  let x = -(
    t -
    (2.515517 + 0.802853 * t + 0.010328 * t * t) /
      (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
  );
  for (let i = 0; i < 8; i++) {
    const e = normalCdf(x) - p;
    const u = e / normalPdf(x);
    const step = u / (1 + (x * u) / 2);
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return x;
}

/** Standard normal quantile Φ⁻¹(p) for p in [0, 1] (−∞ at 0, +∞ at 1), accurate to about 1e-15. */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  // 1 − p is exact for p ≥ 0.5, so the upper half is solved in the accurate lower tail.
  return p < 0.5 ? lowerQuantile(p) : -lowerQuantile(1 - p);
}

/** Upper-tail quantile: the z with P(Z > z) = q, accurate also for q far below machine epsilon. */
export function normalSfQuantile(q: number): number {
  if (Number.isNaN(q) || q < 0 || q > 1) return Number.NaN;
  if (q === 0) return Number.POSITIVE_INFINITY;
  if (q === 1) return Number.NEGATIVE_INFINITY;
  return q <= 0.5 ? -lowerQuantile(q) : lowerQuantile(1 - q);
}
