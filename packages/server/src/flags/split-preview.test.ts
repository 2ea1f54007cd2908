import type { FlagConfig } from '@dimmer/core';
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

  it('compares documents regardless of key order', () => {
    expect(stableStringify({ b: 1, a: [{ d: 2, c: undefined }] })).toBe(
      stableStringify({ a: [{ d: 2 }], b: 1 }),
    );
  });
});
