import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSdkTestHarness,
  HARNESS_KEYS,
  productionSnapshot,
  type SdkTestHarness,
} from '../../testing/client-api-harness.ts';

let harness: SdkTestHarness;
beforeEach(async () => {
  harness = await createSdkTestHarness();
});
afterEach(async () => {
  await harness.app.close();
});

const headers = (key: string = HARNESS_KEYS.serverProduction) => ({ authorization: `Bearer ${key}` });
const evaluateFlag = (flag: string, payload: unknown, key?: string) =>
  harness.app.inject({
    method: 'POST',
    url: `/ofrep/v1/evaluate/flags/${flag}`,
    headers: headers(key),
    payload: payload as object,
  });
const evaluateBulk = (payload: unknown, extra: Record<string, string> = {}, key?: string) =>
  harness.app.inject({
    method: 'POST',
    url: '/ofrep/v1/evaluate/flags',
    headers: { ...headers(key), ...extra },
    payload: payload as object,
  });

describe('POST /ofrep/v1/evaluate/flags/{key}', () => {
  it('evaluates each flag kind with key, value, reason and variant', async () => {
    const context = { context: { targetingKey: 'u1', email: 'ann@acme.com' } };
    expect((await evaluateFlag('new-checkout', context)).json()).toEqual({
      key: 'new-checkout',
      value: true,
      reason: 'STATIC',
      variant: 'on',
    });
    const banner = await evaluateFlag('banner-text', context);
    expect(banner.statusCode).toBe(200);
    expect(banner.headers['content-type']).toMatch(/^application\/json/);
    expect(banner.json()).toEqual({
      key: 'banner-text',
      value: 'Hello, colleague',
      reason: 'TARGETING_MATCH',
      variant: 'staff',
      metadata: { ruleId: 'staff' },
    });
    expect((await evaluateFlag('max-items', context)).json().value).toBe(50);
    expect((await evaluateFlag('theme', context)).json().value).toEqual({ color: 'white', dense: false });
    expect((await evaluateFlag('legacy-export', context)).json()).toMatchObject({
      value: false,
      reason: 'DISABLED',
    });
  });

  it('works for browser keys too', async () => {
    const res = await evaluateFlag('new-checkout', { context: {} }, HARNESS_KEYS.browserProduction);
    expect(res.statusCode).toBe(200);
  });

  it('answers 404 with the flagNotFound body for an unknown flag', async () => {
    const res = await evaluateFlag('nope', { context: { targetingKey: 'u1' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      key: 'nope',
      errorCode: 'FLAG_NOT_FOUND',
      errorDetails: expect.any(String),
    });
  });

  it('answers 400 INVALID_CONTEXT for a missing or ill-typed context', async () => {
    for (const payload of [{}, { context: [] }, { context: { targetingKey: 5 } }]) {
      const res = await evaluateFlag('new-checkout', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toEqual({
        key: 'new-checkout',
        errorCode: 'INVALID_CONTEXT',
        errorDetails: expect.any(String),
      });
    }
  });

  it('answers 400 PARSE_ERROR for malformed JSON and unknown fields', async () => {
    const bad = await harness.app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/new-checkout',
      headers: { ...headers(), 'content-type': 'application/json' },
      payload: '{"context":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ key: 'new-checkout', errorCode: 'PARSE_ERROR' });
    const unknown = await evaluateFlag('new-checkout', { context: {}, extra: 1 });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ key: 'new-checkout', errorCode: 'PARSE_ERROR' });
    expect(unknown.json().errorDetails).toContain('extra');
  });

  it('answers 401 without a valid key', async () => {
    const res = await harness.app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/new-checkout',
      payload: { context: {} },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toEqual({ errorDetails: expect.any(String) });
  });

  it('logs an exposure when a rollout rule served the value', async () => {
    await evaluateFlag('search-v2', { context: { targetingKey: 'u9' } });
    expect(harness.exposures.map((exposure) => exposure.unit)).toEqual(['u9']);
  });
});

describe('POST /ofrep/v1/evaluate/flags (bulk)', () => {
  it('evaluates every flag of the environment with an ETag and flag-set metadata', async () => {
    const res = await evaluateBulk({ context: { targetingKey: 'u1' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toMatch(/^"1-/);
    const body = res.json();
    expect(body.metadata).toEqual({ environment: 'production', version: 1 });
    expect(body.flags.map((flag: { key: string }) => flag.key)).toEqual(
      productionSnapshot().flags.map((flag) => flag.key),
    );
    expect(body.flags.find((flag: { key: string }) => flag.key === 'banner-text')).toMatchObject({
      value: 'Welcome',
      reason: 'UNKNOWN',
    });
  });

  it('answers 304 to the same ETag, and 200 when the context or the config changes', async () => {
    const context = { context: { targetingKey: 'u1', plan: 'pro' } };
    const first = await evaluateBulk(context);
    const etag = first.headers.etag as string;
    const same = await evaluateBulk(
      { context: { plan: 'pro', targetingKey: 'u1' } },
      { 'if-none-match': etag },
    );
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    const otherContext = await evaluateBulk(
      { context: { targetingKey: 'u2', plan: 'pro' } },
      { 'if-none-match': etag },
    );
    expect(otherContext.statusCode).toBe(200);
    harness.hub.publish(productionSnapshot(2));
    const newVersion = await evaluateBulk(context, { 'if-none-match': etag });
    expect(newVersion.statusCode).toBe(200);
    expect(newVersion.headers.etag).not.toBe(etag);
  });

  it('answers a bulk-shaped 400 (no key) for bad requests', async () => {
    const res = await evaluateBulk({ context: 'u1' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errorCode: 'INVALID_CONTEXT', errorDetails: expect.any(String) });
  });

  it('keeps environments apart', async () => {
    const res = await evaluateBulk({ context: {} }, {}, HARNESS_KEYS.serverStaging);
    expect(res.json().flags.map((flag: { key: string }) => flag.key)).toEqual(['staging-only']);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After beyond the per-key budget', async () => {
    const limited = await createSdkTestHarness({ rateLimitPerMinute: 2 });
    try {
      const send = (key: string) =>
        limited.app.inject({
          method: 'POST',
          url: '/ofrep/v1/evaluate/flags/new-checkout',
          headers: { authorization: `Bearer ${key}` },
          payload: { context: {} },
        });
      expect((await send(HARNESS_KEYS.serverProduction)).statusCode).toBe(200);
      expect((await send(HARNESS_KEYS.serverProduction)).statusCode).toBe(200);
      const third = await send(HARNESS_KEYS.serverProduction);
      expect(third.statusCode).toBe(429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      expect(third.json()).toEqual({ errorDetails: expect.stringContaining('rate limit') });
      expect((await send(HARNESS_KEYS.browserProduction)).statusCode).toBe(200);
      const resolve = await limited.app.inject({
        method: 'POST',
        url: '/sdk/v1/resolve',
        headers: { authorization: `Bearer ${HARNESS_KEYS.serverStaging}` },
        payload: { context: {} },
      });
      expect(resolve.statusCode).toBe(200);
    } finally {
      await limited.app.close();
    }
  });
});
