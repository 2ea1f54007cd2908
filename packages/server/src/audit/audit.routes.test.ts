import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, sampleFlag, TEST_T0, type TestApp } from '../../testing/test-app.ts';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('audit log', () => {
  it('records every admin change with actor, time, action, resource, before and after', async () => {
    await t.admin('POST', '/api/v1/flags', sampleFlag());
    await t.admin('PATCH', '/api/v1/flags/new-checkout', { description: 'v2' });
    const res = await t.admin('GET', '/api/v1/audit?resourceType=flag&key=new-checkout');
    expect(res.status).toBe(200);
    const [update, create] = res.json.entries;
    expect(update).toMatchObject({
      action: 'flag.update',
      actor: 'token:env',
      resourceType: 'flag',
    });
    expect(update.before.description).toBe('One-page checkout');
    expect(update.after.description).toBe('v2');
    expect(create.before).toBeNull();
    expect(Date.parse(update.at)).toBeGreaterThan(Date.parse(create.at));
  });

  it('pages newest first with a cursor and filters by actor and time', async () => {
    for (let i = 0; i < 5; i++) await t.admin('POST', '/api/v1/environments', { key: `env-${i}` });
    const page1 = await t.admin('GET', '/api/v1/audit?resourceType=environment&limit=2');
    expect(page1.json.entries.map((e: { resourceKey: string }) => e.resourceKey)).toEqual(['env-4', 'env-3']);
    const page2 = await t.admin(
      'GET',
      `/api/v1/audit?resourceType=environment&limit=2&cursor=${page1.json.nextCursor}`,
    );
    expect(page2.json.entries.map((e: { resourceKey: string }) => e.resourceKey)).toEqual(['env-2', 'env-1']);
    const page3 = await t.admin(
      'GET',
      `/api/v1/audit?resourceType=environment&limit=2&cursor=${page2.json.nextCursor}`,
    );
    expect(page3.json.entries.map((e: { resourceKey: string }) => e.resourceKey)).toEqual(
      ['env-0', 'development', 'production'].slice(0, 2),
    );
    const system = await t.admin('GET', '/api/v1/audit?actor=system&resourceType=environment');
    expect(system.json.entries.map((e: { resourceKey: string }) => e.resourceKey)).toEqual([
      'development',
      'production',
    ]);
    expect(system.json.nextCursor).toBeNull();
    const since = new Date(TEST_T0 + 1_000_000).toISOString();
    expect((await t.admin('GET', `/api/v1/audit?since=${since}`)).json.entries).toEqual([]);
  });

  it('rejects bad query parameters by name', async () => {
    const limit = await t.admin('GET', '/api/v1/audit?limit=0');
    expect(limit.json.error.details.issues[0].path).toBe('querystring.limit');
    expect((await t.admin('GET', '/api/v1/audit?limit=501')).status).toBe(400);
    expect((await t.admin('GET', '/api/v1/audit?since=yesterday')).status).toBe(400);
    const unknown = await t.admin('GET', '/api/v1/audit?verbose=1');
    expect(unknown.json.error.details.issues).toContainEqual({
      path: 'querystring.verbose',
      message: 'unknown field',
    });
  });

  it('has no route that changes or deletes entries', async () => {
    expect((await t.admin('DELETE', '/api/v1/audit')).status).toBe(404);
    expect((await t.admin('PUT', '/api/v1/audit', {})).status).toBe(404);
  });
});
