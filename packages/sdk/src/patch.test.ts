import type { EnvironmentSnapshot, SnapshotFlag } from '@dimmer/core';
import { describe, expect, it } from 'vitest';
import { makeSnapshot } from '../test/fixtures.ts';
import { applyConfigPatch, type ConfigNotice } from './patch.ts';
import { parseNotice } from './sync.ts';

const held = makeSnapshot(7);
const keys = (snapshot: EnvironmentSnapshot | undefined) => snapshot?.flags.map((f) => f.key);

function flag(key: string): SnapshotFlag {
  return {
    key,
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'on',
    salt: `salt-${key}`,
    hashVersion: 1,
    enabled: true,
    rules: [],
  };
}

function notice(patch: Record<string, unknown>, version = 8): ConfigNotice {
  return {
    environment: 'production',
    version,
    etag: `"production-${version}"`,
    patch: { base: 7, flags: [], removedFlags: [], segments: [], removedSegments: [], ...patch },
  };
}

describe('applyConfigPatch', () => {
  it('replaces changed flags in place, drops removed ones and inserts added ones by key', () => {
    const sorted = { ...held, flags: [...held.flags].sort((a, b) => (a.key < b.key ? -1 : 1)) };
    expect(keys(sorted)).toEqual(['banner', 'device-exp', 'limit', 'new-checkout', 'theme']);
    const limit = { ...flag('limit'), kind: 'number' as const, variants: { low: 1, high: 2 } };
    const patched = applyConfigPatch(
      sorted,
      notice({ flags: [flag('zebra'), limit, flag('alpha'), flag('m-flag')], removedFlags: ['theme'] }),
    );
    expect(keys(patched?.snapshot)).toEqual([
      'alpha',
      'banner',
      'device-exp',
      'limit',
      'm-flag',
      'new-checkout',
      'zebra',
    ]);
    expect(patched?.snapshot.flags[3]).toBe(limit);
    expect(patched?.snapshot.version).toBe(8);
    expect(patched?.flagsChanged).toEqual(['zebra', 'limit', 'alpha', 'm-flag', 'theme']);
    // The held snapshot is left as it was.
    expect(keys(sorted)).toEqual(['banner', 'device-exp', 'limit', 'new-checkout', 'theme']);
  });

  it('gives the same order for the same base and patch', () => {
    const patch = notice({ flags: [flag('b-new'), flag('a-new')], removedFlags: ['limit'] });
    expect(keys(applyConfigPatch(held, patch)?.snapshot)).toEqual(
      keys(applyConfigPatch(structuredClone(held), structuredClone(patch))?.snapshot),
    );
  });

  it('changes, adds and removes segments by key', () => {
    const base = {
      ...held,
      segments: [...held.segments, { key: 'beta', when: { attr: 'beta', op: 'eq', value: true } }],
    };
    const staff = { key: 'staff', when: { attr: 'email', op: 'ends_with', value: '@acme.org' } };
    const patched = applyConfigPatch(
      base as EnvironmentSnapshot,
      notice({
        segments: [staff, { key: 'vip', when: { attr: 'vip', op: 'eq', value: true } }],
        removedSegments: ['beta'],
      }),
    );
    expect(patched?.snapshot.segments.map((s) => s.key)).toEqual(['staff', 'vip']);
    expect(patched?.snapshot.segments[0]).toBe(staff);
    expect(patched?.flagsChanged).toEqual([]);
    expect(patched?.snapshot.flags).toEqual(held.flags);
  });

  it('does not apply to another base, another environment, an older version or a malformed patch', () => {
    expect(applyConfigPatch(held, notice({ base: 6 }))).toBeUndefined();
    expect(applyConfigPatch(held, { ...notice({}), environment: 'staging' })).toBeUndefined();
    expect(applyConfigPatch(held, { environment: 'production', version: 8 })).toBeUndefined();
    expect(applyConfigPatch(held, notice({}, 7))).toBeUndefined();
    for (const bad of [
      { flags: null },
      { flags: [{ kind: 'boolean' }] },
      { removedFlags: [1] },
      { segments: 'staff' },
      { removedSegments: {} },
    ])
      expect(applyConfigPatch(held, notice(bad))).toBeUndefined();
    expect(applyConfigPatch(held, { environment: 'production', version: 8, patch: 'x' })).toBeUndefined();
  });
});

describe('parseNotice', () => {
  it('reads the version, environment, etag and patch of a config frame', () => {
    expect(parseNotice('{"environment":"production","version":43}')).toEqual({
      environment: 'production',
      version: 43,
    });
    expect(
      parseNotice(
        '{"environment":"production","version":44,"etag":"\\"production-44\\"","patch":{"base":43}}',
      ),
    ).toEqual({ environment: 'production', version: 44, etag: '"production-44"', patch: { base: 43 } });
    expect(parseNotice('{"environment":"production"}')).toBeUndefined();
    expect(parseNotice('not json')).toBeUndefined();
    expect(parseNotice('null')).toBeUndefined();
  });
});
