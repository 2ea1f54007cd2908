import type { EnvironmentSnapshot, Segment, SnapshotFlag } from '@dimmer/core';
import { describe, expect, it } from 'vitest';
import { diffSnapshots, MAX_STREAM_PATCH_CHARS, shareUnchanged } from './snapshot-patch.ts';

function flag(key: string, variant = 'on', description = ''): SnapshotFlag {
  return {
    key,
    kind: 'string',
    variants: { on: variant, off: 'off', ...(description === '' ? {} : { note: description }) },
    defaultVariant: 'off',
    salt: `salt-${key}`,
    hashVersion: 1,
    enabled: true,
    rules: [{ id: 'all', serve: { variant: 'on' } }],
  };
}

const segment = (key: string, domain: string): Segment => ({
  key,
  when: { attr: 'email', op: 'ends_with', value: domain },
});

function snapshot(version: number, flags: SnapshotFlag[], segments: Segment[] = []): EnvironmentSnapshot {
  return { environment: 'production', version, flags, segments };
}

/** Applies a patch the way a client does (by key), to check it reproduces the newer snapshot. */
function apply(base: EnvironmentSnapshot, patch: NonNullable<ReturnType<typeof diffSnapshots>>) {
  const flags = new Map(base.flags.map((f) => [f.key, f]));
  for (const key of patch.removedFlags) flags.delete(key);
  for (const f of patch.flags) flags.set(f.key, f);
  const segments = new Map(base.segments.map((s) => [s.key, s]));
  for (const key of patch.removedSegments) segments.delete(key);
  for (const s of patch.segments) segments.set(s.key, s);
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
  return { flags: [...flags.values()].sort(byKey), segments: [...segments.values()].sort(byKey) };
}

describe('diffSnapshots', () => {
  const v1 = snapshot(1, [flag('a'), flag('b'), flag('c')], [segment('staff', '@acme.com')]);

  it('carries a changed flag whole and nothing else, against the previous version', () => {
    const v2 = snapshot(2, [flag('a'), flag('b', 'blue'), flag('c')], [segment('staff', '@acme.com')]);
    const patch = diffSnapshots(v1, v2);
    expect(patch).toEqual({
      base: 1,
      flags: [v2.flags[1]],
      removedFlags: [],
      segments: [],
      removedSegments: [],
    });
  });

  it('carries an added flag and the key of a removed one', () => {
    const v2 = snapshot(2, [flag('a'), flag('b'), flag('d')], [segment('staff', '@acme.com')]);
    const patch = diffSnapshots(v1, v2);
    expect(patch).toMatchObject({ base: 1, flags: [v2.flags[2]], removedFlags: ['c'] });
    expect(apply(v1, patch as NonNullable<typeof patch>)).toEqual({ flags: v2.flags, segments: v2.segments });
  });

  it('carries a changed segment, an added one and the key of a removed one', () => {
    const before = snapshot(4, [flag('a')], [segment('beta', '@beta.test'), segment('staff', '@acme.com')]);
    const after = snapshot(6, [flag('a')], [segment('staff', '@acme.org'), segment('vip', '@vip.test')]);
    const patch = diffSnapshots(before, after);
    expect(patch).toEqual({
      base: 4,
      flags: [],
      removedFlags: [],
      segments: [segment('staff', '@acme.org'), segment('vip', '@vip.test')],
      removedSegments: ['beta'],
    });
    expect(apply(before, patch as NonNullable<typeof patch>)).toEqual({
      flags: after.flags,
      segments: after.segments,
    });
  });

  it('is empty but present for a new version that changed no flag or segment', () => {
    expect(diffSnapshots(v1, { ...v1, version: 2 })).toEqual({
      base: 1,
      flags: [],
      removedFlags: [],
      segments: [],
      removedSegments: [],
    });
  });

  it('is absent when the change is larger than the bound, so clients refetch', () => {
    const big = 'x'.repeat(MAX_STREAM_PATCH_CHARS);
    expect(diffSnapshots(v1, snapshot(2, [flag('a', 'on', big), flag('b'), flag('c')]))).toBeUndefined();
    const small = snapshot(2, [flag('a', 'small'), flag('b'), flag('c')]);
    expect(diffSnapshots(v1, small, 10)).toBeUndefined();
    expect(diffSnapshots(v1, small, 1_000)).toBeDefined();
  });

  it('is absent for an older or equal version, another environment, or duplicate keys', () => {
    expect(diffSnapshots(v1, { ...v1 })).toBeUndefined();
    expect(diffSnapshots(snapshot(3, []), v1)).toBeUndefined();
    expect(diffSnapshots(v1, { ...v1, environment: 'staging', version: 2 })).toBeUndefined();
    expect(diffSnapshots(v1, snapshot(2, [flag('a'), flag('a', 'twice')]))).toBeUndefined();
  });
});

describe('shareUnchanged', () => {
  it("keeps the previous version's objects for entries whose JSON is unchanged", () => {
    const before = snapshot(1, [flag('a'), flag('b')], [segment('s', 'x.test')]);
    const after = snapshot(2, [flag('a'), flag('b', 'off'), flag('c')], [segment('s', 'x.test')]);
    const shared = shareUnchanged(before, after);
    expect(shared.version).toBe(2);
    expect(shared.flags[0]).toBe(before.flags[0]);
    expect(shared.flags[1]).toBe(after.flags[1]);
    expect(shared.flags[2]).toBe(after.flags[2]);
    expect(shared.segments[0]).toBe(before.segments[0]);
    expect(JSON.stringify(shared)).toBe(JSON.stringify(after));
    // Its patch is the same as the unshared snapshot's.
    expect(diffSnapshots(before, shared)).toEqual(diffSnapshots(before, after));
  });

  it('shares nothing across environments', () => {
    const before = snapshot(1, [flag('a')]);
    const after = { ...snapshot(2, [flag('a')]), environment: 'staging' };
    expect(shareUnchanged(before, after)).toBe(after);
  });
});
