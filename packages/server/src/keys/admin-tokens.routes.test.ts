import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, manualClock, sampleFlag, type TestApp } from '../../testing/test-app.ts';
import { buildApp } from '../app.ts';
import { createMemoryStores } from '../stores.ts';
import { CACHE_TTL_MS } from './keys.service.ts';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
});

async function start(options: Parameters<typeof buildTestApp>[0] = {}): Promise<TestApp> {
  const t = await buildTestApp(options);
  apps.push(t);
  return t;
}

async function as(t: TestApp, token: string, method: string, url: string, body?: unknown) {
  const res = await t.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: res.statusCode, json: res.body ? res.json() : undefined };
}

describe('admin tokens', () => {
  it('creates a named token shown once, lists tokens without secrets, and audits as token:<name>', async () => {
    const t = await start();
    const created = await t.admin('POST', '/api/v1/tokens', { name: 'ci' });
    expect(created.status).toBe(201);
    expect(created.json.secret).toMatch(/^dmr_admin_/);
    expect(created.json.token).toMatchObject({ name: 'ci', revokedAt: null });
    const list = await t.admin('GET', '/api/v1/tokens');
    expect(JSON.stringify(list.json)).not.toContain(created.json.secret);
    expect(list.json.tokens.map((x: { name: string }) => x.name)).toEqual(['env', 'ci']);

    expect((await as(t, created.json.secret, 'POST', '/api/v1/flags', sampleFlag())).status).toBe(201);
    const audit = await t.admin('GET', '/api/v1/audit?resourceType=flag');
    expect(audit.json.entries[0].actor).toBe('token:ci');
    const tokenAudit = await t.admin('GET', '/api/v1/audit?resourceType=admin_token');
    expect(tokenAudit.json.entries[0]).toMatchObject({ actor: 'token:env', action: 'admin_token.create' });

    expect((await t.admin('POST', '/api/v1/tokens', { name: 'ci' })).status).toBe(409);
    expect((await t.admin('POST', '/api/v1/tokens', { name: 'env' })).status).toBe(400);
    const bad = await t.admin('POST', '/api/v1/tokens', { name: 'has space' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('name');
  });

  it('revokes a token by id or name: 401 on every admin route at once on this node, within a second on others', async () => {
    const stores = createMemoryStores();
    const clockA = manualClock();
    const clockB = manualClock();
    const a = await start({ stores, clock: clockA, keepStores: true });
    const b = await start({ stores, clock: clockB, adminToken: a.adminToken, keepStores: true });
    const { secret } = (await a.admin('POST', '/api/v1/tokens', { name: 'deploy' })).json;
    // Node B caches the token as valid.
    expect((await as(b, secret, 'GET', '/api/v1/flags')).status).toBe(200);

    const revoked = await a.admin('POST', '/api/v1/tokens/deploy/revoke');
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).not.toBeNull();
    for (const [method, url, body] of [
      ['GET', '/api/v1/flags'],
      ['POST', '/api/v1/flags', sampleFlag('other')],
      ['GET', '/api/v1/tokens'],
      ['POST', '/api/v1/tokens', { name: 'sneaky' }],
    ] as const)
      expect((await as(a, secret, method, url, body)).status, `${method} ${url}`).toBe(401);
    clockB.advance(CACHE_TTL_MS);
    expect((await as(b, secret, 'GET', '/api/v1/flags')).status).toBe(401);
    await stores.close();
  });

  it('rotates: a new secret under the same name, the old one revoked', async () => {
    const t = await start();
    const first = (await t.admin('POST', '/api/v1/tokens', { name: 'ci' })).json;
    const rotated = await t.admin('POST', `/api/v1/tokens/${first.token.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.token.name).toBe('ci');
    expect(rotated.json.token.id).not.toBe(first.token.id);
    expect((await as(t, first.secret, 'GET', '/api/v1/flags')).status).toBe(401);
    expect((await as(t, rotated.json.secret, 'GET', '/api/v1/flags')).status).toBe(200);
    expect((await t.admin('POST', `/api/v1/tokens/${first.token.id}/rotate`)).status).toBe(409);
    expect((await t.admin('POST', '/api/v1/tokens/nope/rotate')).status).toBe(404);
  });

  it('refuses to revoke the last active token unless forced', async () => {
    const t = await start();
    const refused = await t.admin('POST', '/api/v1/tokens/env/revoke');
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('last active admin token');
    expect((await t.admin('GET', '/api/v1/flags')).status).toBe(200);
    expect((await t.admin('POST', '/api/v1/tokens/env/revoke?force=true')).status).toBe(200);
    expect((await t.admin('GET', '/api/v1/flags')).status).toBe(401);
  });

  it('stores DIMMER_ADMIN_TOKEN as `env` and revokes it when a restart comes without it', async () => {
    const stores = createMemoryStores();
    const withEnv = await buildTestApp({ stores, keepStores: true });
    const envToken = withEnv.adminToken;
    const { secret } = (await withEnv.admin('POST', '/api/v1/tokens', { name: 'ops' })).json;
    await withEnv.close();

    // Restart without DIMMER_ADMIN_TOKEN.
    let generated: string | undefined;
    const app = await buildApp({ stores, clock: manualClock(), onAdminTokenCreated: (x) => (generated = x) });
    const without = { app } as TestApp;
    expect(generated).toBeUndefined();
    expect((await as(without, envToken, 'GET', '/api/v1/flags')).status).toBe(401);
    expect((await as(without, secret, 'GET', '/api/v1/flags')).status).toBe(200);
    const tokens = (await as(without, secret, 'GET', '/api/v1/tokens')).json.tokens;
    expect(tokens.find((x: { name: string }) => x.name === 'env').revokedAt).not.toBeNull();
    const audit = (await as(without, secret, 'GET', '/api/v1/audit?resourceType=admin_token')).json.entries;
    expect(audit[0]).toMatchObject({ actor: 'system', action: 'admin_token.revoke' });
    await app.close();
    // With the variable back, the same secret stays revoked; a new value is stored as a new `env` token.
    const again = await buildTestApp({ stores, keepStores: true, adminToken: envToken });
    expect((await as(again, envToken, 'GET', '/api/v1/flags')).status).toBe(401);
    await again.close();
    const fresh = await buildTestApp({ stores, keepStores: true });
    expect((await fresh.admin('GET', '/api/v1/flags')).status).toBe(200);
    await fresh.close();
    await stores.close();
  });
});
