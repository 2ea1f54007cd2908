/**
 * The one contract every storage adapter passes (memory, SQLite, PostgreSQL). Each adapter's test file
 * calls `storeContract(name, makeStores)`; `makeStores` returns fresh, empty, migrated stores.
 */
import type { FlagConfig, Segment } from '@dimmer/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestBatch } from '../src/events/events.store.ts';
import type { ClientKeyRecord } from '../src/keys/keys.store.ts';
import type { MetricDefinition } from '../src/metrics/metric.model.ts';
import type { RolloutRecord } from '../src/rollouts/rollouts.store.ts';
import {
  type AuditInput,
  type ResourceType,
  StoreConflictError,
  StoreNotFoundError,
} from '../src/storage/write.ts';
import type { Stores } from '../src/stores.ts';

const T0 = 1_700_000_000_000;

function audit(
  resourceType: ResourceType,
  resourceKey: string,
  at: number,
  after: unknown = null,
): AuditInput {
  return {
    at,
    actor: 'admin:test',
    action: `${resourceType}.test`,
    resourceType,
    resourceKey,
    before: null,
    after,
  };
}

function flag(key: string, description = ''): FlagConfig {
  return {
    key,
    kind: 'boolean',
    description,
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: '0123456789abcdef',
    hashVersion: 1,
    environments: { production: { enabled: true, rules: [{ id: 'all', serve: { variant: 'on' } }] } },
  };
}

function clientKey(id: string, environment: string, keyHash: string): ClientKeyRecord {
  return {
    id,
    name: `key ${id}`,
    environment,
    kind: 'server',
    allowedOrigins: ['https://app.example.com'],
    eventsPerMinute: 500,
    prefix: 'dmr_srv_abcd',
    keyHash,
    createdAt: T0,
    revokedAt: null,
    rateLimitPerMinute: null,
  };
}

const METRIC: MetricDefinition = {
  key: 'clicks',
  kind: 'mean',
  event: 'click',
  aggregate: 'count',
  direction: 'lower_is_worse',
  margin: 0.05,
  window: 3_600_000,
  category: 'experience',
};

function rollout(id: string, state: RolloutRecord['state']): RolloutRecord {
  return {
    id,
    flag: 'f',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    state,
    stage: 0,
    reach: 1,
    attempt: 1,
    guardrails: ['clicks'],
    metrics: [METRIC],
    plan: { note: 'plan' },
    stateDoc: null,
    traffic: { expectedUnitsPerDay: 5000 },
    revision: 1,
    createdAt: T0,
    updatedAt: T0,
  };
}

function batch(
  batchId: string,
  exposures: [string, string, number][],
  tracks: [string, string, number][],
): IngestBatch {
  return {
    environment: 'production',
    batchId,
    answer: { batchId, accepted: exposures.length + tracks.length, rejected: [] },
    exposures: exposures.map(([unit, variant, ts]) => ({ flag: 'f', variant, unit, ts })),
    tracks: tracks.map(([unit, name, ts]) => ({ unit, name, ts, value: null })),
  };
}

