/**
 * People, roles and approvals against a real OpenID Connect provider (oidc-provider on 127.0.0.1) and a real
 * Dimmer server over SQLite: sign-in lands with the role of the person's groups, the access table holds for
 * people signed in with cookies (CSRF included), four-eyes approvals gate the start of a rollout and go stale
 * on an edit, a rollback needs none, the device sign-in gives the CLI a session token, and the audit log
 * names each person.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTES, type RouteContract } from '@dimmer/api';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REVIEWED_FLAG,
  REVIEWED_METRIC,
  REVIEWED_SURFACE,
  reviewedRolloutPlan,
} from '../../testing/approval-fixtures.ts';
import {
  signInWithProvider,
  startSignInServer,
  startTestProvider,
  type TestProvider,
  walkProvider,
} from '../../testing/oidc-provider.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../secrets.ts';
import { createSqliteStores, type Stores } from '../stores.ts';
import { parseGroupRoles } from './access.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value
type Json = any;

const PEOPLE = {
  ana: { email: 'ana@example.com', name: 'Ana Admin', groups: ['dimmer-admins'] },
  rob: { email: 'rob@example.com', name: 'Rob Releaser', groups: ['release-managers'] },
  rita: { email: 'rita@example.com', name: 'Rita Releaser', groups: ['release-managers', 'staff'] },
  eve: { email: 'eve@example.com', name: 'Eve Editor', groups: ['engineers'] },
  vic: { email: 'vic@example.com', name: 'Vic Viewer', groups: ['readers'] },
  nobody: { email: 'nobody@example.com', name: 'No Role', groups: [] },
};
const GROUP_ROLES = 'dimmer-admins=admin,release-managers=releaser,engineers=editor,readers=viewer';

describe('people, roles and approvals with a real identity provider', () => {
  let provider: TestProvider;
  let app: FastifyInstance;
  let stores: Stores;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-people-'));
  const adminToken = generateSecret(ADMIN_TOKEN_PREFIX);
  const signedIn = new Map<string, { cookie: string; csrf: string }>();

  /** A request as a person signed in with the browser: the session cookie, and the CSRF header on writes. */
  const as = async (person: keyof typeof PEOPLE, method: string, path: string, body?: unknown) => {
    const session = signedIn.get(person) ?? (await signInWithProvider(base, person));
    signedIn.set(person, session);
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        cookie: session.cookie,
        ...(method !== 'GET' ? { 'x-csrf-token': session.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as Json) };
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as Json) };
  };

  beforeAll(async () => {
    provider = await startTestProvider({ people: PEOPLE });
    stores = createSqliteStores(dir);
    ({ app, base } = await startSignInServer({
      provider,
      stores,
      adminToken,
      groupRoles: parseGroupRoles(GROUP_ROLES),
    }));
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await stores?.close();
    await provider?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in through the provider and lands with the role of the groups claim', async () => {
    const config = await (await fetch(`${base}/auth/config`)).json();
    expect(config).toEqual({
      oidc: { providerName: 'Test IdP', loginPath: '/auth/login', deviceFlow: true },
      tokenSignIn: true,
    });
    const login = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    const authorize = new URL(login.headers.get('location') as string);
    expect(authorize.origin).toBe(provider.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(login.headers.getSetCookie().join()).toMatch(/dimmer_oidc=.*HttpOnly/);

    const session = await signInWithProvider(base, 'rob');
    signedIn.set('rob', session);
    const me = await as('rob', 'GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      actor: 'user:rob@example.com',
      kind: 'person',
      name: 'Rob Releaser',
      groups: ['release-managers'],
      role: 'releaser',
      environments: { production: 'releaser', development: 'releaser' },
    });
    expect((await as('vic', 'GET', '/api/v1/me')).json.role).toBe('viewer');
    const nobody = await as('nobody', 'GET', '/api/v1/me');
    expect(nobody.json.role).toBeNull();
    expect((await as('nobody', 'GET', '/api/v1/flags')).status).toBe(403);
  }, 120_000);

  it('sets the session cookie HttpOnly and SameSite=Lax, and refuses a cookie write without the CSRF token', async () => {
    const login = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    const pending = login.headers.getSetCookie()[0]?.split(';')[0] as string;
    const { url } = await walkProvider(
      login.headers.get('location') as string,
      'eve',
      `${base}/auth/callback`,
    );
    const callback = await fetch(url, { redirect: 'manual', headers: { cookie: pending } });
    expect(callback.status).toBe(302);
    const cookies = callback.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('dimmer_session='))).toMatch(/HttpOnly; ?|HttpOnly$/);
    expect(cookies.find((c) => c.startsWith('dimmer_session='))).toContain('SameSite=Lax');
    expect(cookies.find((c) => c.startsWith('dimmer_csrf='))).not.toContain('HttpOnly');
    const eve = await signInWithProvider(base, 'eve');
    const noHeader = await fetch(`${base}/api/v1/segments`, {
      method: 'POST',
      headers: { cookie: eve.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'beta', rules: [] }),
    });
    expect(noHeader.status).toBe(403);
    expect((await noHeader.json()).error.message).toContain('CSRF');
  }, 120_000);

  it('gives a viewer 403 on every write route and no key secrets', async () => {
    const key = await admin('POST', '/api/v1/keys', {
      name: 'web',
      environment: 'production',
      kind: 'server',
    });
    expect(key.status).toBe(201);
    const writes = Object.values(ROUTES as Readonly<Record<string, RouteContract>>).filter(
      // Every route that changes something; a POST that only reads (the flag preview) is open to a viewer.
      (r) => r.auth === 'admin' && r.method !== 'GET' && r.permission !== 'self' && r.permission !== 'read',
    );
    expect(writes.length).toBeGreaterThan(40);
    for (const route of writes) {
      const path = route.path.replace(/:([a-z]+)/gi, (_m, name: string) =>
        name === 'env' ? 'production' : 'x',
      );
      const reply = await as('vic', route.method, path, route.method === 'DELETE' ? undefined : {});
      expect(reply.status, `${route.method} ${route.path}`).toBe(403);
    }
    const keys = await as('vic', 'GET', '/api/v1/keys');
    expect(keys.status).toBe(200);
    expect(JSON.stringify(keys.json)).not.toContain(key.json.secret);
    expect(keys.json.keys[0]).not.toHaveProperty('secret');
  }, 180_000);

  it('requires one approval by someone other than the author; an edit makes it stale; a rollback needs none', async () => {
    expect((await as('ana', 'POST', '/api/v1/metrics', REVIEWED_METRIC)).status).toBe(201);
    // Only an admin changes surfaces.
    expect((await as('rob', 'POST', '/api/v1/surfaces', REVIEWED_SURFACE)).status).toBe(403);
    expect((await as('ana', 'POST', '/api/v1/surfaces', REVIEWED_SURFACE)).status).toBe(201);
    expect((await as('eve', 'POST', '/api/v1/flags', REVIEWED_FLAG)).status).toBe(201);
    const created = await as('rob', 'POST', '/api/v1/rollouts', reviewedRolloutPlan('ro_checkout'));
    expect(created.status, JSON.stringify(created.json)).toBe(201);

    // The author cannot start it alone, nor approve it.
    const early = await as('rob', 'POST', '/api/v1/rollouts/ro_checkout/start', {});
    expect(early.status).toBe(409);
    expect(early.json.error.message).toContain('needs 1 approval to start');
    expect(early.json.error.details.approvals).toMatchObject({
      required: 1,
      valid: 0,
      author: 'user:rob@example.com',
    });
    expect(
      (
        await as('rob', 'POST', '/api/v1/rollouts/ro_checkout/approvals/request', {
          action: 'start',
          comment: 'please review',
        })
      ).status,
    ).toBe(200);
    const own = await as('rob', 'POST', '/api/v1/rollouts/ro_checkout/approvals', {
      action: 'start',
      version: created.json.version,
    });
    expect(own.status).toBe(403);
    // An editor may not approve a release; a token may not approve at all.
    expect(
      (
        await as('eve', 'POST', '/api/v1/rollouts/ro_checkout/approvals', {
          action: 'start',
          version: created.json.version,
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await admin('POST', '/api/v1/rollouts/ro_checkout/approvals', {
          action: 'start',
          version: created.json.version,
        })
      ).status,
    ).toBe(403);
    // A stale version is refused.
    expect(
      (await as('rita', 'POST', '/api/v1/rollouts/ro_checkout/approvals', { action: 'start', version: 99 }))
        .status,
    ).toBe(409);

    const approved = await as('rita', 'POST', '/api/v1/rollouts/ro_checkout/approvals', {
      action: 'start',
      version: created.json.version,
      comment: 'plan looks right',
    });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({
      author: 'user:rob@example.com',
      required: 1,
      action: 'start',
      satisfied: true,
    });
    expect(approved.json.approvals[0]).toMatchObject({
      approver: 'user:rita@example.com',
      version: created.json.version,
      valid: true,
    });

    // An edit of the flag after the approval makes it stale.
    const current = (await as('eve', 'GET', '/api/v1/flags/one-page-checkout')).json;
    const edited = await as('eve', 'PATCH', '/api/v1/flags/one-page-checkout', {
      description: 'now with express pay',
      version: current.version,
    });
    expect(edited.status, JSON.stringify(edited.json)).toBe(200);
    const stale = await as('rob', 'POST', '/api/v1/rollouts/ro_checkout/start', {});
    expect(stale.status).toBe(409);
    expect(stale.json.error.message).toContain('made stale by a later edit');
    expect((await as('rob', 'GET', '/api/v1/rollouts/ro_checkout/approvals')).json).toMatchObject({
      satisfied: false,
      approvals: [{ valid: false }],
    });

    expect(
      (
        await as('rita', 'POST', '/api/v1/rollouts/ro_checkout/approvals', {
          action: 'start',
          version: created.json.version,
        })
      ).status,
    ).toBe(200);
    const started = await as('rob', 'POST', '/api/v1/rollouts/ro_checkout/start', {});
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    expect(started.json.state).toBe('running');

    // A releaser rolls back without approval, but cannot change keys.
    const rolledBack = await as('rob', 'POST', '/api/v1/rollouts/ro_checkout/rollback', {});
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json.state).toBe('rolled_back');
    expect(
      (await as('rob', 'POST', '/api/v1/keys', { name: 'mine', environment: 'production', kind: 'server' }))
        .status,
    ).toBe(403);
    expect((await as('rob', 'POST', '/api/v1/tokens', { name: 'mine' })).status).toBe(403);

    // The audit log names each person.
    const audit = (await as('vic', 'GET', '/api/v1/audit?resourceType=rollout&key=ro_checkout')).json
      .entries as Json[];
    const who = audit.map((e) => `${e.action} ${e.actor}`).reverse();
    expect(who).toEqual(
      expect.arrayContaining([
        'rollout.create user:rob@example.com',
        'rollout.approval_request user:rob@example.com',
        'rollout.approve user:rita@example.com',
        'rollout.start user:rob@example.com',
        'rollout.rollback user:rob@example.com',
      ]),
    );
    const flagAudit = (await as('vic', 'GET', '/api/v1/audit?resourceType=flag&key=one-page-checkout')).json
      .entries as Json[];
    expect(flagAudit.map((e) => e.actor)).toContain('user:eve@example.com');
    const surfaceAudit = (await as('vic', 'GET', '/api/v1/audit?resourceType=surface&key=checkout')).json
      .entries as Json[];
    expect(surfaceAudit[0].actor).toBe('user:ana@example.com');
  }, 180_000);

  it('grants roles per environment through the API (admin only) and ends sessions', async () => {
    expect(
      (
        await as('eve', 'POST', '/api/v1/grants', {
          subject: 'user:nobody@example.com',
          environment: 'development',
          role: 'releaser',
        })
      ).status,
    ).toBe(403);
    const grant = await as('ana', 'POST', '/api/v1/grants', {
      subject: 'user:nobody@example.com',
      environment: 'development',
      role: 'releaser',
    });
    expect(grant.status).toBe(201);
    const me = (await as('nobody', 'GET', '/api/v1/me')).json;
    expect(me.environments).toMatchObject({ development: 'releaser', production: null });
    expect((await as('nobody', 'GET', '/api/v1/flags')).status).toBe(200);
    const grants = (await as('vic', 'GET', '/api/v1/grants')).json.grants as Json[];
    expect(grants.map((g) => `${g.subject} ${g.environment} ${g.role} ${g.source}`)).toContain(
      'group:readers * viewer config',
    );
    const unknownEnv = await as('ana', 'POST', '/api/v1/grants', {
      subject: 'group:x',
      environment: 'nowhere',
      role: 'viewer',
    });
    expect(unknownEnv.status).toBe(400);
    expect(unknownEnv.json.error.details.issues[0].path).toBe('environment');

    const sessions = (await as('ana', 'GET', '/api/v1/sessions')).json.sessions as Json[];
    const vic = sessions.find((s) => s.actor === 'user:vic@example.com' && s.revokedAt === null);
    expect(vic).toBeDefined();
    expect((await as('ana', 'POST', `/api/v1/sessions/${vic.id}/revoke`)).status).toBe(200);
    expect((await as('vic', 'GET', '/api/v1/me')).status).toBe(401);
    signedIn.delete('vic');

    const logout = await fetch(`${base}/auth/logout`, {
      method: 'POST',
      headers: {
        cookie: (signedIn.get('eve') as { cookie: string }).cookie,
        'x-csrf-token': (signedIn.get('eve') as { csrf: string }).csrf,
      },
    });
    expect(logout.status).toBe(204);
    expect((await as('eve', 'GET', '/api/v1/me')).status).toBe(401);
    signedIn.delete('eve');
  }, 120_000);

  it('signs the CLI in with the device flow: a session bearer token with the person’s role', async () => {
    const started = await (await fetch(`${base}/auth/device`, { method: 'POST' })).json();
    expect(started).toMatchObject({
      userCode: expect.any(String),
      verificationUri: expect.stringContaining(provider.issuer),
    });
    const poll = async () =>
      (
        await fetch(`${base}/auth/device/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ deviceCode: started.deviceCode }),
        })
      ).json();
    expect(await poll()).toMatchObject({ status: 'pending' });
    const page = await walkProvider(started.verificationUriComplete, 'rita');
    expect(page.text).toMatch(/success|signed in|continue on your device/i);
    const done = await poll();
    expect(done).toMatchObject({ status: 'complete', actor: 'user:rita@example.com' });
    const me = await (
      await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${done.token}` } })
    ).json();
    expect(me).toMatchObject({ actor: 'user:rita@example.com', role: 'releaser', kind: 'person' });
    // A bearer session needs no CSRF token; it still cannot do what its role cannot.
    const key = await fetch(`${base}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${done.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cli', environment: 'production', kind: 'server' }),
    });
    expect(key.status).toBe(403);
  }, 120_000);
});
