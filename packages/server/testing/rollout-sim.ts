/**
 * Test support: simulated traffic for guarded rollouts through the HTTP API. Each simulated step, new units
 * evaluate the flag locally on the snapshot of `/sdk/v1/config` (as a server SDK does), their exposures and
 * tracked events (per-arm event probabilities) are sent to `POST /v1/events`, the fake clock moves on, and the
 * controller looks. Seeded, so every run is the same.
 */
import { type CompiledConfig, compileConfig, type EnvironmentSnapshot, evaluate } from '@dimmer/core';
import type { Json, TestApp } from './test-app.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** Events per `POST /v1/events` batch (the route's limit). */
const BATCH_EVENTS = 1_000;

/** Seeded uniform numbers in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The salt of the simulated flag. */
export const SIM_SALT = '5eed5a1700000001';

/** A crash-rate proportion metric over `app_crash`, counted until the look. */
export const CRASH_METRIC = {
  key: 'crash_rate',
  kind: 'proportion',
  event: 'app_crash',
  direction: 'higher_is_worse',
  margin: 0.25,
  window: 'until_now',
  category: 'reliability',
};

export interface SimSetup {
  flag?: string;
  environment?: string;
  metrics?: Record<string, unknown>[];
  /** A surface to create and attach to the flag, with these required metrics. */
  surfaceRequires?: string[];
  /** A string flag with these variants (the first is the default) instead of the boolean off/on. */
  variants?: string[];
}

/** Creates the metrics (and surface), a boolean flag with variants off/on, and a server key. */
export async function setUpRolloutSim(
  t: TestApp,
  setup: SimSetup = {},
): Promise<{ clientKey: string; flag: string; environment: string }> {
  const flag = setup.flag ?? 'new-checkout';
  const environment = setup.environment ?? 'production';
  for (const metric of setup.metrics ?? [CRASH_METRIC]) {
    const r = await t.admin('POST', '/api/v1/metrics', metric);
    if (r.status !== 201) throw new Error(`metric: ${JSON.stringify(r.json)}`);
  }
  if (setup.surfaceRequires !== undefined) {
    const r = await t.admin('POST', '/api/v1/surfaces', {
      key: 'checkout',
      guardrails: setup.surfaceRequires.map((metric) => ({ metric })),
    });
    if (r.status !== 201) throw new Error(`surface: ${JSON.stringify(r.json)}`);
  }
  const created = await t.admin('POST', '/api/v1/flags', {
    key: flag,
    ...(setup.variants === undefined
      ? { kind: 'boolean', variants: { off: false, on: true }, defaultVariant: 'off' }
      : {
          kind: 'string',
          variants: Object.fromEntries(setup.variants.map((v) => [v, v])),
          defaultVariant: setup.variants[0],
        }),
    // A fixed salt: the same units land in the same buckets on every run, so seeded runs are identical.
    salt: SIM_SALT,
    ...(setup.surfaceRequires !== undefined ? { surface: 'checkout' } : {}),
    environments: { [environment]: { enabled: true, rules: [] } },
  });
  if (created.status !== 201) throw new Error(`flag: ${JSON.stringify(created.json)}`);
  const key = await t.admin('POST', '/api/v1/keys', { name: 'sim', environment, kind: 'server' });
  if (key.status !== 201) throw new Error(`key: ${JSON.stringify(key.json)}`);
  return { clientKey: key.json.secret as string, flag, environment };
}

/**
 * Per-arm probability that a unit sends each event during its step; a variant's own entry (experiments with
 * several variants) takes precedence over its arm's (`on` is treatment, every other variant control).
 */
export type ArmRates = Record<string, { treatment: number; control: number; [variant: string]: number }>;

export interface StepOptions {
  units: number;
  rates: ArmRates;
  /** Simulated time the step lasts (the clock moves by it after the events are sent). */
  durationMs: number;
  /**
   * Overrides the variant a unit reports (tests of a broken SDK): given the variant served and a uniform draw,
   * returns the variant to log.
   */
  misreport?: (served: string, u: number) => string;
  /**
   * Whether a unit's exposure is lost (tests of a lossy client): given the variant served and a uniform draw.
   * The unit's tracked events are still sent.
   */
  drop?: (served: string, u: number) => boolean;
  /** Per event name, the value its tracked events carry (e.g. a purchase amount); absent: no value. */
  values?: Record<string, number>;
}

