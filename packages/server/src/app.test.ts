import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, sampleFlag, type TestApp } from '../testing/test-app.ts';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('first start', () => {
  it('creates production and development and a loaded hub', async () => {
    const res = await t.admin('GET', '/api/v1/environments');
    expect(res.status).toBe(200);
    expect(res.json.environments.map((e: { key: string }) => e.key)).toEqual(['development', 'production']);
    expect(t.app.dimmer.hub.get('production')?.version).toBe(1);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('flags', () => {
  it('creates a flag with a generated 16-hex salt and serves it from the hub', async () => {
    const res = await t.admin('POST', '/api/v1/flags', sampleFlag());
    expect(res.status).toBe(201);
    expect(res.json.salt).toMatch(/^[0-9a-f]{16}$/);
    expect(res.json.archived).toBe(false);
    const state = t.app.dimmer.hub.get('production');
    expect(state?.version).toBe(2);
    expect(state?.snapshot.flags.map((f) => f.key)).toEqual(['new-checkout']);
    expect(state?.etag).toBe('"production-2"');
  });
});
