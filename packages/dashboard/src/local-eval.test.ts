import type { FlagConfig } from '@dimmer/core';
import { describe, expect, it } from 'vitest';
import { evaluateLocally, parseContext, previewLocally } from './local-eval.ts';

const flag: FlagConfig = {
  key: 'new-checkout',
  kind: 'boolean',
  variants: { off: false, on: true },
  defaultVariant: 'off',
  salt: 'b7f0c2e4a1d95e3f',
  hashVersion: 1,
  environments: {
    production: {
      enabled: true,
      overrides: { 'user-42': 'on' },
      rules: [{ id: 'beta', when: { segment: 'beta-testers' }, serve: { variant: 'on' } }],
    },
  },
};
const segments = [{ key: 'beta-testers', when: { attr: 'plan', op: 'eq' as const, value: 'beta' } }];

describe('playground evaluation', () => {
  it('uses the chosen environment, its overrides and the segments', () => {
    expect(evaluateLocally(flag, segments, 'production', { targetingKey: 'user-42' }).result).toMatchObject({
      variant: 'on',
      reason: 'TARGETING_MATCH',
      ruleId: 'override',
    });
    expect(
      evaluateLocally(flag, segments, 'production', { targetingKey: 'u', plan: 'beta' }).result.ruleId,
    ).toBe('beta');
    expect(evaluateLocally(flag, segments, 'staging', { targetingKey: 'user-42' }).result.reason).toBe(
      'DISABLED',
    );
  });
  it('says why a context is not usable', () => {
    expect(parseContext('[1]').ok).toBe(false);
    expect(parseContext('{"targetingKey": "a"').ok).toBe(false);
    expect(parseContext('{"targetingKey": "a"}')).toEqual({ ok: true, value: { targetingKey: 'a' } });
  });
});

describe('preview before saving', () => {
  it('counts sampled units that would change variant, only where the served flag changes', () => {
    const after: FlagConfig = structuredClone(flag);
    after.environments.production?.rules.push({
      id: 'half',
      serve: { split: [{ variant: 'on', range: [0, 500_000] }] },
    });
    const preview = previewLocally(flag, after, segments, 2_000);
    expect(Object.keys(preview)).toEqual(['production']);
    const p = preview.production!;
    expect(p.sampled).toBe(2_000);
    expect(p.share).toBeGreaterThan(0.4);
    expect(p.share).toBeLessThan(0.6);
    expect(p.transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['off->on']);
    expect(previewLocally(flag, structuredClone(flag), segments, 100)).toEqual({});
  });
});
