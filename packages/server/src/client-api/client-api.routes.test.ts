import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSdkTestHarness,
  HARNESS_KEYS,
  HARNESS_ORIGIN,
  productionSnapshot,
  type SdkTestHarness,
} from '../../testing/client-api-harness.ts';
import type { SnapshotPatch } from '../client-deps.ts';
import { diffSnapshots } from '../config/snapshot-patch.ts';
import { acceptsGzip, GZIP_MIN_BYTES } from './client-api.routes.ts';
import { formatConfigEvent } from './config-stream.ts';

let harness: SdkTestHarness;
beforeEach(async () => {
  harness = await createSdkTestHarness();
});
afterEach(async () => {
  await harness.app.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('GET /sdk/v1/config', () => {
  it('serves the environment snapshot with its ETag to a server key', async () => {
    const res = await harness.app.inject({
      method: 'GET',
      url: '/sdk/v1/config',
      headers: bearer(HARNESS_KEYS.serverProduction),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"production-1"');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual(productionSnapshot());
  });

  it('sends a large config gzipped to a client that accepts gzip, compressed once per version', async () => {
    harness.hub.publish(productionSnapshot(2, { bannerText: 'W'.repeat(4 * GZIP_MIN_BYTES) }));
    const get = (encoding?: string) =>
      harness.app.inject({
        method: 'GET',
        url: '/sdk/v1/config',
        headers: {
          ...bearer(HARNESS_KEYS.serverProduction),
          ...(encoding !== undefined ? { 'accept-encoding': encoding } : {}),
        },
      });
    const plain = await get();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('accept-encoding');
    const zipped = await get('br, gzip;q=0.8');
    expect(zipped.statusCode).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 4);
    expect(JSON.parse(gunzipSync(zipped.rawPayload).toString('utf8'))).toEqual(plain.json());
    expect((await get('gzip;q=0')).headers['content-encoding']).toBeUndefined();
    expect(acceptsGzip('identity, *')).toBe(true);
    expect(acceptsGzip('deflate')).toBe(false);
  });

  it('accepts the key in X-API-Key as well', async () => {
    const res = await harness.app.inject({
      method: 'GET',
      url: '/sdk/v1/config',
      headers: { 'x-api-key': HARNESS_KEYS.serverProduction },
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers 304 to a matching If-None-Match and 200 again after a change', async () => {
    const headers = { ...bearer(HARNESS_KEYS.serverProduction), 'if-none-match': '"production-1"' };
    const unchanged = await harness.app.inject({ method: 'GET', url: '/sdk/v1/config', headers });
    expect(unchanged.statusCode).toBe(304);
    expect(unchanged.body).toBe('');
    harness.hub.publish(productionSnapshot(2));
    const changed = await harness.app.inject({ method: 'GET', url: '/sdk/v1/config', headers });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).toBe('"production-2"');
    expect(changed.json().version).toBe(2);
  });

  it('refuses browser keys with 403 FORBIDDEN pointing to resolve and OFREP', async () => {
    const res = await harness.app.inject({
      method: 'GET',
      url: '/sdk/v1/config',
      headers: bearer(HARNESS_KEYS.browserProduction),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect(res.json().error.message).toMatch(/resolve/);
    expect(res.body).not.toContain('new-checkout');
  });

  it('answers 401 UNAUTHORIZED without a key or with an unknown key', async () => {
    const missing = await harness.app.inject({ method: 'GET', url: '/sdk/v1/config' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.any(String), details: null },
    });
    const unknown = await harness.app.inject({
      method: 'GET',
      url: '/sdk/v1/config',
      headers: bearer('nope'),
    });
    expect(unknown.statusCode).toBe(401);
  });

  it('serves each key only its own environment', async () => {
    const res = await harness.app.inject({
      method: 'GET',
      url: '/sdk/v1/config',
      headers: bearer(HARNESS_KEYS.serverStaging),
    });
    expect(res.json().environment).toBe('staging');
    expect(res.json().flags.map((flag: { key: string }) => flag.key)).toEqual(['staging-only']);
  });
});

describe('CORS', () => {
  it('answers preflight permissively with the allowed headers', async () => {
    const res = await harness.app.inject({
      method: 'OPTIONS',
      url: '/sdk/v1/resolve',
      headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://anywhere.example');
    expect(res.headers['access-control-allow-headers']).toContain('X-API-Key');
    expect(res.headers['access-control-allow-headers']).toContain('If-None-Match');
  });

  it('echoes the origin only when the key allows it, and exposes ETag', async () => {
    const allowed = await harness.app.inject({
      method: 'POST',
      url: '/sdk/v1/resolve',
      headers: { ...bearer(HARNESS_KEYS.browserProduction), origin: HARNESS_ORIGIN },
      payload: { context: { targetingKey: 'u1' } },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe(HARNESS_ORIGIN);
    expect(allowed.headers['access-control-expose-headers']).toBe('ETag');
    const refused = await harness.app.inject({
      method: 'POST',
      url: '/sdk/v1/resolve',
      headers: { ...bearer(HARNESS_KEYS.browserProduction), origin: 'https://evil.example' },
      payload: { context: { targetingKey: 'u1' } },
    });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('POST /sdk/v1/resolve', () => {
  const resolve = (payload: unknown, key: string = HARNESS_KEYS.browserProduction) =>
    harness.app.inject({
      method: 'POST',
      url: '/sdk/v1/resolve',
      headers: bearer(key),
      payload: payload as object,
    });

  it('resolves every flag for a context when no list is given', async () => {
    const res = await resolve({ context: { targetingKey: 'u1', email: 'ann@acme.com' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.environment).toBe('production');
    expect(body.version).toBe(1);
    expect(Object.keys(body.flags)).toEqual(productionSnapshot().flags.map((flag) => flag.key));
    expect(body.flags['banner-text']).toEqual({
      value: 'Hello, colleague',
      variant: 'staff',
      reason: 'TARGETING_MATCH',
    });
    expect(body.flags['legacy-export']).toEqual({ value: false, variant: 'off', reason: 'DISABLED' });
  });

  it('resolves only the named flags, reporting unknown ones as FLAG_NOT_FOUND without a value', async () => {
    const res = await resolve({ context: { targetingKey: 'u1' }, flags: ['max-items', 'nope'] });
    expect(res.json().flags).toEqual({
      'max-items': { value: 50, variant: 'many', reason: 'STATIC' },
      nope: { reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', errorMessage: expect.any(String) },
    });
  });

  it('reports rollout-served results as exposures with the targetingKey as unit, unless told not to', async () => {
    await resolve({ context: { targetingKey: 'u1' } });
    expect(harness.exposures).toHaveLength(1);
    expect(harness.exposures[0]?.unit).toBe('u1');
    expect(harness.exposures[0]?.principal.keyId).toBe('k2');
    expect(harness.exposures[0]?.results.map((result) => result.flagKey)).toEqual(['search-v2']);
    await resolve({ context: { targetingKey: 'u1' }, flags: ['max-items'] });
    await resolve({ context: { targetingKey: 'u1' }, logExposures: false });
    expect(harness.exposures).toHaveLength(1);
  });

  it('answers 304 to its ETag until the config, the context or the flag list changes', async () => {
    const send = (payload: object, etag: string) =>
      harness.app.inject({
        method: 'POST',
        url: '/sdk/v1/resolve',
        headers: { ...bearer(HARNESS_KEYS.browserProduction), 'if-none-match': etag },
        payload,
      });
    const first = await resolve({ context: { targetingKey: 'u1', plan: 'pro' } });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"1-/);
    expect((await send({ context: { plan: 'pro', targetingKey: 'u1' } }, etag)).statusCode).toBe(304);
    expect((await send({ context: { targetingKey: 'u2', plan: 'pro' } }, etag)).statusCode).toBe(200);
    expect(
      (await send({ context: { targetingKey: 'u1', plan: 'pro' }, flags: ['theme'] }, etag)).statusCode,
    ).toBe(200);
    harness.hub.publish(productionSnapshot(2));
    expect((await send({ context: { targetingKey: 'u1', plan: 'pro' } }, etag)).statusCode).toBe(200);
  });

  it('rejects unknown fields with VALIDATION_FAILED naming the field', async () => {
    const res = await resolve({ context: {}, flagz: [] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(res.json().error.details).toEqual({ issues: [{ path: 'flagz', message: 'unknown field' }] });
    expect(res.json().error.message).toContain('flagz');
  });

  it('rejects malformed JSON with 400 BAD_REQUEST', async () => {
    const res = await harness.app.inject({
      method: 'POST',
      url: '/sdk/v1/resolve',
      headers: { ...bearer(HARNESS_KEYS.serverProduction), 'content-type': 'application/json' },
      payload: '{"context": {',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BAD_REQUEST');
  });

  it('refuses a non-JSON body with 415', async () => {
    const res = await harness.app.inject({
      method: 'POST',
      url: '/sdk/v1/resolve',
      headers: { ...bearer(HARNESS_KEYS.serverProduction), 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('keeps environments apart: a staging key does not see production flags', async () => {
    const res = await resolve(
      { context: { targetingKey: 'u1' }, flags: ['new-checkout'] },
      HARNESS_KEYS.serverStaging,
    );
    expect(res.json().environment).toBe('staging');
    expect(res.json().flags['new-checkout'].errorCode).toBe('FLAG_NOT_FOUND');
  });
});

describe('formatConfigEvent', () => {
  it('is one SSE frame of event config with the version as id and {environment, version} as data', () => {
    expect(formatConfigEvent({ environment: 'production', version: 7 })).toBe(
      'event: config\nid: 7\ndata: {"environment":"production","version":7}\n\n',
    );
  });

  const v2 = productionSnapshot(2, { bannerText: 'Spring sale' });
  const state = {
    environment: 'production',
    version: 2,
    etag: '"production-2"',
    patch: diffSnapshots(productionSnapshot(1), v2) as SnapshotPatch,
  };
  const data = (frame: string) => JSON.parse(/\ndata: (.*)\n\n$/.exec(frame)?.[1] ?? 'null');

  it('gives server keys the etag and the patch against the previous version', () => {
    const frame = formatConfigEvent(state, 'server');
    expect(frame.startsWith('event: config\nid: 2\ndata: ')).toBe(true);
    expect(data(frame)).toEqual({
      environment: 'production',
      version: 2,
      etag: '"production-2"',
      patch: { base: 1, flags: [v2.flags[1]], removedFlags: [], segments: [], removedSegments: [] },
    });
  });

  it('gives browser keys only the environment and version: no rules, no segments', () => {
    const frame = formatConfigEvent(state, 'browser');
    expect(frame).toBe('event: config\nid: 2\ndata: {"environment":"production","version":2}\n\n');
    expect(formatConfigEvent(state)).toBe(frame);
  });

  it('gives server keys a notice with the etag when the version has no patch', () => {
    const { patch: _none, ...noPatch } = state;
    expect(data(formatConfigEvent(noPatch, 'server'))).toEqual({
      environment: 'production',
      version: 2,
      etag: '"production-2"',
    });
  });
});
