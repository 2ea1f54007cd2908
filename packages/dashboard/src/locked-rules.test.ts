import type { Rule } from '@dimmer/core';
import { describe, expect, it } from 'vitest';
import { mergeLockedRules, splitLockedRules } from './locked-rules.ts';

const staff: Rule = { id: 'staff', serve: { variant: 'on' } };
const beta: Rule = { id: 'beta', serve: { variant: 'on' } };
const rollout: Rule = {
  id: 'rollout-ro_1',
  rollout: 'ro_1',
  serve: {
    split: [
      { variant: 'on', range: [0, 10_000], arm: 'treatment' },
      { variant: 'off', range: [10_000, 1_000_000], arm: 'control' },
    ],
  },
};

describe('locked rules', () => {
  it('round-trips an unchanged list', () => {
    const { editable, locked } = splitLockedRules([staff, rollout]);
    expect(editable).toEqual([staff]);
    expect(mergeLockedRules(editable, locked)).toEqual([staff, rollout]);
  });

  it('keeps a rule a person adds in front of the rollout rule', () => {
    const { editable, locked } = splitLockedRules([rollout]);
    expect(mergeLockedRules([...editable, beta], locked)).toEqual([beta, rollout]);
  });

  it('keeps the rules that followed a locked rule after it, and survives deletions', () => {
    const { locked } = splitLockedRules([staff, rollout, beta]);
    expect(mergeLockedRules([staff, beta], locked)).toEqual([staff, rollout, beta]);
    expect(mergeLockedRules([], locked)).toEqual([rollout]);
  });
});
