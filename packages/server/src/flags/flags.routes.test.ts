import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type Json, sampleFlag, type TestApp } from '../../testing/test-app.ts';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

async function createFlag(key = 'new-checkout', extra: Record<string, unknown> = {}) {
  const res = await t.admin('POST', '/api/v1/flags', { ...sampleFlag(key), ...extra });
  expect(res.status).toBe(201);
  return res.json;
}

async function snapshotOf() {
  return {
    flag: (await t.admin('GET', '/api/v1/flags/new-checkout')).json,
    version: t.app.dimmer.hub.get('production')?.version,
    audit: (await t.admin('GET', '/api/v1/audit')).json.entries.length,
  };
}

describe('creating flags', () => {
  it('keeps a given salt on create and rejects a duplicate key with CONFLICT', async () => {
    const flag = await createFlag('new-checkout', { salt: 'b7f0c2e4a1d95e3f' });
    expect(flag.salt).toBe('b7f0c2e4a1d95e3f');
    const dup = await t.admin('POST', '/api/v1/flags', sampleFlag());
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe('CONFLICT');
  });

  it('names the paths of core validation issues', async () => {
    const bad = sampleFlag();
    (bad.environments as Json).production.rules[0].serve.split[0].range = [0, 2_000_000];
    bad.defaultVariant = 'missing';
    const res = await t.admin('POST', '/api/v1/flags', bad);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
    const paths = res.json.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain('defaultVariant');
    expect(paths.some((p: string) => p.startsWith('environments.production.rules[0].serve.split[0]'))).toBe(
      true,
    );
  });

  it('rejects unknown fields at the top and inside rules, naming them', async () => {
    const res = await t.admin('POST', '/api/v1/flags', { ...sampleFlag(), colour: 'blue' });
    expect(res.status).toBe(400);
    expect(res.json.error.details.issues).toContainEqual({ path: 'colour', message: 'unknown field' });
    const nested = sampleFlag();
    (nested.environments as Json).production.rules[0].weight = 3;
    const res2 = await t.admin('POST', '/api/v1/flags', nested);
    expect(res2.json.error.details.issues).toContainEqual({
      path: 'environments.production.rules[0].weight',
      message: 'unknown field',
    });
  });

  it('does not coerce types: "true" is not a boolean', async () => {
    const flag = sampleFlag();
    (flag.environments as Json).production.enabled = 'true';
    const res = await t.admin('POST', '/api/v1/flags', flag);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
    expect(res.json.error.details.issues.map((i: { path: string }) => i.path)).toContain(
      'environments.production.enabled',
    );
  });

  it('rejects environments that do not exist and segments that do not exist', async () => {
    const flag = sampleFlag();
    (flag.environments as Json).staging = { enabled: true, rules: [] };
    (flag.environments as Json).production.rules[0].when = { segment: 'ghosts' };
    const res = await t.admin('POST', '/api/v1/flags', flag);
    expect(res.status).toBe(400);
    const paths = res.json.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toContain('environments.staging');
    expect(paths.some((p: string) => p.includes('when'))).toBe(true);
    expect((await t.admin('GET', '/api/v1/flags')).json.flags).toEqual([]);
  });
});

describe('reading flags', () => {
  it('gets one flag, 404s an unknown one, and lists with search and environment filter', async () => {
    await createFlag('new-checkout');
    await createFlag('search-box', { description: 'Faster search', environments: {} });
    expect((await t.admin('GET', '/api/v1/flags/nope')).json.error.code).toBe('NOT_FOUND');
    const all = await t.admin('GET', '/api/v1/flags');
    expect(all.json.flags.map((f: { key: string }) => f.key)).toEqual(['new-checkout', 'search-box']);
    const q = await t.admin('GET', '/api/v1/flags?q=SEARCH');
    expect(q.json.flags.map((f: { key: string }) => f.key)).toEqual(['search-box']);
    const dev = await t.admin('GET', '/api/v1/flags?environment=development');
    expect(dev.json.flags[0].environments).toEqual({});
    const prod = await t.admin('GET', '/api/v1/flags?environment=production');
    expect(Object.keys(prod.json.flags[0].environments)).toEqual(['production']);
    expect((await t.admin('GET', '/api/v1/flags?environment=staging')).status).toBe(404);
    expect((await t.admin('GET', '/api/v1/flags?archived=yes')).status).toBe(400);
  });
});

