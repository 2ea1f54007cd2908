import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, setUpRolloutSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, manualClock, type TestApp } from '../../testing/test-app.ts';
import type { RolloutsStore } from './rollouts.store.ts';

let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * A running rollout (two stages of 5% and 25% before 100%) whose store runs `race` once, right before the next
 * write of a person's action: the write then finds the rollout changed since its read, as when a controller look
 * on another node commits in between.
 */
async function racingRollout(): Promise<{
  app: TestApp;
  clock: ReturnType<typeof manualClock>;
  raceBeforeNextAction(race: () => Promise<unknown>): void;
  raced(): number;
}> {
  const clock = manualClock();
  const app = await buildTestApp({ clock });
  t = app;
  const { flag } = await setUpRolloutSim(app);
  const created = await app.admin('POST', '/api/v1/rollouts', {
    id: 'ro_race',
    flag,
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: [{ reach: 5, minDuration: '1h' }, { reach: 25, minDuration: '1h' }, { reach: 100 }],
    guardrails: [{ metric: 'crash_rate' }],
  });
  expect(created.status).toBe(201);
  expect((await app.admin('POST', '/api/v1/rollouts/ro_race/start', {})).status).toBe(200);
  const store: RolloutsStore = app.app.dimmer.stores.rollouts;
  const commit = store.commit.bind(store);
  let pending: (() => Promise<unknown>) | undefined;
  let raced = 0;
  store.commit = async (record, options, audits) => {
    const race = pending;
    // Only a person's action (no decision row) is raced; the racing write itself goes straight through.
    if (race !== undefined && options.decision === undefined) {
      pending = undefined;
      raced++;
      await race();
    }
    return commit(record, options, audits);
  };
  return {
    app,
    clock,
    raceBeforeNextAction: (race) => {
      pending = race;
    },
    raced: () => raced,
  };
}

describe('a person’s action racing a controller look', () => {
  it('a rollback whose read is overtaken by a look is applied on the fresh state, not refused', async () => {
    const { app, clock, raceBeforeNextAction, raced } = await racingRollout();
    clock.advance(5 * MINUTE);
    raceBeforeNextAction(() => app.app.dimmer.controller.tick());
    const rolledBack = await app.admin('POST', '/api/v1/rollouts/ro_race/rollback', {});
    expect(raced()).toBe(1);
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json).toMatchObject({ state: 'rolled_back', reach: 0 });
    // The look that won the first write is stored; the rollback came after it.
    const decisions = (await app.admin('GET', '/api/v1/rollouts/ro_race/decisions')).json.decisions;
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ action: 'hold', rule: 'min_duration' });
    const audit = (await app.admin('GET', '/api/v1/audit?resourceType=rollout')).json.entries as {
      action: string;
    }[];
    expect(audit.filter((e) => e.action === 'rollout.rollback')).toHaveLength(1);
  });

  it('a rollback naming a version a look made stale is still applied', async () => {
    const { app, clock } = await racingRollout();
    const seen = await app.admin('GET', '/api/v1/rollouts/ro_race');
    clock.advance(5 * MINUTE);
    await app.app.dimmer.controller.tick();
    const stale = await app.admin('POST', '/api/v1/rollouts/ro_race/rollback', {
      version: seen.json.version,
    });
    expect(stale.status).toBe(200);
    expect(stale.json.state).toBe('rolled_back');
    // Other actions keep the version check.
    const resume = await app.admin('POST', '/api/v1/rollouts/ro_race/resume', { version: seen.json.version });
    expect(resume.status).toBe(409);
    expect(resume.json.error.details).toMatchObject({ expectedVersion: seen.json.version });
  });

  it('an advance overtaken by a hold is applied once on the fresh state', async () => {
    const { app, clock, raceBeforeNextAction, raced } = await racingRollout();
    clock.advance(5 * MINUTE);
    raceBeforeNextAction(() => app.app.dimmer.controller.tick());
    const advanced = await app.admin('POST', '/api/v1/rollouts/ro_race/advance', {});
    expect(raced()).toBe(1);
    expect(advanced.status).toBe(200);
    expect(advanced.json).toMatchObject({ state: 'running', stage: 1, reach: 25 });
  });

  it('an advance overtaken by the same advance is not applied twice', async () => {
    const { app, raceBeforeNextAction, raced } = await racingRollout();
    raceBeforeNextAction(() => app.app.dimmer.rollouts.act('ro_race', 'advance', 'someone-else'));
    const advanced = await app.admin('POST', '/api/v1/rollouts/ro_race/advance', {});
    expect(raced()).toBe(1);
    expect(advanced.status).toBe(200);
    expect(advanced.json).toMatchObject({ state: 'running', stage: 1, reach: 25 });
    const audit = (await app.admin('GET', '/api/v1/audit?resourceType=rollout')).json.entries as {
      action: string;
    }[];
    expect(audit.filter((e) => e.action === 'rollout.advance')).toHaveLength(1);
  });

  it('an advance overtaken by a rollback is refused with what happened, and changes nothing', async () => {
    const { app, raceBeforeNextAction } = await racingRollout();
    raceBeforeNextAction(() => app.app.dimmer.rollouts.act('ro_race', 'rollback', 'controller-like'));
    const advanced = await app.admin('POST', '/api/v1/rollouts/ro_race/advance', {});
    expect(advanced.status).toBe(409);
    expect(advanced.json.error.message).toMatch(/moved from running at stage 1 to rolled_back/);
    const now = await app.admin('GET', '/api/v1/rollouts/ro_race');
    expect(now.json).toMatchObject({ state: 'rolled_back', reach: 0 });
  });
});
