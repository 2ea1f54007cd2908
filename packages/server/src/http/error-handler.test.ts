import { describe, expect, it } from 'vitest';
import { buildTestApp, type Json } from '../../testing/test-app.ts';
import { SERVER_KEY_PREFIX } from '../secrets.ts';
import { StoreUnavailableError } from '../storage/write.ts';
import { createMemoryStores } from '../stores.ts';

/** Each test builds a full app (bootstrap, OpenAPI); generous on a busy machine. */
const APP_TEST_TIMEOUT_MS = 20_000;
const INTERNAL_MESSAGE = /^internal error \(id ([0-9a-f-]{36})\)$/;

/** An app whose storage fails on key lookups and audit reads, as a broken store would. */
async function brokenApp() {
  const stores = createMemoryStores();
  const t = await buildTestApp({ stores });
  const fail = async (): Promise<never> => {
    throw new Error('storage broke');
  };
  stores.keys.findClientKeyByHash = fail;
  stores.audit.list = fail;
  return t;
}

function expectInternal(body: Json): string {
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe('INTERNAL');
  const match = INTERNAL_MESSAGE.exec(body.error.message);
  expect(match, body.error.message).not.toBeNull();
  expect(body.error.details).toEqual({ errorId: match?.[1] });
  return match?.[1] as string;
}

describe('one error renderer', () => {
  it(
    'answers an internal error with the same body on admin, SDK and events routes',
    async () => {
      const t = await brokenApp();
      try {
        const key = `${SERVER_KEY_PREFIX}${'k'.repeat(43)}`;
        const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
        const admin = await t.admin('GET', '/api/v1/audit');
        const sdk = await t.app.inject({ method: 'GET', url: '/sdk/v1/config', headers });
        const resolve = await t.app.inject({ method: 'POST', url: '/sdk/v1/resolve', headers, payload: {} });
        const events = await t.app.inject({
          method: 'POST',
          url: '/v1/events',
          headers,
          payload: { batchId: 'b', events: [] },
        });
        expect([admin.status, sdk.statusCode, resolve.statusCode, events.statusCode]).toEqual([
          500, 500, 500, 500,
        ]);
        const ids = [admin.json, sdk.json(), resolve.json(), events.json()].map(expectInternal);
        expect(new Set(ids).size).toBe(ids.length);
      } finally {
        await t.close();
      }
    },
    APP_TEST_TIMEOUT_MS,
  );

  it(
    'gives OFREP the same internal message in its own shape',
    async () => {
      const t = await brokenApp();
      try {
        const key = `${SERVER_KEY_PREFIX}${'k'.repeat(43)}`;
        const res = await t.app.inject({
          method: 'POST',
          url: '/ofrep/v1/evaluate/flags/banner',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          payload: { context: { targetingKey: 'u1' } },
        });
        expect(res.statusCode).toBe(500);
        const body = res.json();
        expect(body.key).toBe('banner');
        expect(body.errorCode).toBe('GENERAL');
        expect(body.errorDetails).toMatch(INTERNAL_MESSAGE);
      } finally {
        await t.close();
      }
    },
    APP_TEST_TIMEOUT_MS,
  );

  it(
    'answers an unreachable store with 503 UNAVAILABLE and Retry-After on every route family',
    async () => {
      const stores = createMemoryStores();
      const t = await buildTestApp({ stores });
      try {
        const unavailable = async (): Promise<never> => {
          throw new StoreUnavailableError('database unavailable: connect ECONNREFUSED');
        };
        stores.keys.findClientKeyByHash = unavailable;
        stores.audit.list = unavailable;
        stores.events.ingest = unavailable;
        const unknown = `${SERVER_KEY_PREFIX}${'k'.repeat(43)}`;
        const headers = { authorization: `Bearer ${unknown}`, 'content-type': 'application/json' };
        const admin = await t.app.inject({
          method: 'GET',
          url: '/api/v1/audit',
          headers: { authorization: `Bearer ${t.adminToken}` },
        });
        const sdk = await t.app.inject({ method: 'GET', url: '/sdk/v1/config', headers });
        const resolve = await t.app.inject({ method: 'POST', url: '/sdk/v1/resolve', headers, payload: {} });
        const ofrep = await t.app.inject({
          method: 'POST',
          url: '/ofrep/v1/evaluate/flags/banner',
          headers,
          payload: { context: { targetingKey: 'u1' } },
        });
        expect([admin.statusCode, sdk.statusCode, resolve.statusCode, ofrep.statusCode]).toEqual([
          503, 503, 503, 503,
        ]);
        expect(admin.json().error.code).toBe('UNAVAILABLE');
        expect(sdk.json().error.code).toBe('UNAVAILABLE');
        for (const res of [admin, sdk, resolve, ofrep]) expect(res.headers['retry-after']).toBe('2');
        // A live key is answered from memory; the event write is refused, never acknowledged.
        const created = await t.app.dimmer.keys.createClientKey(
          { name: 'k', environment: 'production', kind: 'server' },
          'test',
        );
        const live = { authorization: `Bearer ${created.secret}`, 'content-type': 'application/json' };
        const config = await t.app.inject({ method: 'GET', url: '/sdk/v1/config', headers: live });
        expect(config.statusCode).toBe(200);
        const events = await t.app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: live,
          payload: {
            batchId: 'b1',
            events: [{ type: 'track', name: 'x', unit: 'u', timestamp: new Date().toISOString() }],
          },
        });
        expect(events.statusCode).toBe(503);
        expect(events.headers['retry-after']).toBe('2');
        expect(events.json().error.code).toBe('UNAVAILABLE');
      } finally {
        await t.close();
      }
    },
    APP_TEST_TIMEOUT_MS,
  );

  it(
    'sends WWW-Authenticate on a 401 of every route family',
    async () => {
      const t = await buildTestApp();
      try {
        const admin = await t.app.inject({ method: 'GET', url: '/api/v1/flags' });
        const sdk = await t.app.inject({ method: 'GET', url: '/sdk/v1/config' });
        for (const res of [admin, sdk]) {
          expect(res.statusCode).toBe(401);
          expect(res.headers['www-authenticate']).toBe('Bearer');
          expect(res.json().error.code).toBe('UNAUTHORIZED');
        }
      } finally {
        await t.close();
      }
    },
    APP_TEST_TIMEOUT_MS,
  );
});
