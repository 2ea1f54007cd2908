import { BUCKET_COUNT, type FlagConfig, flattenFlag, previewSplitChange, type Rule } from '@dimmer/core';
import { describe, expect, it } from 'vitest';
import { PREVIEW_SAMPLE_SIZE, previewFlagChange, previewSample, stableStringify } from './split-preview.ts';

const flag = (end: number, devEnabled = false): FlagConfig => ({
  key: 'f',
  kind: 'boolean',
  variants: { off: false, on: true },
  defaultVariant: 'off',
  salt: '00112233aabbccdd',
  hashVersion: 1,
  environments: {
    production: {
      enabled: true,
      rules: [{ id: 'r', serve: { split: [{ variant: 'on', range: [0, end] }] } }],
    },
    development: { enabled: devEnabled, rules: [] },
  },
});

describe('split-change preview', () => {
  it('samples 100,000 deterministic unit ids by default', () => {
    const sample = previewSample();
    expect(sample).toHaveLength(PREVIEW_SAMPLE_SIZE);
    expect(PREVIEW_SAMPLE_SIZE).toBe(100_000);
    expect(sample[0]).toBe('unit-0');
    expect(previewSample()).toBe(sample);
  });

  it('reports only environments whose served flag changed, and estimates the moved share', () => {
    const preview = previewFlagChange(
      flag(200_000),
      flag(300_000),
      ['production', 'development', 'staging'],
      [],
      20_000,
    );
    expect(Object.keys(preview)).toEqual(['production']);
    expect(preview.production?.share).toBeGreaterThan(0.08);
    expect(preview.production?.share).toBeLessThan(0.12);
    expect(preview.production?.transitions.map((t) => [t.from, t.to])).toEqual([['off', 'on']]);
    expect(
      Object.keys(previewFlagChange(flag(1), flag(1, true), ['production', 'development'], [], 100)),
    ).toEqual(['development']);
  });

  it('computes the change exactly from bucket ranges when no condition reads the unit id', () => {
    const preview = previewFlagChange(flag(200_000), flag(300_000), ['production'], [], 20_000);
    expect(preview.production).toEqual({
      sampled: BUCKET_COUNT,
      changed: 100_000,
      share: 0.1,
      transitions: [{ from: 'off', to: 'on', count: 100_000 }],
    });
  });

  it('agrees with evaluating a sample of ids, through conditions, segments, fall-through and bucketBy', () => {
    const withRules = (rules: Rule[], enabled = true): FlagConfig => ({
      ...flag(0),
      variants: { off: false, on: true },
      environments: { production: { enabled, rules } },
    });
    const split = (id: string, ...slices: [string, number, number][]): Rule => ({
      id,
      serve: { split: slices.map(([variant, start, end]) => ({ variant, range: [start, end] })) },
    });
    const segments = [
      { key: 'staff', when: { attr: 'email', op: 'ends_with' as const, value: '@acme.com' } },
    ];
    const cases: [FlagConfig, FlagConfig][] = [
      [withRules([split('a', ['on', 0, 300_000])]), withRules([split('a', ['on', 100_000, 700_000])])],
      [
        withRules([
          split('a', ['on', 0, 200_000], ['off', 500_000, 600_000]),
          split('b', ['on', 150_000, 900_000]),
        ]),
        withRules([
          { id: 'x', serve: { variant: 'on' }, when: { segment: 'staff' } },
          split('b', ['on', 0, 450_000]),
        ]),
      ],
      [
        withRules([
          { id: 'c', when: { not: { attr: 'country', op: 'eq', value: 'SE' } }, serve: { variant: 'on' } },
        ]),
        withRules([
          { ...split('d', ['on', 0, 250_000]), bucketBy: 'companyId' },
          split('e', ['on', 600_000, BUCKET_COUNT]),
        ]),
      ],
      [withRules([split('a', ['on', 0, 500_000])], false), withRules([split('a', ['on', 0, 500_000])])],
    ];
    for (const [before, after] of cases) {
      const exact = previewFlagChange(before, after, ['production'], segments).production;
      const sampled = previewSplitChange(
        flattenFlag(before, 'production'),
        flattenFlag(after, 'production'),
        previewSample(20_000),
        segments,
      );
      expect(exact?.sampled).toBe(BUCKET_COUNT);
      expect(Math.abs((exact?.share ?? -1) - sampled.share)).toBeLessThan(0.015);
      expect(exact?.transitions.map((t) => `${t.from}>${t.to}`).sort()).toEqual(
        sampled.transitions.map((t) => `${t.from}>${t.to}`).sort(),
      );
    }
  });

  it('samples ids when a condition reads the unit id', () => {
    const byId = (end: number): FlagConfig => {
      const f = flag(end);
      (f.environments.production as { rules: Rule[] }).rules.unshift({
        id: 'vip',
        when: { attr: 'targetingKey', op: 'ends_with', value: '7' },
        serve: { variant: 'on' },
      });
      return f;
    };
    const preview = previewFlagChange(byId(200_000), byId(300_000), ['production'], [], 20_000);
    expect(preview.production?.sampled).toBe(20_000);
    expect(preview.production?.share).toBeGreaterThan(0.07);
    expect(preview.production?.share).toBeLessThan(0.11);
  });

  it('compares documents regardless of key order', () => {
    expect(stableStringify({ b: 1, a: [{ d: 2, c: undefined }] })).toBe(
      stableStringify({ a: [{ d: 2 }], b: 1 }),
    );
  });
});
