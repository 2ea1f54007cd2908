import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';
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

describe('bad input', () => {
  it('413 PAYLOAD_TOO_LARGE past the body limit', async () => {
    const t = await newApp({ config: { bodyLimitBytes: 1024 } });
    const res = await t.admin('POST', '/api/v1/segments', {
      key: 'x',
      when: { attr: 'a', op: 'eq', value: 'y'.repeat(2000) },
    });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('400 BAD_REQUEST for malformed JSON, 415 for other media types', async () => {
    const t = await newApp();
    const headers = { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' };
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/segments', headers, payload: '{"key":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('BAD_REQUEST');
    const xml = await t.app.inject({
      method: 'POST',
      url: '/api/v1/segments',
      headers: { ...headers, 'content-type': 'application/xml' },
      payload: '<segment/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('404 NOT_FOUND body for unknown routes', async () => {
    const t = await newApp();
    const res = await t.app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });
});

describe('operations routes', () => {
  it('healthz, readyz and the OpenAPI document', async () => {
    const t = await newApp();
    expect((await t.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
    const doc = (await t.app.inject({ url: '/api/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/flags',
      '/api/v1/flags/{key}',
      '/api/v1/segments',
      '/api/v1/keys',
      '/api/v1/audit',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    expect(doc.paths['/api/v1/flags'].post.requestBody).toBeDefined();
  });

  it('readyz is 503 UNAVAILABLE when storage does not answer', async () => {
    const stores = createMemoryStores();
    const t = await newApp({ stores });
    stores.ping = async () => {
      throw new Error('down');
    };
    const res = await t.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('UNAVAILABLE');
  });

  it('metrics count requests by route and status and show config versions', async () => {
    const t = await newApp();
    await t.admin('GET', '/api/v1/flags');
    await t.app.inject({ url: '/api/v1/flags' });
    const text = (await t.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('dimmer_http_requests_total{method="GET",route="/api/v1/flags",status="200"} 1');
    expect(text).toContain('dimmer_http_requests_total{method="GET",route="/api/v1/flags",status="401"} 1');
    expect(text).toContain('dimmer_http_request_duration_seconds_bucket');
    expect(text).toContain('dimmer_config_version{environment="production"} 1');
  });
});

describe('rate limits', () => {
  it('answer 429 RATE_LIMITED on SDK routes past the per-minute budget', async () => {
    const previous = process.env.DIMMER_RATE_LIMIT_PER_MINUTE;
    process.env.DIMMER_RATE_LIMIT_PER_MINUTE = '2';
    try {
      const t = await newApp({ config: { rateLimitPerMinute: 2 } });
      const key = await t.admin('POST', '/api/v1/keys', {
        name: 'k',
        environment: 'production',
        kind: 'server',
      });
      const call = () =>
        t.app.inject({ url: '/sdk/v1/config', headers: { authorization: `Bearer ${key.json.secret}` } });
      expect((await call()).statusCode).toBe(200);
      expect((await call()).statusCode).toBe(200);
      const limited = await call();
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('RATE_LIMITED');
      // Admin routes are not rate-limited.
      for (let i = 0; i < 3; i++) expect((await t.admin('GET', '/api/v1/flags')).status).toBe(200);
    } finally {
      if (previous === undefined) delete process.env.DIMMER_RATE_LIMIT_PER_MINUTE;
      else process.env.DIMMER_RATE_LIMIT_PER_MINUTE = previous;
    }
  });

  it("uses a key's own rate limit over the default of its kind", async () => {
    const t = await newApp();
    const create = async (rateLimitPerMinute?: number) =>
      (
        await t.admin('POST', '/api/v1/keys', {
          name: 'site',
          environment: 'production',
          kind: 'browser',
          ...(rateLimitPerMinute !== undefined ? { rateLimitPerMinute } : {}),
        })
      ).json as { key: { rateLimitPerMinute: number | null }; secret: string };
    const own = await create(3);
    expect(own.key.rateLimitPerMinute).toBe(3);
    const shared = await create();
    expect(shared.key.rateLimitPerMinute).toBeNull();
    const call = (secret: string) =>
      t.app.inject({
        method: 'POST',
        url: '/ofrep/v1/evaluate/flags',
        headers: { authorization: `Bearer ${secret}` },
        payload: { context: {} },
      });
    for (let i = 0; i < 3; i++) expect((await call(own.secret)).headers['x-ratelimit-limit']).toBe('3');
    expect((await call(own.secret)).statusCode).toBe(429);
    const other = await call(shared.secret);
    expect(other.statusCode).toBe(200);
    expect(other.headers['x-ratelimit-limit']).toBe('600000');
    const invalid = await t.admin('POST', '/api/v1/keys', {
      name: 'bad',
      environment: 'production',
      kind: 'browser',
      rateLimitPerMinute: 0,
    });
    expect(invalid.status).toBe(400);
  });
});
