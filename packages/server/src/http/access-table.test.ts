/**
 * The access table: every admin route of the contract names the permission it needs, every admin route the
 * server serves is in the table, and a walk of every admin route × role gives 403 exactly where the role lacks
 * the permission (tokens with each role, in every environment).
 */
import {
  ADMIN_API_PREFIX,
  PERMISSION_ROLE,
  ROLES,
  ROUTES,
  type Role,
  type RouteContract,
  roleAllows,
} from '@dimmer/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';
import { ACCESS_TABLE } from './admin-auth.ts';

const ADMIN_ROUTES = Object.entries(ROUTES as Readonly<Record<string, RouteContract>>).filter(
  ([, route]) => route.auth === 'admin',
);

/** A concrete URL of a route: every path parameter filled with a value no record has. */
function urlOf(route: RouteContract): string {
  return route.path.replace(/:([a-z]+)/gi, (_m, name: string) =>
    name === 'env' ? 'production' : `walk-${name}`,
  );
}

describe('the access table', () => {
  it('gives every admin route of the contract a permission', () => {
    const missing = ADMIN_ROUTES.filter(([, route]) => route.permission === undefined).map(([name]) => name);
    expect(missing).toEqual([]);
    expect(ACCESS_TABLE.size).toBe(ADMIN_ROUTES.length);
  });

  describe('on the server', () => {
    let t: TestApp;
    const tokens = new Map<Role, string>();

    beforeAll(async () => {
      t = await buildTestApp();
      for (const role of ROLES) {
        const created = await t.admin('POST', '/api/v1/tokens', { name: `walk-${role}`, role });
        expect(created.status).toBe(201);
        expect(created.json.token).toMatchObject({ role, owner: 'token:env' });
        tokens.set(role, created.json.secret);
      }
    }, 60_000);
    afterAll(async () => t?.close());

    it('serves no admin route that is missing from the table', async () => {
      const documented = Object.entries((t.app.swagger() as { paths: Record<string, object> }).paths).flatMap(
        ([path, methods]) =>
          path.startsWith(ADMIN_API_PREFIX)
            ? Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`)
            : [],
      );
      expect(documented.length).toBeGreaterThan(0);
      expect(documented.filter((route) => !ACCESS_TABLE.has(route))).toEqual([]);
    });

    it('walks every admin route × role: 403 exactly where the role lacks the permission', async () => {
      const wrong: string[] = [];
      for (const [name, route] of ADMIN_ROUTES)
        for (const role of ROLES) {
          const response = await t.app.inject({
            method: route.method,
            url: urlOf(route),
            headers: { authorization: `Bearer ${tokens.get(role)}` },
            ...(route.method !== 'GET' && route.method !== 'DELETE'
              ? { payload: { environment: 'production' } }
              : {}),
          });
          const allowed = roleAllows(role, route.permission ?? 'admin');
          const forbidden = response.statusCode === 403;
          if (allowed === forbidden)
            wrong.push(
              `${name} as ${role}: ${response.statusCode} (needs ${route.permission === 'self' ? 'any caller' : PERMISSION_ROLE[route.permission as 'read']})`,
            );
        }
      expect(wrong).toEqual([]);
    }, 120_000);

    it('a viewer sees client keys and tokens without secrets, and cannot create one', async () => {
      const viewer = tokens.get('viewer') as string;
      const created = await t.admin('POST', '/api/v1/keys', {
        name: 'web',
        environment: 'production',
        kind: 'server',
      });
      expect(created.status).toBe(201);
      const list = await t.app.inject({
        url: '/api/v1/keys',
        headers: { authorization: `Bearer ${viewer}` },
      });
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toContain(created.json.secret);
      expect(JSON.stringify(list.json().keys[0])).not.toMatch(/secret|hash/i);
      const tokenList = await t.app.inject({
        url: '/api/v1/tokens',
        headers: { authorization: `Bearer ${viewer}` },
      });
      for (const secret of tokens.values()) expect(tokenList.body).not.toContain(secret);
      const refused = await t.app.inject({
        method: 'POST',
        url: '/api/v1/keys',
        headers: { authorization: `Bearer ${viewer}` },
        payload: { name: 'mine', environment: 'production', kind: 'server' },
      });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.message).toContain('token:walk-viewer is viewer in production');
    });
  });
});
