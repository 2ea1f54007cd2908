/**
 * A/B test decisions proved end to end through the HTTP API with simulated traffic and a fake clock: units
 * evaluate the flag locally on the SDK config, their exposures and events go through `POST /v1/events`,
 * ingestion keeps the per-variant statistics and the controller looks. A real lift with no harm is recommended
 * for shipping and ship keeps every unit that saw the winner on it; a lift that harms a guardrail is not shipped
 * (the experiment aborts); A/A experiments over 50 seeds stay within the false-positive bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONVERSION,
  CRASHES,
  cleanUpExperimentSims,
  experimentPlan,
  openSimApp,
  runLooks,
  setUpExperimentSim,
} from '../../testing/experiment-sim.ts';
import { type ArmRates, HOUR, TrafficSim } from '../../testing/rollout-sim.ts';

afterEach(cleanUpExperimentSims);

describe('experiment decisions from simulated traffic', () => {
  it('recommends shipping the variant with a real lift and no harm; ship keeps every unit that saw it', async () => {
    const { a, sim } = await setUpExperimentSim();
    expect((await a.admin('POST', '/api/v1/experiments', experimentPlan())).status).toBe(201);
    expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
    const looks = await runLooks(a, sim, {
      steps: 12,
      units: 600,
      rates: {
        purchase: { control: 0.3, treatment: 0.3, b: 0.45 },
        app_crash: { control: 0.1, treatment: 0.1 },
      },
      until: (look) => look.recommendation === 'ship',
    });
    const last = looks[looks.length - 1];
    expect(last.recommendation, JSON.stringify(last.reason)).toBe('ship');
    expect(last.winner).toBe('b');
    expect(last.rule).toBe('winner');
    expect(last.reason).toContain('b');
    expect(last.metrics.conversion.b.verdict).toBe('better');
    expect(last.metrics.conversion.c.verdict).not.toBe('better');
    expect(last.metrics.crash_rate.b.verdict).toBe('non_inferior');
    // No look before recommended anything but continuing.
    for (const look of looks.slice(0, -1)) expect(look?.recommendation ?? 'continue').toBe('continue');
    // The experiment never ships itself: a person does, and the rollout keeps the winner's units.
    expect((await a.admin('GET', '/api/v1/experiments/ex_1')).json.status).toBe('running');

    const units = Array.from({ length: 2_000 }, (_, i) => sim.unitId(i + 1));
    const before = await sim.variants(units);
    const sawWinner = units.filter((_, i) => before[i] === 'b');
    expect(sawWinner.length).toBeGreaterThan(500);
    const salt = (await a.admin('GET', '/api/v1/flags/new-checkout')).json.salt;
    const shipped = await a.admin('POST', '/api/v1/experiments/ex_1/ship', {
      variant: 'b',
      rolloutId: 'ro_b',
    });
    expect(shipped.status, JSON.stringify(shipped.json)).toBe(200);
    expect(shipped.json.rollout.treatment).toBe('b');
    expect(shipped.json.rollout.control).toBe('control');
    expect(shipped.json.rollout.state).toBe('running');
    expect((await a.admin('GET', '/api/v1/flags/new-checkout')).json.salt).toBe(salt);
    const after = await sim.variants(sawWinner);
    expect(after.every((v) => v === 'b')).toBe(true);
    // Units that saw control stay on control until the rollout grows.
    const sawControl = units.filter((_, i) => before[i] === 'control');
    expect((await sim.variants(sawControl)).every((v) => v === 'control')).toBe(true);
  });

  it('does not recommend shipping a variant that wins on the success metric but harms a guardrail', async () => {
    const { a, sim } = await setUpExperimentSim();
    expect((await a.admin('POST', '/api/v1/experiments', experimentPlan())).status).toBe(201);
    expect((await a.admin('POST', '/api/v1/experiments/ex_1/start', {})).status).toBe(200);
    const looks = await runLooks(a, sim, {
      steps: 12,
      units: 600,
      rates: {
        purchase: { control: 0.3, treatment: 0.3, b: 0.45 },
        app_crash: { control: 0.1, treatment: 0.1, b: 0.3 },
      },
    });
    expect(looks.some((l) => l?.recommendation === 'ship')).toBe(false);
    const last = looks.filter((l) => l !== null).pop();
    // b wins on conversion (its estimate is well above control's) but crashes more: harmful, never shipped.
    const conversion = last.metrics.conversion.b.summary;
    expect(conversion.meanTreatment).toBeGreaterThan(conversion.meanControl);
    expect(last.metrics.conversion.b.verdict).not.toBe('worse');
    expect(last.metrics.crash_rate.b.verdict).toBe('worse');
    expect(last.metrics.crash_rate.c.verdict).not.toBe('worse');
    expect(last.variants.b.verdict).toBe('harmful');
    expect(last.recommendation).toBe('abort');
    // autoAbort (the default) ends the experiment: its rule is gone from the flag.
    const read = await a.admin('GET', '/api/v1/experiments/ex_1');
    expect(read.json.status).toBe('aborted');
    const flag = await a.admin('GET', '/api/v1/flags/new-checkout');
    expect(flag.json.environments.production.rules).toEqual([]);
  });

  it('A/A experiments across 50 seeds recommend shipping within the false-positive bound', async () => {
    const a = await openSimApp();
    for (const metric of [CONVERSION, CRASHES])
      expect((await a.admin('POST', '/api/v1/metrics', metric)).status).toBe(201);
    const key = await a.admin('POST', '/api/v1/keys', {
      name: 'aa',
      environment: 'production',
      kind: 'server',
    });
    const SEEDS = 50;
    const sims: TrafficSim[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const flag = `aa-${seed}`;
      const created = await a.admin('POST', '/api/v1/flags', {
        key: flag,
        kind: 'boolean',
        variants: { off: false, on: true },
        defaultVariant: 'off',
        // Fixed salts: every run assigns the same units alike.
        salt: `aa${seed.toString(16).padStart(14, '0')}`,
        environments: { production: { enabled: true, rules: [] } },
      });
      expect(created.status).toBe(201);
      const ex = await a.admin(
        'POST',
        '/api/v1/experiments',
        experimentPlan({
          id: `aa_${seed}`,
          flag,
          control: 'off',
          // A large effect to detect keeps the planned sample small: the traffic reaches it, so α is spent.
          successMetrics: [{ metric: 'conversion', mde: 0.8 }],
          variants: [
            { variant: 'off', weight: 50 },
            { variant: 'on', weight: 50 },
          ],
        }),
      );
      expect(ex.status, JSON.stringify(ex.json)).toBe(201);
      expect((await a.admin('POST', `/api/v1/experiments/aa_${seed}/start`, {})).status).toBe(200);
      sims.push(new TrafficSim(a, { clientKey: key.json.secret, flag, seed: 1000 + seed }));
    }
    // Equal rates in both arms, common enough events that the traffic reaches the planned sample (the guardrail's
    // non-inferiority test drives it), so the tests spend their whole α.
    const rates: ArmRates = {
      purchase: { control: 0.3, treatment: 0.3 },
      app_crash: { control: 0.3, treatment: 0.3 },
    };
    const shipped = new Set<string>();
    const aborted = new Set<string>();
    let planned = 0;
    for (let look = 0; look < 5; look++) {
      for (const sim of sims) await sim.step({ units: 120, rates, durationMs: 0 });
      a.clock.advance(HOUR);
      for (const result of await a.app.dimmer.experimentController.tick()) {
        if (result.recommendation === 'ship') shipped.add(result.experiment);
        if (result.recommendation === 'abort') aborted.add(result.experiment);
      }
    }
    for (let seed = 1; seed <= SEEDS; seed++) {
      const read = await a.admin('GET', `/api/v1/experiments/aa_${seed}`);
      const units = read.json.latestResults?.units ?? {};
      // The looks were real: every experiment holds its traffic, most reached their planned sample.
      expect((units.on ?? 0) + (units.off ?? 0)).toBeGreaterThan(200);
      const plannedUnits = read.json.latestResults?.plannedUnits;
      if (plannedUnits !== null && plannedUnits !== undefined && units.on + units.off >= plannedUnits)
        planned++;
    }
    console.log(
      `A/A over ${SEEDS} seeds: ${shipped.size} recommended shipping, ${aborted.size} aborted, ${planned} reached the planned sample`,
    );
    expect(planned).toBeGreaterThanOrEqual(SEEDS * 0.7);
    // α = 0.05 per experiment: with 50 seeds, 7 or more false ships has probability 0.012 under the bound.
    expect(shipped.size).toBeLessThanOrEqual(6);
    expect(aborted.size).toBeLessThanOrEqual(6);
  });
});
