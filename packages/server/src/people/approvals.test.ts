/**
 * Approvals of a manual advance past the surface's stated reach, over the real app and its in-memory stores:
 * two people with sessions in the store (the provider's part is proved in people.e2e.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type Json, type TestApp } from '../../testing/test-app.ts';
import { generateSecret, hashSecret } from '../secrets.ts';
import { SESSION_TOKEN_PREFIX } from './sessions.service.ts';

describe('approvals of a manual advance', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const as = async (who: string, method: string, url: string, body?: unknown) => {
    const response = await t.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${tokens[who]}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    return { status: response.statusCode, json: response.body ? (response.json() as Json) : undefined };
  };

  beforeAll(async () => {
    t = await buildTestApp({
      config: { people: { groupRoles: [{ group: 'release', environment: '*', role: 'releaser' }] } },
    });
    for (const who of ['ana', 'bob']) {
      tokens[who] = generateSecret(SESSION_TOKEN_PREFIX);
      await t.stores.people.createSession(
        {
          id: `ses_${who}`,
          tokenHash: hashSecret(tokens[who] as string),
          csrfHash: hashSecret('unused'),
          actor: `user:${who}@example.com`,
          subject: who,
          name: who,
          email: `${who}@example.com`,
          groups: ['release'],
          via: 'device',
          createdAt: Date.now(),
          expiresAt: Date.now() + 3_600_000_000,
          revokedAt: null,
        },
        {
          at: Date.now(),
          actor: `user:${who}@example.com`,
          action: 'session.create',
          resourceType: 'session',
          resourceKey: `ses_${who}`,
          before: null,
          after: null,
        },
      );
    }
    const admin = (m: string, u: string, b?: unknown) => t.admin(m, u, b);
    expect(
      (
        await admin('POST', '/api/v1/metrics', {
          key: 'errors',
          kind: 'proportion',
          event: 'error',
          direction: 'higher_is_worse',
          category: 'reliability',
          margin: 0.05,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin('POST', '/api/v1/surfaces', {
          key: 'search',
          approvals: { required: 1, advancePastReach: 10 },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await admin('POST', '/api/v1/flags', {
          key: 'fast-search',
          kind: 'boolean',
          surface: 'search',
          variants: { off: false, on: true },
          defaultVariant: 'off',
          environments: { production: { enabled: true, rules: [] } },
        })
      ).status,
    ).toBe(201);
  }, 60_000);
  afterAll(async () => t?.close());

  it('starts after an approval, needs another to pass the stated reach, and rolls back without one', async () => {
    const created = await as('ana', 'POST', '/api/v1/rollouts', {
      id: 'ro_search',
      flag: 'fast-search',
      environment: 'production',
      treatment: 'on',
      control: 'off',
      mode: 'manual',
      stages: [
        { reach: 5, minDuration: '1m' },
        { reach: 50, minDuration: '1m' },
        { reach: 100, minDuration: '1m' },
      ],
      guardrails: [{ metric: 'errors' }],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await as('ana', 'POST', '/api/v1/rollouts/ro_search/start', {})).status).toBe(409);
    expect(
      (
        await as('bob', 'POST', '/api/v1/rollouts/ro_search/approvals', {
          action: 'start',
          version: created.json.version,
        })
      ).status,
    ).toBe(200);
    const started = await as('ana', 'POST', '/api/v1/rollouts/ro_search/start', {});
    expect(started.status).toBe(200);

    // 5% → 50% passes the surface's 10%: a second look is needed, bound to this stage.
    const status = await as('ana', 'GET', '/api/v1/rollouts/ro_search/approvals');
    expect(status.json).toMatchObject({ action: 'advance', required: 1, satisfied: false });
    const refused = await as('ana', 'POST', '/api/v1/rollouts/ro_search/advance', {});
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('needs 1 approval to advance');
    const version = (await as('bob', 'GET', '/api/v1/rollouts/ro_search')).json.version;
    expect(
      (await as('bob', 'POST', '/api/v1/rollouts/ro_search/approvals', { action: 'advance', version }))
        .status,
    ).toBe(200);
    const advanced = await as('ana', 'POST', '/api/v1/rollouts/ro_search/advance', {});
    expect(advanced.status, JSON.stringify(advanced.json)).toBe(200);
    expect(advanced.json.reach).toBe(50);
    // The approval was for leaving stage 0: the next advance (50 → 100) needs a new one.
    expect((await as('ana', 'POST', '/api/v1/rollouts/ro_search/advance', {})).status).toBe(409);
    // A rollback never waits.
    const rolledBack = await as('ana', 'POST', '/api/v1/rollouts/ro_search/rollback', {});
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json.reach).toBe(0);
  }, 60_000);
});
