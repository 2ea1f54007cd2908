/**
 * The SDK routes over real HTTP on 127.0.0.1: the config stream, conditional config reads, key scoping.
 */
import type { ConfigStreamEvent } from '@dimmer/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eTarget, ENV_A, ENV_B, startE2eTarget } from '../../testing/e2e-target.ts';

/** Heartbeat interval of the target in these tests, in milliseconds. */
const HEARTBEAT_MS = 50;

let target: E2eTarget;
beforeAll(async () => {
  target = await startE2eTarget(HEARTBEAT_MS);
});
afterAll(async () => {
  await target.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** Reads an SSE response until `done(text so far)` holds; returns the text. */
async function readUntil(body: ReadableStream<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

/** Waits until environment A has exactly `count` config subscriptions (the test timeout bounds the wait). */
async function waitForSubscriptions(count: number): Promise<void> {
  while (target.subscriptionCount() !== count) await new Promise((resolve) => setTimeout(resolve, 10));
}

function configEvents(text: string): ConfigStreamEvent[] {
  return [...text.matchAll(/event: config\nid: \d+\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1] as string));
}

describe('GET /sdk/v1/stream', () => {
  it('sends the current version on connect, a retry hint, heartbeats, and each new version', async () => {
    for (const [index, key] of [target.keys.serverA, target.keys.browserA].entries()) {
      const controller = new AbortController();
      const res = await fetch(`${target.baseUrl}/sdk/v1/stream`, {
        headers: auth(key),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const body = res.body as ReadableStream<Uint8Array>;
      const first = await readUntil(body, (text) => configEvents(text).length >= 1);
      expect(first).toMatch(/^retry: \d+\n/);
      const [initial] = configEvents(first);
      expect(initial?.environment).toBe(ENV_A);
      const bannerText = `stream test ${index}`;
      const version = await target.changeBannerText(bannerText);
      const rest = await readUntil(
        body,
        (text) => configEvents(text).length >= 1 && text.includes(': heartbeat'),
      );
      if (key === target.keys.browserA) {
        // Browser keys only hear of the version: never a rule or a segment.
        expect(configEvents(rest)).toEqual([{ environment: ENV_A, version }]);
      } else {
        // Server keys get the one changed flag, against the version they were told of on connect.
        const [event] = configEvents(rest);
        expect(event).toMatchObject({ environment: ENV_A, version, etag: `"${ENV_A}-${version}"` });
        expect(event?.patch).toMatchObject({ base: initial?.version, removedFlags: [], segments: [] });
        expect(event?.patch?.flags.map((f) => [f.key, f.variants.plain])).toEqual([
          ['banner-text', bannerText],
        ]);
      }
      controller.abort();
    }
  });

  it('drops its subscription when the client disconnects', async () => {
    // The streams of the previous test were aborted: their subscriptions go away.
    await waitForSubscriptions(0);
    const controller = new AbortController();
    const res = await fetch(`${target.baseUrl}/sdk/v1/stream`, {
      headers: auth(target.keys.serverA),
      signal: controller.signal,
    });
    await readUntil(res.body as ReadableStream<Uint8Array>, (text) => configEvents(text).length >= 1);
    expect(target.subscriptionCount()).toBe(1);
    controller.abort();
    await waitForSubscriptions(0);
  });

  it('refuses a request without a key', async () => {
    const res = await fetch(`${target.baseUrl}/sdk/v1/stream`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('UNAUTHORIZED');
  });
});

describe('GET /sdk/v1/config over HTTP', () => {
  it('answers 304 to the ETag it gave, and refuses browser keys', async () => {
    const first = await fetch(`${target.baseUrl}/sdk/v1/config`, { headers: auth(target.keys.serverA) });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') as string;
    const again = await fetch(`${target.baseUrl}/sdk/v1/config`, {
      headers: { ...auth(target.keys.serverA), 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    const browser = await fetch(`${target.baseUrl}/sdk/v1/config`, { headers: auth(target.keys.browserA) });
    expect(browser.status).toBe(403);
  });

  it('answers 304 on OFREP bulk to the ETag it gave, until the context changes', async () => {
    const bulk = (context: object, etag?: string) =>
      fetch(`${target.baseUrl}/ofrep/v1/evaluate/flags`, {
        method: 'POST',
        headers: {
          ...auth(target.keys.browserA),
          'content-type': 'application/json',
          ...(etag === undefined ? {} : { 'if-none-match': etag }),
        },
        body: JSON.stringify({ context }),
      });
    const first = await bulk({ targetingKey: 'u1' });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') as string;
    expect((await bulk({ targetingKey: 'u1' }, etag)).status).toBe(304);
    expect((await bulk({ targetingKey: 'u2' }, etag)).status).toBe(200);
  });

  it("does not let a key of environment A see environment B's config", async () => {
    const a = await (
      await fetch(`${target.baseUrl}/sdk/v1/config`, { headers: auth(target.keys.serverA) })
    ).json();
    const b = await (
      await fetch(`${target.baseUrl}/sdk/v1/config`, { headers: auth(target.keys.serverB) })
    ).json();
    expect(a.environment).toBe(ENV_A);
    expect(b.environment).toBe(ENV_B);
    const label = (snapshot: { flags: Array<{ key: string; rules: unknown[] }> }) =>
      snapshot.flags.find((flag) => flag.key === 'region-label');
    expect(label(a)?.rules).toEqual([]);
    expect(label(b)?.rules).toHaveLength(1);
    const evaluate = async (key: string) => {
      const res = await fetch(`${target.baseUrl}/ofrep/v1/evaluate/flags/region-label`, {
        method: 'POST',
        headers: { ...auth(key), 'content-type': 'application/json' },
        body: JSON.stringify({ context: { targetingKey: 'u1' } }),
      });
      return (await res.json()).value;
    };
    expect(await evaluate(target.keys.serverA)).toBe('served in A');
    expect(await evaluate(target.keys.serverB)).toBe('served in B');
  });

  it('rejects bad JSON and unknown fields on resolve', async () => {
    const post = (body: string) =>
      fetch(`${target.baseUrl}/sdk/v1/resolve`, {
        method: 'POST',
        headers: { ...auth(target.keys.browserA), 'content-type': 'application/json' },
        body,
      });
    const bad = await post('{"context":');
    expect(bad.status).toBe(400);
    const unknown = await post(JSON.stringify({ context: {}, debug: true }));
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.details).toEqual({
      issues: [{ path: 'debug', message: 'unknown field' }],
    });
  });

  it('answers CORS for the browser key origin only', async () => {
    const allowed = await fetch(`${target.baseUrl}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: { ...auth(target.keys.browserA), 'content-type': 'application/json', origin: target.origin },
      body: JSON.stringify({ context: {} }),
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(target.origin);
    const other = await fetch(`${target.baseUrl}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: {
        ...auth(target.keys.browserA),
        'content-type': 'application/json',
        origin: 'https://evil.example',
      },
      body: JSON.stringify({ context: {} }),
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('shutdown', () => {
  it('closes the server even with a stream open', async () => {
    const own = await startE2eTarget(HEARTBEAT_MS);
    const res = await fetch(`${own.baseUrl}/sdk/v1/stream`, { headers: auth(own.keys.serverA) });
    await readUntil(res.body as ReadableStream<Uint8Array>, (text) => configEvents(text).length >= 1);
    // close() resolves only if the open stream is ended; reading then runs to the end of the body.
    await own.close();
    await readUntil(res.body as ReadableStream<Uint8Array>, () => false);
    expect(own.subscriptionCount()).toBe(0);
  });
});
