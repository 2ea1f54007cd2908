import { createRolloutState, type RolloutPlan } from '@dimmer/rollout';
import { describe, expect, it } from 'vitest';
import type { FlagRecord } from '../flags/index.ts';
import { type AlarmInput, alarmOf } from './alarms.ts';
import type { RolloutRecord } from './rollouts.store.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function input(overrides: Partial<AlarmInput> = {}): AlarmInput {
  const plan = {
    id: 'ro_a',
    stages: [
      { reach: 10, minDuration: HOUR },
      { reach: 100, minDuration: HOUR },
    ],
  };
  const state = { ...createRolloutState(), status: 'running' as const, attempt: 1, stageStartedAt: T0 };
  const flag = {
    flag: { key: 'f', environments: { production: { enabled: true, rules: [] } } },
    archived: false,
  } as unknown as FlagRecord;
  return {
    record: {
      id: 'ro_a',
      flag: 'f',
      environment: 'production',
      state: 'running',
      attempt: 1,
    } as RolloutRecord,
    plan: plan as unknown as RolloutPlan,
    state,
    flag,
    units: { treatment: 10, control: 90 },
    invalidMetrics: [],
    latest: undefined,
    now: T0 + 2 * HOUR,
    ...overrides,
  };
}

describe('alarmOf', () => {
  it('is null while the rollout can decide', () => {
    expect(alarmOf(input())).toBeNull();
  });

  it('names a metric whose evidence is invalid', () => {
    const alarm = alarmOf(input({ invalidMetrics: [{ metric: 'latency', reason: 'sumY is not finite' }] }));
    expect(alarm?.reasons).toEqual([
      { cause: 'invalid_evidence', message: expect.stringContaining('metric latency is invalid (sumY') },
    ]);
  });

  it('raises no_exposures only once the stage has run its minimum duration', () => {
    const empty = { treatment: 0, control: 40 };
    expect(alarmOf(input({ units: empty, now: T0 + HOUR / 2 }))).toBeNull();
    expect(alarmOf(input({ units: empty }))?.reasons[0]?.message).toContain('treatment arm');
  });

  it('says the flag is disabled under the rollout', () => {
    const flag = {
      flag: { key: 'f', environments: { production: { enabled: false, rules: [] } } },
      archived: false,
    } as unknown as FlagRecord;
    expect(alarmOf(input({ flag }))?.reasons.map((r) => r.cause)).toEqual(['flag_disabled']);
  });
});
