import { describe, expect, it } from 'vitest';
import type { Rollout } from './api.ts';
import {
  allowedActions,
  describeAction,
  describeCondition,
  describeServe,
  formatDuration,
  rolloutReach,
  splitPieces,
  uncoveredPercent,
} from './describe.ts';
import { sampleRolloutView } from './test-rollout.ts';

const rollout: Rollout = { ...sampleRolloutView(), history: [] };

describe('describeCondition', () => {
  it('reads nested conditions with parentheses where precedence matters', () => {
    expect(
      describeCondition({
        all: [
          { attr: 'country', op: 'in', value: ['SE', 'NO'] },
          { any: [{ segment: 'beta' }, { not: { attr: 'email', op: 'exists' } }] },
        ],
      }),
    ).toBe('country in ["SE","NO"] and (in segment beta or not email exists)');
    expect(describeCondition(undefined)).toBe('everyone');
    expect(describeCondition({ attr: 'app.version', op: 'semver_gt', value: '2.1.0' })).toBe(
      'app.version semver gt "2.1.0"',
    );
  });
});

describe('splits', () => {
  const split = [
    { variant: 'off', range: [250_000, 1_000_000] as [number, number], arm: 'control' as const },
    { variant: 'on', range: [0, 12_500] as [number, number], arm: 'treatment' as const },
  ];
  it('orders pieces by bucket and sizes them in percent of the bucket space', () => {
    const pieces = splitPieces(split);
    expect(pieces.map((p) => [p.variant, p.startPercent, p.widthPercent])).toEqual([
      ['on', 0, 1.25],
      ['off', 25, 75],
    ]);
    expect(pieces[0]?.label).toBe('on: buckets 0%–1.25%');
  });
  it('reports the uncovered share that falls through', () => {
    expect(uncoveredPercent(split)).toBeCloseTo(23.75, 10);
    expect(describeServe({ id: 'r', serve: { split } })).toBe('split on 1.25% / off 75%');
  });
});

describe('rollout actions', () => {
  it('offers what the state allows and says what will happen', () => {
    expect(allowedActions(rollout)).toEqual(['advance', 'pause', 'rollback']);
    expect(allowedActions({ ...rollout, stage: 3 })).toEqual(['complete', 'pause', 'rollback']);
    expect(allowedActions({ ...rollout, state: 'draft', stage: 0 })).toEqual(['start']);
    expect(describeAction(rollout, 'rollback')).toContain('drops from 10% to 0%');
    expect(describeAction(rollout, 'advance')).toContain('from 10% to 50%');
    expect(describeAction({ ...rollout, holdback: 2 }, 'complete')).toContain('to 98% of units');
  });
  it('takes the reach from the server when given, else from the stage', () => {
    expect(rolloutReach(rollout)).toBe(10);
    expect(rolloutReach({ ...rollout, reach: 0, state: 'rolled_back' })).toBe(0);
    expect(rolloutReach({ ...rollout, reach: 0, state: 'draft', stage: 0 })).toBe(0);
  });
});

describe('formatDuration', () => {
  it('shows planned strings as given and stored milliseconds in minutes or hours', () => {
    expect(formatDuration('2h')).toBe('2h');
    expect(formatDuration(7_200_000)).toBe('2 h');
    expect(formatDuration(300_000)).toBe('5 min');
  });
});
