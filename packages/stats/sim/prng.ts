// Seeded pseudo-random numbers for the simulation harness: xoshiro128** seeded by splitmix32, with exact
// normal, gamma, beta, binomial and Poisson samplers. Never Math.random: every run is reproducible.

const TWO_POW_26 = 67_108_864;
const TWO_POW_53 = 9_007_199_254_740_992;
/** Binomials with at most this many trials are drawn trial by trial. */
const BINOMIAL_DIRECT = 40;
/** Poisson means up to this are drawn by multiplying uniforms. */
const POISSON_DIRECT = 20;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A seeded generator; identical seeds give identical streams on every platform. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in (0, 1) with 53 random bits. */
  uniform(): number {
    for (;;) {
      const u = ((this.nextU32() >>> 5) * TWO_POW_26 + (this.nextU32() >>> 6)) / TWO_POW_53;
      if (u > 0) return u;
    }
  }

  /** Standard normal (Marsaglia's polar method). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }

  /** Gamma(shape, 1) (Marsaglia–Tsang). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * this.uniform() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      let v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) as a ratio of gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }

  /** Binomial(n, p), exact: order-statistic splitting down to a direct count. */
  binomial(n: number, p: number): number {
    if (p <= 0 || n <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    let k = 0;
    let m = n;
    let q = p;
    while (m > BINOMIAL_DIRECT) {
      const a = 1 + (m >> 1);
      const b = m + 1 - a;
      const x = this.beta(a, b);
      if (x >= q) {
        m = a - 1;
        q = q / x;
      } else {
        k += a;
        m = b - 1;
        q = (q - x) / (1 - x);
      }
    }
    for (let i = 0; i < m; i++) if (this.uniform() < q) k++;
    return k;
  }

  /** Poisson(mu), exact: gamma splitting down to the multiplication method. */
  poisson(mu: number): number {
    let k = 0;
    let m = mu;
    while (m > POISSON_DIRECT) {
      const j = Math.floor((7 / 8) * m);
      const x = this.gamma(j);
      if (x < m) {
        k += j;
        m -= x;
      } else {
        return k + this.binomial(j - 1, m / x);
      }
    }
    const limit = Math.exp(-m);
    let prod = this.uniform();
    while (prod > limit) {
      k++;
      prod *= this.uniform();
    }
    return k;
  }
}
