import { afterEach, describe, expect, it } from 'vitest';
import { BROWSER_KEY, FakeServer, TEST_SYNC, waitUntil } from '../test/fake-server.ts';
import { makeSnapshot } from '../test/fixtures.ts';
import { silentLogger } from './platform.ts';
import {
  type BrowserClientOptions,
  createBrowserClient,
  type DimmerBrowserClient,
  stableStringify,
} from './remote-client.ts';
import { localStorageResolutionCache } from './web-storage.ts';

const servers: FakeServer[] = [];
const clients: DimmerBrowserClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function startServer(version = 1): Promise<FakeServer> {
  const server = await new FakeServer(makeSnapshot(version)).start();
  servers.push(server);
  return server;
}

function connect(url: string, extra: Partial<BrowserClientOptions> = {}): DimmerBrowserClient {
  const client = createBrowserClient({
    url,
    clientKey: BROWSER_KEY,
    logger: silentLogger,
    context: { targetingKey: 'u1' },
    ...TEST_SYNC,
    events: { flushIntervalMs: 3_600_000 },
    ...extra,
  });
  clients.push(client);
  return client;
}

function memoryStorage(): { getItem(k: string): string | null; setItem(k: string, v: string): void } {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

describe.each(['resolve', 'ofrep'] as const)('createBrowserClient over %s', (protocol) => {
  it('serves values resolved on the server for its context, and re-resolves on a context change', async () => {
    const server = await startServer(2);
    const client = connect(server.url, { protocol });
    const status = await client.waitForFirstAttempt();
    expect(status.state).toBe('READY');
    expect(client.getStringValue('banner', 'none')).toBe('blue');
    expect(client.getNumberDetails('limit', 0)).toMatchObject({ value: 10, variant: 'low' });
    expect(client.getObjectValue('theme', {})).toEqual({ mode: 'light', contrast: 1 });
    expect(client.getNumberDetails('banner', 3)).toMatchObject({ value: 3, errorCode: 'TYPE_MISMATCH' });
    expect(client.getBooleanDetails('missing', true)).toMatchObject({
      value: true,
      errorCode: 'FLAG_NOT_FOUND',
    });
    await client.setContext({ targetingKey: 'user-vip', email: 'x@acme.test' });
    expect(client.getNumberValue('limit', 0)).toBe(100);
    expect(client.getStringValue('banner', 'none')).toBe('green');
  });

  it('re-resolves when the stream announces a new config version', async () => {
    const server = await startServer(1);
    const client = connect(server.url, { protocol, pollIntervalMs: 3_600_000 });
    await client.waitForFirstAttempt();
    await waitUntil(() => client.status().streaming);
    const changed: string[][] = [];
    client.on('change', ({ flagsChanged }) => changed.push(flagsChanged));
    server.publish(makeSnapshot(2, { banner: 'red' }));
    await waitUntil(() => client.getStringValue('banner', 'none') === 'red');
    expect(changed).toContainEqual(['banner']);
  });
});

describe('createBrowserClient', () => {
  it('never logs exposures itself (the server does on resolve) but sends tracked events', async () => {
    const server = await startServer();
    const client = connect(server.url);
    await client.waitForFirstAttempt();
    client.getBooleanValue('new-checkout', false);
    client.track('purchase', { value: 3 });
    await client.close();
    expect(server.batches.flatMap((b) => b.events)).toEqual([
      { type: 'track', name: 'purchase', unit: 'u1', value: 3, timestamp: expect.any(String) },
    ]);
  });

  it('asks with If-None-Match when re-resolving the same context', async () => {
    const server = await startServer();
    const client = connect(server.url, { protocol: 'ofrep', stream: false });
    await client.waitForFirstAttempt();
    await waitUntil(() => server.count('POST /ofrep/v1/evaluate/flags 304') >= 1, 5_000, 'a 304');
    expect(client.status().state).toBe('READY');
  });

  it('serves its cached resolution for the same context while the server is down', async () => {
    const storage = memoryStorage();
    const server = await startServer();
    const first = connect(server.url, { cache: localStorageResolutionCache('k', storage) });
    await first.waitForFirstAttempt();
    await waitUntil(() => storage.getItem('k') !== null);
    await first.close();
    await server.stop();
    const again = connect(server.url, { cache: localStorageResolutionCache('k', storage) });
    expect(await again.waitForFirstAttempt()).toMatchObject({ state: 'STALE', source: 'cache' });
    expect(again.getStringValue('banner', 'none')).toBe('blue');
    const other = connect(server.url, {
      cache: localStorageResolutionCache('k', storage),
      context: { targetingKey: 'someone-else' },
    });
    expect(await other.waitForFirstAttempt()).toMatchObject({ state: 'ERROR' });
    expect(other.getStringDetails('banner', 'none')).toMatchObject({
      value: 'none',
      errorCode: 'PROVIDER_NOT_READY',
    });
  });

  it('serves bootstrap values until the server answers', async () => {
    const server = await startServer();
    await server.stop();
    const client = connect(server.url, { bootstrap: { banner: { value: 'boot', reason: 'STATIC' } } });
    expect(await client.waitForFirstAttempt()).toMatchObject({ state: 'STALE', source: 'bootstrap' });
    expect(client.getStringValue('banner', 'none')).toBe('boot');
  });
});

describe('stableStringify', () => {
  it('ignores key order', () => {
    expect(stableStringify({ b: 1, a: { d: 2, c: [1, 2] } })).toBe(
      stableStringify({ a: { c: [1, 2], d: 2 }, b: 1 }),
    );
  });
});
