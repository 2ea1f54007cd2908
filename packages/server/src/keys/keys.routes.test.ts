import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';
import { hashSecret } from '../secrets.ts';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('client keys', () => {
  it('returns the secret once, stores only its hash, and lists keys without secrets', async () => {
    const res = await t.admin('POST', '/api/v1/keys', {
      name: 'web',
      environment: 'production',
      kind: 'browser',
      allowedOrigins: ['https://app.example.com'],
    });
    expect(res.status).toBe(201);
    expect(res.json.secret).toMatch(/^dmr_pub_[A-Za-z0-9_-]{43}$/);
    expect(res.json.key).toMatchObject({
      name: 'web',
      environment: 'production',
      kind: 'browser',
      revokedAt: null,
    });
    expect(res.json.secret.startsWith(res.json.key.prefix)).toBe(true);
    const stored = await t.stores.keys.getClientKey(res.json.key.id);
    expect(stored?.keyHash).toBe(hashSecret(res.json.secret));
    const list = await t.admin('GET', '/api/v1/keys');
    const text = JSON.stringify(list.json);
    expect(text).not.toContain(res.json.secret);
    expect(text).not.toContain(stored?.keyHash);
    expect(list.json.keys).toEqual([res.json.key]);
    expect((await t.admin('GET', '/api/v1/keys?environment=development')).json.keys).toEqual([]);
    const server = await t.admin('POST', '/api/v1/keys', {
      name: 'api',
      environment: 'development',
      kind: 'server',
    });
    expect(server.json.secret).toMatch(/^dmr_srv_/);
  });

  it('validates the body: kind, environment, origins, unknown fields', async () => {
    const bad = await t.admin('POST', '/api/v1/keys', {
      name: 'x',
      environment: 'production',
      kind: 'admin',
    });
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path)).toContain('kind');
    const env = await t.admin('POST', '/api/v1/keys', { name: 'x', environment: 'staging', kind: 'server' });
    expect(env.json.error.details.issues).toEqual([
      { path: 'environment', message: 'unknown environment "staging"' },
    ]);
    const origin = await t.admin('POST', '/api/v1/keys', {
      name: 'x',
      environment: 'production',
      kind: 'browser',
      allowedOrigins: ['https://ok.example.com', 'https://bad.example.com/path'],
    });
    expect(origin.json.error.details.issues.map((i: { path: string }) => i.path)).toEqual([
      'allowedOrigins[1]',
    ]);
    const extra = await t.admin('POST', '/api/v1/keys', {
      name: 'x',
      environment: 'production',
      kind: 'server',
      role: 'admin',
    });
    expect(extra.json.error.details.issues).toContainEqual({ path: 'role', message: 'unknown field' });
    expect((await t.admin('GET', '/api/v1/keys')).json.keys).toEqual([]);
  });

  it('revokes a key (idempotently) and 404s an unknown id', async () => {
    const res = await t.admin('POST', '/api/v1/keys', {
      name: 'api',
      environment: 'production',
      kind: 'server',
    });
    const first = await t.admin('POST', `/api/v1/keys/${res.json.key.id}/revoke`);
    expect(first.json.revokedAt).not.toBeNull();
    const again = await t.admin('POST', `/api/v1/keys/${res.json.key.id}/revoke`);
    expect(again.json.revokedAt).toBe(first.json.revokedAt);
    expect((await t.admin('POST', '/api/v1/keys/key_nope/revoke')).status).toBe(404);
    const audit = await t.admin('GET', '/api/v1/audit?resourceType=client_key');
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual([
      'client_key.revoke',
      'client_key.create',
    ]);
    expect(audit.json.entries[0].before.revokedAt).toBeNull();
  });
});
