import { describe, expect, it } from 'vitest';
import { BUCKET_COUNT, type SnapshotFlag, type SplitSlice } from './model.ts';
import { previewSplitChange } from './preview.ts';
import { reachToBuckets } from './reach.ts';

function flag(split: SplitSlice[], salt = 'salt-a'): SnapshotFlag {
  return {
    key: 'f',
    kind: 'string',
    variants: { a: 'A', b: 'B', c: 'C' },
    defaultVariant: 'a',
    salt,
    hashVersion: 1,
    enabled: true,
    rules: [{ id: 'split', serve: { split } }],
  };
}
const units = Array.from({ length: 20_000 }, (_, i) => `unit-${i}`);

describe('previewSplitChange', () => {
  it('counts only the units a reach increase moves, all from control to treatment', () => {
    const ten = reachToBuckets(10);
    const twenty = reachToBuckets(20);
    const before = flag([
      { variant: 'b', range: [0, ten] },
      { variant: 'a', range: [ten, BUCKET_COUNT] },
    ]);
    const after = flag([
      { variant: 'b', range: [0, twenty] },
      { variant: 'a', range: [twenty, BUCKET_COUNT] },
    ]);
    const p = previewSplitChange(before, after, units);
    expect(p.sampled).toBe(units.length);
    expect(p.transitions).toEqual([{ from: 'a', to: 'b', count: p.changed }]);
    expect(p.share).toBeGreaterThan(0.09);
    expect(p.share).toBeLessThan(0.11);
  });

  it('reports no change for an identical flag and a large change for a new salt', () => {
    const f = flag([
      { variant: 'b', range: [0, 500_000] },
      { variant: 'c', range: [500_000, BUCKET_COUNT] },
    ]);
    expect(previewSplitChange(f, f, units)).toEqual({
      sampled: units.length,
      changed: 0,
      share: 0,
      transitions: [],
    });
    const resalted = previewSplitChange(f, { ...f, salt: 'salt-b' }, units);
    expect(resalted.share).toBeGreaterThan(0.45);
    expect(resalted.share).toBeLessThan(0.55);
    expect(resalted.transitions.map((t) => `${t.from}>${t.to}`).sort()).toEqual(['b>c', 'c>b']);
  });

  it('accepts full contexts and segments, and an empty sample', () => {
    const before = {
      ...flag([{ variant: 'b', range: [0, BUCKET_COUNT] }]),
      rules: [{ id: 'vip', when: { segment: 'vip' }, serve: { variant: 'b' } }],
    } as SnapshotFlag;
    const after = { ...before, rules: [] };
    const segments = [{ key: 'vip', when: { attr: 'plan', op: 'eq' as const, value: 'vip' } }];
    const p = previewSplitChange(
      before,
      after,
      [
        { targetingKey: 'x', plan: 'vip' },
        { targetingKey: 'y', plan: 'free' },
      ],
      segments,
    );
    expect(p).toEqual({
      sampled: 2,
      changed: 1,
      share: 0.5,
      transitions: [{ from: 'b', to: 'a', count: 1 }],
    });
    expect(previewSplitChange(before, after, []).share).toBe(0);
  });
});
