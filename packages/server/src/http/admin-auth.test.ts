import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, manualClock, type TestApp } from '../../testing/test-app.ts';
import { createMemoryStores } from '../stores.ts';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function newApp(options: Parameters<typeof buildTestApp>[0] = {}) {
  const t = await buildTestApp(options);
  apps.push(t);
  return t;
}

async function createKey(t: TestApp, kind: 'server' | 'browser' = 'server') {
  const res = await t.admin('POST', '/api/v1/keys', { name: 'backend', environment: 'production', kind });
  expect(res.status).toBe(201);
  return res.json as { key: { id: string }; secret: string };
}

function get(t: TestApp, url: string, token?: string) {
  return t.app.inject({ url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
}

describe('admin authentication', () => {
  it('401 without a token and with a wrong token', async () => {
    const t = await newApp();
    const none = await get(t, '/api/v1/flags');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('UNAUTHORIZED');
    const wrong = await get(t, '/api/v1/flags', 'dmr_admin_' + 'x'.repeat(43));
    expect(wrong.statusCode).toBe(401);
    expect((await get(t, '/api/v1/flags', 'short')).statusCode).toBe(401);
    expect(
      (await t.app.inject({ url: '/api/v1/flags', headers: { authorization: 'Basic abc' } })).statusCode,
    ).toBe(401);
  });

  it('403 for a live client key on admin routes, 401 once it is revoked', async () => {
    const t = await newApp();
    for (const kind of ['server', 'browser'] as const) {
      const key = await createKey(t, kind);
      const res = await get(t, '/api/v1/environments', key.secret);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
      expect((await t.admin('POST', `/api/v1/keys/${key.key.id}/revoke`)).status).toBe(200);
      expect((await get(t, '/api/v1/environments', key.secret)).statusCode).toBe(401);
    }
  });

  it('accepts the admin token on every admin route and records it as the actor', async () => {
    const t = await newApp();
    await t.admin('POST', '/api/v1/environments', { key: 'staging' });
    const audit = await t.admin('GET', '/api/v1/audit?resourceType=environment&key=staging');
    expect(audit.json.entries[0].actor).toBe('admin:from-environment');
  });
});

describe('client key authentication', () => {
  it('resolves a key to its environment and kind, and stops at once after revocation on the same node', async () => {
    const t = await newApp();
    const key = await createKey(t, 'browser');
    expect(await t.app.dimmer.keys.authenticateClientKey(key.secret)).toEqual({
      keyId: key.key.id,
      environment: 'production',
      kind: 'browser',
      allowedOrigins: [],
      eventsPerMinute: null,
    });
    await t.admin('POST', `/api/v1/keys/${key.key.id}/revoke`);
    expect(await t.app.dimmer.keys.authenticateClientKey(key.secret)).toBeNull();
    expect(await t.app.dimmer.keys.authenticateClientKey('dmr_srv_unknown')).toBeNull();
    expect(await t.app.dimmer.keys.authenticateClientKey(t.adminToken)).toBeNull();
  });

  it('a revocation on another node takes effect when that node reloads its key table', async () => {
    const stores = createMemoryStores();
    const clockA = manualClock();
    const clockB = manualClock();
    const a = await newApp({ stores, clock: clockA, keepStores: true });
    const b = await newApp({ stores, clock: clockB, adminToken: a.adminToken });
    const key = await createKey(a);
    // Created after B loaded its table: B reads it from the store on first use.
    expect(await b.app.dimmer.keys.authenticateClientKey(key.secret)).not.toBeNull();
    await a.admin('POST', `/api/v1/keys/${key.key.id}/revoke`);
    clockB.advance(60_000);
    expect(await b.app.dimmer.keys.authenticateClientKey(key.secret)).not.toBeNull();
    await b.app.dimmer.keys.reloadClientKeys();
    expect(await b.app.dimmer.keys.authenticateClientKey(key.secret)).toBeNull();
  });

  it('answers from the key table while the store is unreachable', async () => {
    const t = await newApp();
    const live = await createKey(t, 'server');
    const revoked = await createKey(t, 'server');
    await t.admin('POST', `/api/v1/keys/${revoked.key.id}/revoke`);
    await t.app.dimmer.keys.reloadClientKeys();
    const keys = t.app.dimmer.stores.keys;
    const fail = async () => {
      throw new Error('store down');
    };
    keys.findClientKeyByHash = fail;
    keys.listClientKeys = fail;
    expect(await t.app.dimmer.keys.authenticateClientKey(live.secret)).toMatchObject({ keyId: live.key.id });
    expect(await t.app.dimmer.keys.authenticateClientKey(revoked.secret)).toBeNull();
    await expect(t.app.dimmer.keys.reloadClientKeys()).rejects.toThrow('store down');
    expect(await t.app.dimmer.keys.authenticateClientKey(live.secret)).toMatchObject({ keyId: live.key.id });
  });
});

describe('admin token bootstrap', () => {
  it('generates a token only when none is stored and none is given', async () => {
    const stores = createMemoryStores();
    const { buildApp } = await import('../app.ts');
    const seen: string[] = [];
    const deps = { stores, clock: manualClock(), onAdminTokenCreated: (token: string) => seen.push(token) };
    const first = await buildApp(deps);
    await first.close();
    const second = await buildApp(deps);
    await second.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^dmr_admin_[A-Za-z0-9_-]{43}$/);
    const stored = await stores.keys.findAdminTokenByHash(
      (await import('../secrets.ts')).hashSecret(seen[0] as string),
    );
    expect(stored?.name).toBe('bootstrap');
    expect(JSON.stringify(await stores.audit.list({ limit: 100 }))).not.toContain(seen[0]);
  });
});