export class TrafficSim {
  readonly #t: TestApp & { clock: { advance(ms: number): void } };
  readonly #key: string;
  readonly #flag: string;
  readonly #random: () => number;
  #units = 0;
  #batches = 0;
  readonly #tag: string;
  /** Units whose exposure to each variant was logged, across steps. */
  readonly served: Record<string, number> = {};

  constructor(
    t: TestApp & { clock: { advance(ms: number): void } },
    options: { clientKey: string; flag: string; seed: number },
  ) {
    this.#t = t;
    this.#key = options.clientKey;
    this.#flag = options.flag;
    this.#random = seeded(options.seed);
    this.#tag = `s${options.seed}`;
  }

  /** The environment snapshot a server SDK would hold now. */
  async snapshot(): Promise<EnvironmentSnapshot> {
    const response = await this.#t.app.inject({
      method: 'GET',
      url: '/sdk/v1/config',
      headers: { authorization: `Bearer ${this.#key}` },
    });
    if (response.statusCode !== 200) throw new Error(`config: ${response.body}`);
    return response.json() as EnvironmentSnapshot;
  }

  /** The variant each unit is served now (local evaluation on the current snapshot). */
  async variants(units: readonly string[]): Promise<string[]> {
    const compiled = compileConfig(await this.snapshot());
    return units.map((unit) => evaluate(compiled, this.#flag, { targetingKey: unit }).variant ?? '');
  }

  /** The id of the `n`-th unit this simulation created (1-based). */
  unitId(n: number): string {
    return `${this.#tag}-u${n}`;
  }

  /** New units evaluate the flag, send exposures and events; then the clock moves by `durationMs`. */
  async step(options: StepOptions): Promise<void> {
    const compiled: CompiledConfig = compileConfig(await this.snapshot());
    const now = this.#t.clock.now();
    const events: Json[] = [];
    for (let i = 0; i < options.units; i++) {
      const unit = `${this.#tag}-u${++this.#units}`;
      const result = evaluate(compiled, this.#flag, { targetingKey: unit });
      const served = result.variant ?? '';
      const variant = options.misreport ? options.misreport(served, this.#random()) : served;
      const ts = now + Math.floor((i / options.units) * Math.min(options.durationMs, 5 * MINUTE));
      if (!options.drop?.(served, this.#random())) {
        this.served[variant] = (this.served[variant] ?? 0) + 1;
        events.push({ type: 'exposure', flag: this.#flag, variant, unit, timestamp: ts });
      }
      const arm = variant === 'on' ? 'treatment' : 'control';
      for (const [event, rates] of Object.entries(options.rates)) {
        if (this.#random() >= (rates[variant] ?? rates[arm])) continue;
        const value = options.values?.[event];
        events.push({
          type: 'track',
          name: event,
          unit,
          timestamp: ts + 1,
          ...(value !== undefined ? { value } : {}),
        });
      }
    }
    for (let i = 0; i < events.length; i += BATCH_EVENTS) {
      const response = await this.#t.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${this.#key}`, 'content-type': 'application/json' },
        payload: JSON.stringify({
          batchId: `${this.#tag}-b${++this.#batches}`,
          events: events.slice(i, i + BATCH_EVENTS),
        }),
      });
      if (response.statusCode >= 300) throw new Error(`events: ${response.statusCode} ${response.body}`);
    }
    this.#t.clock.advance(options.durationMs);
  }
}

/** Reads a rollout through the admin API. */
export async function readRollout(t: TestApp, id: string): Promise<Json> {
  const r = await t.admin('GET', `/api/v1/rollouts/${id}`);
  if (r.status !== 200) throw new Error(`rollout: ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Treatment buckets the rollout rule of `flag` serves in a snapshot (0 when none). */
export function treatmentBuckets(snapshot: EnvironmentSnapshot, flag: string): number {
  const doc = snapshot.flags.find((f) => f.key === flag);
  return (doc?.rules ?? [])
    .flatMap((rule) => ('split' in rule.serve ? rule.serve.split : []))
    .filter((slice) => slice.arm === 'treatment')
    .reduce((sum, slice) => sum + (slice.range[1] - slice.range[0]), 0);
}
