// Seeded pseudo-random numbers for the simulation harness: xoshiro128** seeded by splitmix32, with exact
// normal, gamma, beta, binomial and Poisson samplers. Never Math.random: every run is reproducible.
// Large binomials and Poissons use Hörmann's transformed rejection with squeeze (BTRS, PTRS, 1993): exact, and
// constant time however large the mean.

import { logGamma } from '../src/index.ts';

const TWO_POW_26 = 67_108_864;
const TWO_POW_53 = 9_007_199_254_740_992;
/** Binomials with at most this many trials are drawn trial by trial. */
const BINOMIAL_DIRECT = 40;
/** Binomials with a mean n·p of at least this use transformed rejection (BTRS). */
const BTRS_MIN_MEAN = 10;
/** Poisson means of at least this use transformed rejection (PTRS); smaller ones multiply uniforms. */
const PTRS_MIN_MEAN = 10;

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
    if (n * p >= BTRS_MIN_MEAN) return this.binomialBtrs(n, p);
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

  /** Binomial(n, p) for p ≤ 1/2 and n·p ≥ 10 by Hörmann's BTRS (transformed rejection with squeeze). */
  private binomialBtrs(n: number, p: number): number {
    const q = 1 - p;
    const spq = Math.sqrt(n * p * q);
    const b = 1.15 + 2.53 * spq;
    const a = -0.0873 + 0.0248 * b + 0.01 * p;
    const c = n * p + 0.5;
    const alpha = (2.83 + 5.1 / b) * spq;
    const vr = 0.92 - 4.2 / b;
    const m = Math.floor((n + 1) * p);
    const lpq = Math.log(p / q);
    const h = logGamma(m + 1) + logGamma(n - m + 1);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + c);
      if (k < 0 || k > n) continue;
      if (us >= 0.07 && v <= vr) return k;
      const lv = Math.log((v * alpha) / (a / (us * us) + b));
      if (lv <= h - logGamma(k + 1) - logGamma(n - k + 1) + (k - m) * lpq) return k;
    }
  }

  /** Poisson(mu) for mu ≥ 10 by Hörmann's PTRS (transformed rejection with squeeze). */
  private poissonPtrs(mu: number): number {
    const slam = Math.sqrt(mu);
    const loglam = Math.log(mu);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mu + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <=
        -mu + k * loglam - logGamma(k + 1)
      )
        return k;
    }
  }

  /** Poisson(mu), exact: transformed rejection for large means, multiplication of uniforms for small ones. */
  poisson(mu: number): number {
    if (mu >= PTRS_MIN_MEAN) return this.poissonPtrs(mu);
    let k = 0;
    const limit = Math.exp(-mu);
    let prod = this.uniform();
    while (prod > limit) {
      k++;
      prod *= this.uniform();
    }
    return k;
  }
}
