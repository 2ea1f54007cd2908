/**
 * Test support: A/B tests through the HTTP API with simulated traffic (rollout-sim's TrafficSim on a flag with
 * several variants), a plan factory and controller looks. Every app opened here is closed by
 * `cleanUpExperimentSims` (call it in `afterEach`).
 */
import type { Stores } from '../src/stores.ts';
import { type ArmRates, HOUR, setUpRolloutSim, TrafficSim } from './rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from './test-app.ts';

export type SimApp = TestApp & { clock: ReturnType<typeof manualClock> };

/** Conversion: share of units with a `purchase`, lower is worse (the success metric). */
export const CONVERSION = {
  key: 'conversion',
  kind: 'proportion',
  event: 'purchase',
  direction: 'lower_is_worse',
  margin: 0.1,
  window: 'until_now',
  category: 'business',
};
/** Crash rate: share of units with an `app_crash`, higher is worse (the guardrail). */
export const CRASHES = {
  key: 'crash_rate',
  kind: 'proportion',
  event: 'app_crash',
  direction: 'higher_is_worse',
  margin: 0.5,
  window: 'until_now',
  category: 'reliability',
};
/** The variants of the simulated string flag; `control` is the default. */
export const VARIANTS = ['control', 'b', 'c'];

const open: SimApp[] = [];

/** Closes every app opened since the last call. */
export async function cleanUpExperimentSims(): Promise<void> {
  for (const a of open.splice(0)) await a.close();
}

/** An app on a fake clock (memory stores unless given). */
export async function openSimApp(stores?: Stores): Promise<SimApp> {
  const a = (await buildTestApp({
    clock: manualClock(),
    ...(stores !== undefined ? { stores } : {}),
  })) as SimApp;
  open.push(a);
  return a;
}

/** An app with the two metrics, flag `new-checkout` with `variants` and a server key's traffic simulation. */
export async function setUpExperimentSim(
  stores?: Stores,
  variants = VARIANTS,
): Promise<{ a: SimApp; sim: TrafficSim }> {
  const a = await openSimApp(stores);
  const { clientKey, flag } = await setUpRolloutSim(a, { metrics: [CONVERSION, CRASHES], variants });
  return { a, sim: new TrafficSim(a, { clientKey, flag, seed: 7 }) };
}

/** A three-variant plan on `new-checkout` at full coverage, conversion as success metric, crashes as guardrail. */
export function experimentPlan(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'ex_1',
    flag: 'new-checkout',
    environment: 'production',
    control: 'control',
    variants: [
      { variant: 'control', weight: 34 },
      { variant: 'b', weight: 33 },
      { variant: 'c', weight: 33 },
    ],
    coverage: 100,
    successMetrics: [{ metric: 'conversion', mde: 0.5 }],
    guardrails: [{ metric: 'crash_rate' }],
    minDuration: '1h',
    minUnitsPerArm: 100,
    expectedUnitsPerDay: 5_000,
    ...overrides,
  };
}

/**
 * Hourly steps of `units` new units with a controller look after each, until `until` holds for a look, the
 * experiment ends, or `steps` ran; returns the latest results after every step.
 */
export async function runLooks(
  a: SimApp,
  sim: TrafficSim,
  options: { id?: string; steps: number; units: number; rates: ArmRates; until?: (look: Json) => boolean },
): Promise<Json[]> {
  const looks: Json[] = [];
  for (let i = 0; i < options.steps; i++) {
    await sim.step({ units: options.units, rates: options.rates, durationMs: HOUR });
    await a.app.dimmer.experimentController.tick();
    const read = await a.admin('GET', `/api/v1/experiments/${options.id ?? 'ex_1'}`);
    const look = read.json.latestResults;
    looks.push(look);
    if (look !== null && options.until?.(look) === true) break;
    if (read.json.status !== 'running') break;
  }
  return looks;
}
