/**
 * Deeply nested bodies are refused with 400 naming the limit (they once reached evaluation and answered 500),
 * on resolve, OFREP, events and admin routes; a browser key with allowed origins ["*"] admits any origin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../server.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-body.ts';

/** A JSON object nested `depth` levels deep. */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

let server: TestServer;
let secret: string;

beforeAll(async () => {
  server = await createTestServer();
  const res = await server.adminFetch('/api/v1/keys', {
    method: 'POST',
    body: JSON.stringify({
      name: 'public site',
      environment: 'production',
      kind: 'browser',
      allowedOrigins: ['*'],
    }),
  });
  expect(res.status).toBe(201);
  secret = ((await res.json()) as { secret: string }).secret;
}, 60_000);
afterAll(async () => {
  await server.close();
});

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays outside strings only', () => {
    expect(jsonDepthExceeds(nested(3), 3)).toBe(false);
    expect(jsonDepthExceeds(nested(4), 3)).toBe(true);
    expect(jsonDepthExceeds('[[["a"]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":"[[[[{{{{\\"[[["}', 1)).toBe(false);
  });
});

describe('deeply nested bodies', () => {
  const deepContext = `{"context":${nested(10_000)}}`;
  const cases: Array<{ url: string; body: string; admin?: boolean }> = [
    { url: '/sdk/v1/resolve', body: deepContext },
    { url: '/ofrep/v1/evaluate/flags', body: deepContext },
    { url: '/ofrep/v1/evaluate/flags/new-checkout', body: deepContext },
    { url: '/v1/events', body: `{"batchId":"deep","events":[${nested(10_000)}]}` },
    { url: '/api/v1/flags', body: `{"key":"deep","variants":${nested(10_000)}}`, admin: true },
  ];
  for (const { url, body, admin } of cases) {
    it(`answers 400 naming the limit on ${url}`, async () => {
      const res = await server.app.inject({
        method: 'POST',
        url,
        headers: {
          authorization: `Bearer ${admin === true ? server.adminToken : secret}`,
          'content-type': 'application/json',
        },
        payload: body,
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    });
  }

  it('accepts a context at the limit', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      payload: `{"context":{"targetingKey":"u1","deep":${nested(MAX_JSON_DEPTH - 2)}}}`,
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('allowed origins ["*"]', () => {
  it('admits any origin', async () => {
    for (const origin of ['https://shop.example', 'http://localhost:3000']) {
      const res = await server.app.inject({
        method: 'POST',
        url: '/ofrep/v1/evaluate/flags',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', origin },
        payload: '{"context":{"targetingKey":"u1"}}',
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
    }
  });

  it('still refuses an origin that is neither an origin nor "*"', async () => {
    const res = await server.adminFetch('/api/v1/keys', {
      method: 'POST',
      body: JSON.stringify({
        name: 'bad',
        environment: 'production',
        kind: 'browser',
        allowedOrigins: ['*.example'],
      }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('allowedOrigins[0]');
  });
});
