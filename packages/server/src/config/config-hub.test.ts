import { describe, expect, it } from 'vitest';
import type { ConfigState } from '../client-deps.ts';
import type { AuditInput } from '../storage/write.ts';
import { createMemoryStores } from '../stores.ts';
import { StoreConfigHub } from './config-hub.ts';

function audit(key: string, at: number): AuditInput {
  return { at, actor: 't', action: 'x', resourceType: 'flag', resourceKey: key, before: null, after: null };
}

const flag = (key: string) => ({
  key,
  kind: 'boolean' as const,
  variants: { off: false, on: true },
  defaultVariant: 'off',
  salt: 'abcdef0123456789',
  hashVersion: 1 as const,
  environments: { production: { enabled: true, rules: [{ id: 'all', serve: { variant: 'on' } }] } },
});

async function setup() {
  const stores = createMemoryStores();
  await stores.environments.create(
    { key: 'production', name: 'P' },
    { ...audit('production', 1), resourceType: 'environment' },
  );
  const hub = new StoreConfigHub({
    store: stores.config,
    listEnvironments: async () => (await stores.environments.list()).map((e) => e.key),
  });
  await hub.load();
  return { stores, hub };
}

describe('StoreConfigHub', () => {
  it('loads every environment with a compiled snapshot and an ETag per version', async () => {
    const { hub } = await setup();
    expect(hub.loaded).toBe(true);
    const state = hub.get('production');
    expect(state).toMatchObject({
      environment: 'production',
      version: 1,
      etag: '"production-1"',
      committedAt: 1,
    });
    expect(state?.snapshot).toEqual({ environment: 'production', version: 1, flags: [], segments: [] });
    expect(hub.get('staging')).toBeUndefined();
  });

  it('swaps in newer versions only and tells subscribers once per version', async () => {
    const { stores, hub } = await setup();
    const seen: number[] = [];
    const unsubscribe = hub.subscribe('production', (s: ConfigState) => seen.push(s.version));
    const first = await stores.flags.create(flag('a'), audit('a', 10));
    await hub.apply(first.changes);
    await hub.apply(first.changes);
    await hub.apply([{ environment: 'production', version: 1 }]);
    expect(seen).toEqual([2]);
    expect(hub.get('production')?.snapshot.flags.map((f) => f.key)).toEqual(['a']);
    expect(hub.get('production')?.snapshot.flags[0]).toMatchObject({
      enabled: true,
      salt: 'abcdef0123456789',
    });
    unsubscribe();
    const second = await stores.flags.create(flag('b'), audit('b', 11));
    await hub.apply(second.changes);
    expect(seen).toEqual([2]);
    expect(hub.get('production')?.version).toBe(3);
  });

  it('gives each new version a patch against the version it held before', async () => {
    const { stores, hub } = await setup();
    expect(hub.get('production')?.patch).toBeUndefined();
    const first = await stores.flags.create(flag('a'), audit('a', 10));
    await hub.apply(first.changes);
    const added = hub.get('production');
    expect(added?.patch).toEqual({
      base: 1,
      flags: added?.snapshot.flags,
      removedFlags: [],
      segments: [],
      removedSegments: [],
    });
    const second = await stores.flags.create(flag('b'), audit('b', 11));
    await hub.apply(second.changes);
    const state = hub.get('production');
    expect(state?.patch?.base).toBe(2);
    expect(state?.patch?.flags.map((f) => f.key)).toEqual(['b']);
    // The unchanged flag is the previous version's object, compiled once; the new one is compiled.
    expect(state?.snapshot.flags.find((f) => f.key === 'a')).toBe(
      added?.snapshot.flags.find((f) => f.key === 'a'),
    );
    expect(state?.compiled.flags.get('a')).toBe(added?.compiled.flags.get('a'));
    expect(state?.compiled.flags.get('b')?.key).toBe('b');
  });

  it('concurrent reloads end on the newest version and a throwing listener does not stop others', async () => {
    const { stores, hub } = await setup();
    const seen: number[] = [];
    hub.subscribe('production', () => {
      throw new Error('listener bug');
    });
    hub.subscribe('production', (s) => seen.push(s.version));
    const writes = await Promise.all(
      [1, 2, 3].map((i) => stores.flags.create(flag(`f${i}`), audit(`f${i}`, 20 + i))),
    );
    await Promise.all(writes.map((w) => hub.apply(w.changes)));
    expect(hub.get('production')?.version).toBe(4);
    expect(seen[seen.length - 1]).toBe(4);
    expect([...seen].sort()).toEqual(seen);
  });

  it('resync picks up new environments and changes it was not told about', async () => {
    const { stores, hub } = await setup();
    await stores.environments.create(
      { key: 'staging', name: 'S' },
      { ...audit('staging', 30), resourceType: 'environment' },
    );
    await stores.flags.create(flag('quiet'), audit('quiet', 31));
    expect(hub.get('staging')).toBeUndefined();
    await hub.resync();
    expect(hub.get('staging')?.version).toBe(2);
    expect(hub.get('production')?.version).toBe(2);
  });
});