/** Registers the contract tests for one adapter. */
export function storeContract(name: string, makeStores: () => Promise<Stores>): void {
  describe(`store contract: ${name}`, () => {
    let stores: Stores;

    beforeEach(async () => {
      stores = await makeStores();
      await stores.environments.create(
        { key: 'production', name: 'Production' },
        audit('environment', 'production', T0),
      );
      await stores.environments.create(
        { key: 'development', name: 'Development' },
        audit('environment', 'development', T0),
      );
    });

    afterEach(async () => {
      await stores.close();
    });

    it('creates environments at config version 1, ordered by key, and rejects duplicates', async () => {
      const list = await stores.environments.list();
      expect(list.map((e) => [e.key, e.configVersion])).toEqual([
        ['development', 1],
        ['production', 1],
      ]);
      await expect(
        stores.environments.create(
          { key: 'production', name: 'again' },
          audit('environment', 'production', T0),
        ),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect(await stores.environments.get('nope')).toBeUndefined();
    });

    it('renames an environment, and deletes one with its revoked keys and its state in every flag', async () => {
      await stores.environments.create(
        { key: 'staging', name: 'Staging' },
        audit('environment', 'staging', T0),
      );
      expect(
        (await stores.environments.rename('staging', 'Pre-prod', audit('environment', 'staging', T0 + 1)))
          .name,
      ).toBe('Pre-prod');
      await expect(
        stores.environments.rename('nope', 'x', audit('environment', 'nope', T0)),
      ).rejects.toBeInstanceOf(StoreNotFoundError);
      const both = {
        ...flag('both'),
        environments: { ...flag('both').environments, staging: { enabled: true, rules: [] } },
      };
      await stores.flags.create(both, audit('flag', 'both', T0 + 2));
      await stores.flags.create(flag('prod-only'), audit('flag', 'prod-only', T0 + 2));
      await stores.keys.createClientKey(
        clientKey('k1', 'staging', 'hash-k1'),
        audit('client_key', 'k1', T0 + 3),
      );
      // An active key refers to it: refused, nothing changed.
      await expect(
        stores.environments.remove('staging', audit('environment', 'staging', T0 + 4)),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect((await stores.flags.get('both'))?.flag.environments.staging).toBeDefined();
      await stores.keys.revokeClientKey('k1', audit('client_key', 'k1', T0 + 5));
      const changed = await stores.environments.remove('staging', audit('environment', 'staging', T0 + 6));
      expect(changed).toEqual(['both']);
      expect(await stores.environments.get('staging')).toBeUndefined();
      const after = await stores.flags.get('both');
      expect(Object.keys(after?.flag.environments ?? {})).toEqual(['production']);
      expect(after?.revision).toBe(2);
      expect((await stores.flags.get('prod-only'))?.revision).toBe(1);
      expect(await stores.keys.listClientKeys({ environment: 'staging' })).toEqual([]);
      await expect(
        stores.environments.remove('staging', audit('environment', 'staging', T0 + 7)),
      ).rejects.toBeInstanceOf(StoreNotFoundError);
    });

    it('stores flags, bumps the versions of the environments a write changes, and records audit in order', async () => {
      const created = await stores.flags.create(flag('a-flag', 'First one'), audit('flag', 'a-flag', T0 + 1));
      expect(created.value.revision).toBe(1);
      expect(created.value.flag).toEqual(flag('a-flag', 'First one'));
      expect(created.changes).toEqual([
        { environment: 'development', version: 2, committedAt: T0 + 1 },
        { environment: 'production', version: 2, committedAt: T0 + 1 },
      ]);
      const next = { ...flag('a-flag', 'Changed'), defaultVariant: 'on' };
      const updated = await stores.flags.update(
        next,
        { expectedRevision: 1, archived: false },
        audit('flag', 'a-flag', T0 + 2),
      );
      expect(updated.value).toMatchObject({
        revision: 2,
        archived: false,
        createdAt: T0 + 1,
        updatedAt: T0 + 2,
      });
      expect((await stores.flags.get('a-flag'))?.flag.defaultVariant).toBe('on');
      expect((await stores.environments.get('production'))?.configVersion).toBe(3);
      const entries = await stores.audit.list({ limit: 10, resourceType: 'flag' });
      expect(entries.map((e) => e.at)).toEqual([T0 + 2, T0 + 1]);
      // A change to one environment's state bumps only that environment; one that changes no config, none.
      const prodOnly = { ...next, environments: { production: { enabled: false, rules: [] } } };
      const narrowed = await stores.flags.update(
        prodOnly,
        { expectedRevision: 2, archived: false },
        audit('flag', 'a-flag', T0 + 3),
      );
      expect(narrowed.changes.map((c) => [c.environment, c.version])).toEqual([['production', 4]]);
      const described = await stores.flags.update(
        { ...prodOnly, description: 'Only words' },
        { expectedRevision: 3, archived: false },
        audit('flag', 'a-flag', T0 + 4),
      );
      expect(described.changes).toEqual([]);
      const archived = await stores.flags.update(
        { ...prodOnly, description: 'Only words' },
        { expectedRevision: 4, archived: true },
        audit('flag', 'a-flag', T0 + 5),
      );
      expect(archived.changes.map((c) => [c.environment, c.version])).toEqual([
        ['development', 4],
        ['production', 5],
      ]);
    });

    it('rejects a duplicate flag and a stale revision without changing anything', async () => {
      await stores.flags.create(flag('dup'), audit('flag', 'dup', T0 + 1));
      await expect(stores.flags.create(flag('dup'), audit('flag', 'dup', T0 + 2))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
      await expect(
        stores.flags.update(
          flag('dup', 'x'),
          { expectedRevision: 7, archived: false },
          audit('flag', 'dup', T0 + 3),
        ),
      ).rejects.toBeInstanceOf(StoreConflictError);
      await expect(
        stores.flags.update(
          flag('ghost'),
          { expectedRevision: 1, archived: false },
          audit('flag', 'ghost', T0 + 3),
        ),
      ).rejects.toBeInstanceOf(StoreNotFoundError);
      expect((await stores.flags.get('dup'))?.flag.description).toBe('');
      expect((await stores.environments.get('production'))?.configVersion).toBe(2);
      expect(await stores.audit.list({ limit: 10, resourceType: 'flag' })).toHaveLength(1);
    });

    it('lists flags by key, searches key and description case-insensitively, hides archived ones', async () => {
      await stores.flags.create(flag('zeta', 'New CHECKOUT page'), audit('flag', 'zeta', T0));
      await stores.flags.create(flag('alpha', 'search box'), audit('flag', 'alpha', T0));
      await stores.flags.create(flag('checkout_100%', ''), audit('flag', 'checkout_100%', T0));
      expect((await stores.flags.list()).map((r) => r.flag.key)).toEqual(['alpha', 'checkout_100%', 'zeta']);
      expect((await stores.flags.list({ q: 'checkout' })).map((r) => r.flag.key)).toEqual([
        'checkout_100%',
        'zeta',
      ]);
      expect((await stores.flags.list({ q: '100%' })).map((r) => r.flag.key)).toEqual(['checkout_100%']);
      expect((await stores.flags.list({ q: 'a_p' })).map((r) => r.flag.key)).toEqual([]);
      await stores.flags.update(
        flag('alpha', 'search box'),
        { expectedRevision: 1, archived: true },
        audit('flag', 'alpha', T0),
      );
      expect((await stores.flags.list()).map((r) => r.flag.key)).toEqual(['checkout_100%', 'zeta']);
      expect((await stores.flags.list({ includeArchived: true })).map((r) => r.flag.key)).toContain('alpha');
      expect((await stores.flags.get('alpha'))?.archived).toBe(true);
    });

    it('reads a config source without archived flags, at the current version', async () => {
      const seg: Segment = { key: 'beta', when: { attr: 'plan', op: 'eq', value: 'beta' } };
      await stores.segments.create(seg, audit('segment', 'beta', T0 + 1));
      await stores.flags.create(flag('b'), audit('flag', 'b', T0 + 2));
      await stores.flags.create(flag('a'), audit('flag', 'a', T0 + 3));
      await stores.flags.update(
        flag('b'),
        { expectedRevision: 1, archived: true },
        audit('flag', 'b', T0 + 4),
      );
      const source = await stores.config.read('production');
      expect(source).toEqual({
        environment: 'production',
        version: 5,
        committedAt: T0 + 4,
        flags: [flag('a')],
        segments: [seg],
        holdbacks: {},
      });
      expect(await stores.config.read('staging')).toBeUndefined();
    });

    it('creates, updates and deletes segments with revisions', async () => {
      const seg: Segment = {
        key: 'beta',
        description: 'Beta',
        when: { attr: 'plan', op: 'eq', value: 'beta' },
      };
      await stores.segments.create(seg, audit('segment', 'beta', T0));
      await expect(stores.segments.create(seg, audit('segment', 'beta', T0))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
      const changed = { ...seg, description: 'Beta testers' };
      const updated = await stores.segments.update(
        changed,
        { expectedRevision: 1 },
        audit('segment', 'beta', T0 + 1),
      );
      expect(updated.value.revision).toBe(2);
      await expect(
        stores.segments.delete('beta', { expectedRevision: 1 }, audit('segment', 'beta', T0 + 2)),
      ).rejects.toBeInstanceOf(StoreConflictError);
      const deleted = await stores.segments.delete(
        'beta',
        { expectedRevision: 2 },
        audit('segment', 'beta', T0 + 2),
      );
      expect(deleted.changes.map((c) => c.version)).toEqual([4, 4]);
      expect(await stores.segments.get('beta')).toBeUndefined();
      await expect(
        stores.segments.delete('beta', { expectedRevision: 2 }, audit('segment', 'beta', T0 + 3)),
      ).rejects.toBeInstanceOf(StoreNotFoundError);
    });

    it('stores client keys by hash, lists without change, and revokes once', async () => {
      await stores.keys.createClientKey(
        clientKey('key_1', 'production', 'h1'),
        audit('client_key', 'key_1', T0),
      );
      await stores.keys.createClientKey(
        clientKey('key_2', 'development', 'h2'),
        audit('client_key', 'key_2', T0 + 1),
      );
      await expect(
        stores.keys.createClientKey(clientKey('key_3', 'production', 'h1'), audit('client_key', 'key_3', T0)),
      ).rejects.toBeInstanceOf(StoreConflictError);
      await expect(
        stores.keys.createClientKey(clientKey('key_4', 'staging', 'h4'), audit('client_key', 'key_4', T0)),
      ).rejects.toBeInstanceOf(StoreNotFoundError);
      expect(await stores.keys.findClientKeyByHash('h1')).toEqual(clientKey('key_1', 'production', 'h1'));
      const ownLimit = { ...clientKey('key_5', 'production', 'h5'), rateLimitPerMinute: 250_000 };
      await stores.keys.createClientKey(ownLimit, audit('client_key', 'key_5', T0 + 2));
      expect(await stores.keys.getClientKey('key_5')).toEqual(ownLimit);
      expect((await stores.keys.listClientKeys({ environment: 'development' })).map((k) => k.id)).toEqual([
        'key_2',
      ]);
      expect((await stores.keys.listClientKeys()).map((k) => k.id)).toEqual(['key_1', 'key_2', 'key_5']);
      const revoked = await stores.keys.revokeClientKey('key_1', audit('client_key', 'key_1', T0 + 5));
      expect(revoked?.revokedAt).toBe(T0 + 5);
      const again = await stores.keys.revokeClientKey('key_1', audit('client_key', 'key_1', T0 + 9));
      expect(again?.revokedAt).toBe(T0 + 5);
      expect(
        await stores.keys.revokeClientKey('missing', audit('client_key', 'missing', T0)),
      ).toBeUndefined();
      expect(await stores.audit.list({ limit: 10, resourceType: 'client_key' })).toHaveLength(4);
    });

    it('stores admin tokens by hash', async () => {
      expect(await stores.keys.countAdminTokens()).toBe(0);
      const token = {
        id: 'tok_1',
        name: 'bootstrap',
        tokenHash: 'th',
        role: 'admin' as const,
        owner: null,
        createdAt: T0,
        revokedAt: null,
      };
      await stores.keys.createAdminToken(token, audit('admin_token', 'tok_1', T0));
      expect(await stores.keys.countAdminTokens()).toBe(1);
      expect(await stores.keys.findAdminTokenByHash('th')).toEqual(token);
      expect(await stores.keys.findAdminTokenByHash('other')).toBeUndefined();
    });

    it('lists, revokes and rotates admin tokens atomically', async () => {
      const first = {
        id: 'tok_a',
        name: 'ci',
        tokenHash: 'ha',
        role: 'releaser' as const,
        owner: 'user:ana@example.com',
        createdAt: T0,
        revokedAt: null,
      };
      await stores.keys.createAdminToken(first, audit('admin_token', 'tok_a', T0));
      const next = { ...first, id: 'tok_b', tokenHash: 'hb', createdAt: T0 + 1 };
      await stores.keys.rotateAdminToken('tok_a', next, audit('admin_token', 'tok_a', T0 + 1));
      expect(await stores.keys.listAdminTokens()).toEqual([{ ...first, revokedAt: T0 + 1 }, next]);
      // Rotating a revoked token fails and stores nothing.
      const third = { ...first, id: 'tok_c', tokenHash: 'hc', createdAt: T0 + 2 };
      await expect(
        stores.keys.rotateAdminToken('tok_a', third, audit('admin_token', 'tok_a', T0 + 2)),
      ).rejects.toThrow(StoreNotFoundError);
      expect(await stores.keys.findAdminTokenByHash('hc')).toBeUndefined();
      // A duplicate secret rolls the rotation back: the old token stays active.
      await expect(
        stores.keys.rotateAdminToken(
          'tok_b',
          { ...third, tokenHash: 'ha' },
          audit('admin_token', 'tok_b', T0 + 3),
        ),
      ).rejects.toThrow(StoreConflictError);
      expect((await stores.keys.findAdminTokenByHash('hb'))?.revokedAt).toBeNull();
      const revoked = await stores.keys.revokeAdminToken('tok_b', audit('admin_token', 'tok_b', T0 + 4));
      expect(revoked?.revokedAt).toBe(T0 + 4);
      expect(
        (await stores.keys.revokeAdminToken('tok_b', audit('admin_token', 'tok_b', T0 + 9)))?.revokedAt,
      ).toBe(T0 + 4);
      expect(
        await stores.keys.revokeAdminToken('missing', audit('admin_token', 'missing', T0)),
      ).toBeUndefined();
    });

    it('filters and pages the audit log newest first, keeping before/after documents', async () => {
      for (let i = 0; i < 5; i++)
        await stores.flags.create(flag(`f${i}`), {
          ...audit('flag', `f${i}`, T0 + 10 + i, { n: i }),
          actor: i % 2 ? 'odd' : 'even',
        });
      const page1 = await stores.audit.list({ limit: 2, resourceType: 'flag' });
      expect(page1.map((e) => e.resourceKey)).toEqual(['f4', 'f3']);
      expect(page1[0]?.after).toEqual({ n: 4 });
      expect(page1[0]?.before).toBeNull();
      const page2 = await stores.audit.list({
        limit: 2,
        resourceType: 'flag',
        beforeId: page1[1]?.id as number,
      });
      expect(page2.map((e) => e.resourceKey)).toEqual(['f2', 'f1']);
      expect((await stores.audit.list({ limit: 10, actor: 'odd' })).map((e) => e.resourceKey)).toEqual([
        'f3',
        'f1',
      ]);
      expect((await stores.audit.list({ limit: 10, since: T0 + 13 })).map((e) => e.resourceKey)).toEqual([
        'f4',
        'f3',
      ]);
      expect((await stores.audit.list({ limit: 10, resourceKey: 'f2' })).map((e) => e.action)).toEqual([
        'flag.test',
      ]);
    });

    it('keeps one version sequence under concurrent writes', async () => {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stores.flags.create(flag(`c${i}`), audit('flag', `c${i}`, T0 + i)),
        ),
      );
      expect((await stores.environments.get('development'))?.configVersion).toBe(9);
      expect(await stores.flags.list()).toHaveLength(8);
    });

    it('answers ping', async () => {
      await expect(stores.ping()).resolves.toBeUndefined();
    });

    it('stores metrics and surfaces with revisions and audit', async () => {
      await stores.metrics.create(METRIC, audit('metric', 'clicks', T0));
      await expect(stores.metrics.create(METRIC, audit('metric', 'clicks', T0))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
      const updated = await stores.metrics.update(
        { ...METRIC, margin: 0.1 },
        { expectedRevision: 1 },
        audit('metric', 'clicks', T0 + 1),
      );
      expect(updated).toMatchObject({ revision: 2, createdAt: T0, updatedAt: T0 + 1 });
      expect((await stores.metrics.get('clicks'))?.metric.margin).toBe(0.1);
      await expect(
        stores.metrics.update(METRIC, { expectedRevision: 1 }, audit('metric', 'clicks', T0)),
      ).rejects.toBeInstanceOf(StoreConflictError);
      const surface = { key: 'checkout', name: 'Checkout', guardrails: [{ metric: 'clicks', margin: 0.01 }] };
      await stores.surfaces.create(surface, audit('surface', 'checkout', T0));
      expect((await stores.surfaces.list()).map((r) => r.surface)).toEqual([surface]);
      await stores.surfaces.delete('checkout', { expectedRevision: 1 }, audit('surface', 'checkout', T0));
      await expect(
        stores.surfaces.delete('checkout', { expectedRevision: 1 }, audit('surface', 'checkout', T0)),
      ).rejects.toBeInstanceOf(StoreNotFoundError);
      await stores.metrics.delete('clicks', { expectedRevision: 2 }, audit('metric', 'clicks', T0));
      expect(await stores.metrics.list()).toEqual([]);
      expect(await stores.audit.list({ limit: 20, resourceType: 'metric' })).toHaveLength(3);
    });

    it('stores rollouts, one active per flag and environment, and moves reach with the flag in one write', async () => {
      await stores.flags.create(flag('f'), audit('flag', 'f', T0));
      const created = await stores.rollouts.create(rollout('ro_1', 'running'), audit('rollout', 'ro_1', T0));
      expect(created).toEqual({ ...rollout('ro_1', 'running'), revision: 1, createdAt: T0, updatedAt: T0 });
      await expect(
        stores.rollouts.create(rollout('ro_2', 'running'), audit('rollout', 'ro_2', T0)),
      ).rejects.toBeInstanceOf(StoreConflictError);
      await stores.rollouts.create(rollout('ro_3', 'draft'), audit('rollout', 'ro_3', T0 + 1));
      expect((await stores.rollouts.listActive('production')).map((r) => r.id)).toEqual(['ro_1']);
      expect((await stores.rollouts.list({ flag: 'f' })).map((r) => r.id)).toEqual(['ro_1', 'ro_3']);
      // A rule of production changes: only production gets a new config version.
      const doc = {
        ...flag('f', 'moved'),
        environments: { production: { enabled: true, rules: [{ id: 'ro', serve: { variant: 'off' } }] } },
      };
      const moved = await stores.rollouts.updateWithFlag(
        { ...created, stage: 1, reach: 10 },
        { expectedRevision: 1, flag: doc, flagRevision: 1 },
        [audit('rollout', 'ro_1', T0 + 2), audit('flag', 'f', T0 + 2)],
      );
      expect(moved.value).toMatchObject({ stage: 1, reach: 10, revision: 2, updatedAt: T0 + 2 });
      expect(moved.changes.map((c) => [c.environment, c.version])).toEqual([['production', 3]]);
      expect((await stores.flags.get('f'))?.flag.description).toBe('moved');
      await expect(
        stores.rollouts.updateWithFlag(
          { ...created, reach: 50 },
          { expectedRevision: 2, flag: doc, flagRevision: 1 },
          [audit('rollout', 'ro_1', T0 + 3)],
        ),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect((await stores.rollouts.get('ro_1'))?.reach).toBe(10);
      expect((await stores.environments.get('production'))?.configVersion).toBe(3);
      const done = await stores.rollouts.update(
        { ...moved.value, state: 'completed' },
        { expectedRevision: 2 },
        audit('rollout', 'ro_1', T0 + 4),
      );
      expect(done.state).toBe('completed');
      expect(await stores.rollouts.listActive('production')).toEqual([]);
    });

    it('commits a rollout with its decision (and its flag when given) and pages decisions newest first', async () => {
      await stores.flags.create(flag('f'), audit('flag', 'f', T0));
      const created = await stores.rollouts.create(rollout('ro_1', 'running'), audit('rollout', 'ro_1', T0));
      const decision = (at: number, action: 'hold' | 'advance') => ({
        rollout: 'ro_1',
        attempt: 1,
        at,
        action,
        rule: action === 'hold' ? 'min_duration' : 'all_clear',
        reason: `look at ${at}`,
        applied: action === 'advance',
        evidence: { metrics: { clicks: { status: 'assessed', z: 0.5 } }, stageIndex: 0 },
      });
      const held = await stores.rollouts.commit(
        { ...created, stateDoc: { looks: 1 } },
        { expectedRevision: 1, decision: decision(T0 + 1, 'hold') },
        [],
      );
      expect(held.changes).toEqual([]);
      expect(held.value.rollout).toMatchObject({ revision: 2, stateDoc: { looks: 1 } });
      const doc = {
        ...flag('f', 'advanced'),
        environments: { production: { enabled: true, rules: [{ id: 'ro', serve: { variant: 'off' } }] } },
      };
      const advanced = await stores.rollouts.commit(
        { ...held.value.rollout, stage: 1, reach: 10 },
        { expectedRevision: 2, flag: { document: doc, revision: 1 }, decision: decision(T0 + 2, 'advance') },
        [audit('rollout', 'ro_1', T0 + 2)],
      );
      expect(advanced.changes.map((c) => [c.environment, c.version])).toEqual([['production', 3]]);
      expect((await stores.flags.get('f'))?.flag.description).toBe('advanced');
      expect(advanced.value.decision?.id).toBeGreaterThan(held.value.decision?.id as number);
      await expect(
        stores.rollouts.commit(
          held.value.rollout,
          { expectedRevision: 2, decision: decision(T0 + 3, 'hold') },
          [],
        ),
      ).rejects.toBeInstanceOf(StoreConflictError);
      const all = await stores.rollouts.listDecisions('ro_1', { limit: 10 });
      expect(all.map((d) => d.action)).toEqual(['advance', 'hold']);
      expect(all[0]).toEqual({
        ...decision(T0 + 2, 'advance'),
        id: advanced.value.decision?.id,
        count: 1,
        firstAt: T0 + 2,
        seq: 2,
      });
      const older = await stores.rollouts.listDecisions('ro_1', {
        limit: 10,
        beforeId: all[0]?.id as number,
      });
      expect(older.map((d) => d.at)).toEqual([T0 + 1]);
      expect(await stores.rollouts.listDecisions('ro_2', { limit: 10 })).toEqual([]);
    });

    it('folds consecutive identical holds into one entry updated in place, and reads changes after a cursor', async () => {
      await stores.flags.create(flag('f'), audit('flag', 'f', T0));
      let record = await stores.rollouts.create(rollout('ro_1', 'running'), audit('rollout', 'ro_1', T0));
      const look = (
        at: number,
        over: Partial<{ action: 'hold' | 'advance'; rule: string; stage: number; applied: boolean }> = {},
      ) => ({
        rollout: 'ro_1',
        attempt: 1,
        at,
        action: over.action ?? 'hold',
        rule: over.rule ?? 'min_duration',
        reason: `look at ${at}`,
        applied: over.applied ?? false,
        evidence: {
          stageIndex: over.stage ?? 0,
          status: 'running',
          reach: 1,
          metrics: {
            clicks: {
              direction: 'lower_is_worse',
              margin: 0.05,
              summary: {
                delta: -0.01 * at,
                se: 0.1,
                interval: [-1, 1],
                meanControl: 2,
                harmDetected: false,
                deterioration: { z: 0.1, boundary: at === T0 + 2 ? null : 3 },
                nonInferiority: null,
              },
            },
          },
        },
      });
      const commit = async (d: ReturnType<typeof look>) => {
        const out = await stores.rollouts.commit(
          record,
          { expectedRevision: record.revision, decision: d },
          [],
        );
        record = out.value.rollout;
        return out.value.decision;
      };
      const first = await commit(look(T0 + 1));
      const second = await commit(look(T0 + 2));
      const third = await commit(look(T0 + 3));
      expect(second?.id).toBe(first?.id);
      expect(third).toMatchObject({
        id: first?.id,
        count: 3,
        firstAt: T0 + 1,
        at: T0 + 3,
        reason: `look at ${T0 + 3}`,
      });
      const cursor = await stores.rollouts.decisionCursor('ro_1');
      expect(cursor).toBe(third?.seq);
      // Another rule, then an applied advance, then holds at the next stage: each starts a new entry.
      await commit(look(T0 + 4, { rule: 'srm' }));
      await commit(look(T0 + 5, { action: 'advance', rule: 'all_clear', applied: true }));
      await commit(look(T0 + 6, { stage: 1 }));
      await commit(look(T0 + 7, { stage: 1 }));
      const log = await stores.rollouts.listDecisions('ro_1', { limit: 10 });
      expect(log.map((d) => [d.rule, d.count, d.firstAt, d.at])).toEqual([
        ['min_duration', 2, T0 + 6, T0 + 7],
        ['all_clear', 1, T0 + 5, T0 + 5],
        ['srm', 1, T0 + 4, T0 + 4],
        ['min_duration', 3, T0 + 1, T0 + 3],
      ]);
      const changed = await stores.rollouts.listDecisions('ro_1', { limit: 10, afterSeq: cursor });
      expect(changed.map((d) => d.rule)).toEqual(['srm', 'all_clear', 'min_duration']);
      expect(changed.map((d) => d.seq)).toEqual([...changed.map((d) => d.seq)].sort((a, b) => a - b));
      const holds = await stores.rollouts.listDecisions('ro_1', { limit: 10, actions: ['advance'] });
      expect(holds.map((d) => d.rule)).toEqual(['all_clear']);
      expect(await stores.rollouts.decisionCursor('ro_2')).toBe(0);
      // Every look is kept for the chart, even those folded in the log.
      const looks = await stores.rollouts.listLooks('ro_1');
      expect(looks.map((l) => l.at)).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => T0 + k));
      expect(looks.map((l) => l.stage)).toEqual([0, 0, 0, 0, 0, 1, 1]);
      expect(looks[0]?.points.clicks).toEqual({
        estimate: -0.01 * (T0 + 1),
        lower: -1,
        upper: 1,
        rollback: -1 * 3 * 0.1,
        margin: -1 * 0.05 * 2,
        z: 0.1,
        crossed: false,
      });
      expect(looks[1]?.points.clicks?.rollback).toBeNull();
      const later = await stores.rollouts.listLooks('ro_1', { afterId: looks[4]?.id as number });
      expect(later.map((l) => l.at)).toEqual([T0 + 6, T0 + 7]);
    });

    it('ingests batches once, keeps epochs and cohort statistics, and prunes raw events', async () => {
      await stores.flags.create(flag('f'), audit('flag', 'f', T0));
      await stores.rollouts.create(rollout('ro_1', 'running'), audit('rollout', 'ro_1', T0));
      const first = await stores.events.ingest(
        [
          batch(
            'b1',
            [['u1', 'on', T0 + 10]],
            [
              ['u1', 'click', T0 + 5],
              ['u1', 'click', T0 + 20],
              ['u9', 'click', T0],
            ],
          ),
          batch('b1', [['u1', 'on', T0 + 10]], []),
          batch('b2', [['u2', 'off', T0 + 10]], [['u2', 'click', T0 + 11]]),
        ],
        T0 + 100,
      );
      expect(first.map((r) => r.duplicate)).toEqual([false, true, false]);
      expect(first[1]?.answer).toEqual(first[0]?.answer);
      const again = await stores.events.ingest(
        [batch('b1', [], []), batch('b3', [['u1', 'on', T0 + 1]], [])],
        T0 + 200,
      );
      expect(again.map((r) => r.duplicate)).toEqual([true, false]);
      const analysis = await stores.rollouts.readAnalysis('ro_1', 1);
      // u1's epoch moved back to T0+1 by a late exposure: both clicks now count.
      expect(analysis.stats).toEqual([
        {
          cohort: 0,
          arm: 'control',
          metric: 'clicks',
          n: 1,
          sumY: 1,
          sumY2: 1,
          sumD: 0,
          sumD2: 0,
          sumYD: 0,
          sumY3: 1,
          sumY2D: 0,
          sumYD2: 0,
          sumD3: 0,
        },
        {
          cohort: 0,
          arm: 'treatment',
          metric: 'clicks',
          n: 1,
          sumY: 2,
          sumY2: 4,
          sumD: 0,
          sumD2: 0,
          sumYD: 0,
          sumY3: 8,
          sumY2D: 0,
          sumYD2: 0,
          sumD3: 0,
        },
      ]);
      expect(analysis.units).toEqual([
        { cohort: 0, arm: 'control', epochs: 1, assigned: 1 },
        { cohort: 0, arm: 'treatment', epochs: 1, assigned: 1 },
      ]);
      expect(await stores.rollouts.readAnalysis('ro_1', 2)).toEqual({ stats: [], units: [], quantiles: [] });
      expect(await stores.events.countTracks()).toBe(4);
      expect(await stores.events.prune(T0 + 6)).toBe(2);
      expect(await stores.events.countTracks()).toBe(2);
      expect(await stores.events.prune(T0 + 150)).toBe(4);
      expect((await stores.events.ingest([batch('b1', [], [])], T0 + 300))[0]?.duplicate).toBe(false);
    });

    it('keeps exact statistics under concurrent ingestion', async () => {
      await stores.flags.create(flag('f'), audit('flag', 'f', T0));
      await stores.rollouts.create(rollout('ro_1', 'running'), audit('rollout', 'ro_1', T0));
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stores.events.ingest([batch(`c${i}`, [['u1', 'on', T0]], [['u1', 'click', T0 + i]])], T0 + 100),
        ),
      );
      const { stats } = await stores.rollouts.readAnalysis('ro_1', 1);
      expect(stats).toEqual([
        {
          cohort: 0,
          arm: 'treatment',
          metric: 'clicks',
          n: 1,
          sumY: 8,
          sumY2: 64,
          sumD: 0,
          sumD2: 0,
          sumYD: 0,
          sumY3: 512,
          sumY2D: 0,
          sumYD2: 0,
          sumD3: 0,
        },
      ]);
    });

    it('stores sign-in sessions by hash, revokes them once, and prunes expired ones', async () => {
      const session = {
        id: 'ses_1',
        tokenHash: 'sh1',
        csrfHash: 'ch1',
        actor: 'user:ana@example.com',
        subject: 'ana',
        name: 'Ana',
        email: 'ana@example.com',
        groups: ['admins', 'staff'],
        via: 'browser' as const,
        createdAt: T0,
        expiresAt: T0 + 1_000,
        revokedAt: null,
      };
      await stores.people.createSession(session, audit('session', 'ses_1', T0));
      await expect(stores.people.createSession(session, audit('session', 'ses_1', T0))).rejects.toThrow(
        StoreConflictError,
      );
      expect(await stores.people.findSessionByHash('sh1')).toEqual(session);
      expect(await stores.people.findSessionByHash('other')).toBeUndefined();
      const device = {
        ...session,
        id: 'ses_2',
        tokenHash: 'sh2',
        via: 'device' as const,
        name: null,
        email: null,
        createdAt: T0 + 1,
        expiresAt: T0 + 5_000,
      };
      await stores.people.createSession(device, audit('session', 'ses_2', T0));
      expect((await stores.people.listSessions({ since: T0, limit: 10 })).map((s) => s.id)).toEqual([
        'ses_2',
        'ses_1',
      ]);
      expect((await stores.people.listSessions({ since: T0 + 2_000, limit: 10 })).map((s) => s.id)).toEqual([
        'ses_2',
      ]);
      expect(
        (await stores.people.revokeSession('ses_1', audit('session', 'ses_1', T0 + 10)))?.revokedAt,
      ).toBe(T0 + 10);
      expect(
        (await stores.people.revokeSession('ses_1', audit('session', 'ses_1', T0 + 20)))?.revokedAt,
      ).toBe(T0 + 10);
      expect(await stores.people.revokeSession('missing', audit('session', 'missing', T0))).toBeUndefined();
      expect(await stores.people.pruneSessions(T0 + 2_000)).toBe(1);
      expect(await stores.people.findSessionByHash('sh1')).toBeUndefined();
      expect(await stores.audit.list({ limit: 10, resourceType: 'session' })).toHaveLength(3);
    });

    it('stores one grant per subject and environment, and approvals per resource', async () => {
      const grant = {
        id: 'grant_1',
        subject: 'group:ops',
        environment: '*',
        role: 'releaser' as const,
        createdAt: T0,
        createdBy: 'user:ana',
      };
      await stores.people.createGrant(grant, audit('grant', 'grant_1', T0));
      await expect(
        stores.people.createGrant({ ...grant, id: 'grant_2', role: 'viewer' }, audit('grant', 'grant_2', T0)),
      ).rejects.toThrow(StoreConflictError);
      const dev = { ...grant, id: 'grant_3', environment: 'development', role: 'admin' as const };
      await stores.people.createGrant(dev, audit('grant', 'grant_3', T0));
      expect(await stores.people.listGrants()).toEqual([grant, dev]);
      expect(await stores.people.deleteGrant('grant_1', (g) => audit('grant', g.id, T0 + 1, g))).toBe(true);
      expect(await stores.people.deleteGrant('grant_1', (g) => audit('grant', g.id, T0 + 1, g))).toBe(false);
      expect(await stores.people.listGrants()).toEqual([dev]);
      const approval = {
        id: 'apr_1',
        resourceType: 'rollout' as const,
        resourceId: 'ro_1',
        action: 'start' as const,
        approver: 'user:rita',
        version: 1,
        digest: 'd1',
        comment: null,
        at: T0,
      };
      await stores.people.createApproval(approval, audit('rollout', 'ro_1', T0));
      await stores.people.createApproval(
        { ...approval, id: 'apr_2', at: T0 + 1, comment: 'ok' },
        audit('rollout', 'ro_1', T0),
      );
      await stores.people.createApproval(
        { ...approval, id: 'apr_3', resourceId: 'ro_2' },
        audit('rollout', 'ro_2', T0),
      );
      expect((await stores.people.listApprovals('rollout', 'ro_1')).map((a) => [a.id, a.comment])).toEqual([
        ['apr_1', null],
        ['apr_2', 'ok'],
      ]);
      expect(await stores.people.listApprovals('experiment', 'ro_1')).toEqual([]);
      await stores.people.appendAudit(audit('rollout', 'ro_1', T0 + 2));
      expect(await stores.audit.list({ limit: 10, resourceType: 'rollout' })).toHaveLength(4);
      expect(await stores.audit.list({ limit: 10, resourceType: 'grant' })).toHaveLength(3);
    });
  });
}