describe('updating flags', () => {
  it('returns the flag and a preview of units changing variant per changed environment', async () => {
    const created = await createFlag();
    const next = sampleFlag();
    (next.environments as Json).production.rules[0].serve.split[0].range = [0, 500_000];
    const res = await t.admin('PUT', '/api/v1/flags/new-checkout', next);
    expect(res.status).toBe(200);
    expect(res.json.flag.salt).toBe(created.salt);
    expect(Object.keys(res.json.preview)).toEqual(['production']);
    const preview = res.json.preview.production;
    expect(preview.sampled).toBe(1_000_000);
    // 10% → 50% moves about 40% of units from off to on, and nobody the other way.
    expect(preview.share).toBeGreaterThan(0.37);
    expect(preview.share).toBeLessThan(0.43);
    expect(preview.transitions).toEqual([{ from: 'off', to: 'on', count: preview.changed }]);
    expect(t.app.dimmer.hub.get('production')?.version).toBe(3);
  });

  it('rejects a different salt naming `salt` and changes nothing', async () => {
    await createFlag();
    const before = await snapshotOf();
    const next = { ...sampleFlag(), salt: 'ffffffffffffffff', description: 'changed' };
    const res = await t.admin('PUT', '/api/v1/flags/new-checkout', next);
    expect(res.status).toBe(400);
    expect(res.json.error.details.issues).toContainEqual({
      path: 'salt',
      message: 'the salt is fixed at creation and cannot change',
    });
    const patch = await t.admin('PATCH', '/api/v1/flags/new-checkout', { salt: 'ffffffffffffffff' });
    expect(patch.json.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['salt']);
    expect(await snapshotOf()).toEqual(before);
  });

  it('leaves everything unchanged after a rejected update (flag, version, audit)', async () => {
    await createFlag();
    const before = await snapshotOf();
    const bad = sampleFlag();
    (bad.environments as Json).production.rules[0].serve = { variant: 'nope' };
    expect((await t.admin('PUT', '/api/v1/flags/new-checkout', bad)).status).toBe(400);
    expect((await t.admin('PATCH', '/api/v1/flags/new-checkout', { defaultVariant: 1 })).status).toBe(400);
    expect(
      (
        await t.admin('PUT', '/api/v1/flags/new-checkout/environments/production', {
          enabled: 'yes',
          rules: [],
        })
      ).status,
    ).toBe(400);
    expect(await snapshotOf()).toEqual(before);
  });

  it('PATCH merges per environment; PUT of one environment replaces it', async () => {
    await createFlag();
    const patched = await t.admin('PATCH', '/api/v1/flags/new-checkout', {
      description: null,
      environments: { production: { overrides: { 'user-42': 'on' } }, development: { enabled: true } },
    });
    expect(patched.status).toBe(200);
    expect(patched.json.flag.description).toBeUndefined();
    expect(patched.json.flag.environments.production.rules).toHaveLength(1);
    expect(patched.json.flag.environments.production.overrides).toEqual({ 'user-42': 'on' });
    expect(patched.json.flag.environments.development).toEqual({ enabled: true, rules: [] });
    const put = await t.admin('PUT', '/api/v1/flags/new-checkout/environments/production', {
      enabled: false,
      rules: [],
    });
    expect(put.json.flag.environments.production).toEqual({ enabled: false, rules: [] });
    expect(Object.keys(put.json.preview)).toEqual(['production']);
  });

  it('enables and disables per environment, bumping versions and auditing', async () => {
    await createFlag();
    const off = await t.admin('POST', '/api/v1/flags/new-checkout/environments/production/disable');
    expect(off.status).toBe(200);
    expect(off.json.flag.environments.production.enabled).toBe(false);
    expect(t.app.dimmer.hub.get('production')?.snapshot.flags[0]?.enabled).toBe(false);
    const on = await t.admin('POST', '/api/v1/flags/new-checkout/environments/development/enable');
    expect(on.json.flag.environments.development).toEqual({ enabled: true, rules: [] });
    expect((await t.admin('POST', '/api/v1/flags/new-checkout/environments/staging/enable')).status).toBe(
      404,
    );
    const audit = await t.admin('GET', '/api/v1/audit?resourceType=flag');
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual([
      'flag.enable',
      'flag.disable',
      'flag.create',
    ]);
    expect(audit.json.entries[1].before.environments.production.enabled).toBe(true);
    expect(audit.json.entries[1].after.environments.production.enabled).toBe(false);
  });

  it('a no-op update writes nothing', async () => {
    await createFlag();
    const before = await snapshotOf();
    const res = await t.admin('PATCH', '/api/v1/flags/new-checkout', { defaultVariant: 'off' });
    expect(res.status).toBe(200);
    expect(res.json.preview).toEqual({});
    expect(await snapshotOf()).toEqual(before);
  });
});

describe('archiving', () => {
  it('removes the flag from snapshots, keeps it readable, blocks edits until unarchived', async () => {
    await createFlag();
    const archived = await t.admin('POST', '/api/v1/flags/new-checkout/archive');
    expect(archived.json.flag.archived).toBe(true);
    expect(t.app.dimmer.hub.get('production')?.snapshot.flags).toEqual([]);
    expect((await t.admin('GET', '/api/v1/flags/new-checkout')).json.archived).toBe(true);
    expect((await t.admin('GET', '/api/v1/flags')).json.flags).toEqual([]);
    expect((await t.admin('GET', '/api/v1/flags?archived=true')).json.flags).toHaveLength(1);
    const edit = await t.admin('PATCH', '/api/v1/flags/new-checkout', { description: 'x' });
    expect(edit.json.error.code).toBe('CONFLICT');
    await t.admin('POST', '/api/v1/flags/new-checkout/unarchive');
    expect(t.app.dimmer.hub.get('production')?.snapshot.flags.map((f) => f.key)).toEqual(['new-checkout']);
  });
});
