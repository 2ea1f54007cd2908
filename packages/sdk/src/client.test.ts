import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BROWSER_KEY, FakeServer, SERVER_KEY, TEST_SYNC, waitUntil } from '../test/fake-server.ts';
import { makeSnapshot } from '../test/fixtures.ts';
import type { DimmerClient } from './client.ts';
import { createClient } from './node.ts';
import { silentLogger } from './platform.ts';

const servers: FakeServer[] = [];
const clients: DimmerClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startServer(version = 1, options: { streamStatus?: number } = {}): Promise<FakeServer> {
  const server = await new FakeServer(makeSnapshot(version), options).start();
  servers.push(server);
  return server;
}

function connect(url: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): DimmerClient {
  const client = createClient({
    url,
    clientKey: SERVER_KEY,
    logger: silentLogger,
    ...TEST_SYNC,
    events: { flushIntervalMs: 3_600_000, retryBackoff: { initialMs: 1, maxMs: 5 } },
    ...extra,
  });
  clients.push(client);
  return client;
}

/** Real timers that record every delay asked for (to see a refetch's jitter). */
function recordingTimers(delays: number[]): NonNullable<Parameters<typeof createClient>[0]['timers']> {
  return {
    setTimeout: (callback, delayMs) => {
      delays.push(delayMs);
      return setTimeout(callback, delayMs);
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

/** A port nothing listens on: start a server and stop it. */
async function deadUrl(): Promise<string> {
  const server = await new FakeServer(makeSnapshot(1)).start();
  await server.stop();
  return server.url;
}

describe('createClient (server mode)', () => {
  it('fetches the config and evaluates locally without a request per evaluation', async () => {
    const server = await startServer(3);
    const client = connect(server.url);
    const status = await client.waitForFirstAttempt();
    expect(status).toMatchObject({ state: 'READY', source: 'server', configVersion: 3 });
    const requestsBefore = server.log.length;
    for (let i = 0; i < 200; i++) client.getStringValue('banner', 'none', { targetingKey: `u${i}` });
    expect(server.log.length).toBe(requestsBefore);
    expect(client.getStringValue('banner', 'none', { targetingKey: 'u1' })).toBe('blue');
    expect(client.getStringValue('banner', 'none', { targetingKey: 'u1', email: 'a@acme.test' })).toBe(
      'green',
    );
    expect(client.getNumberValue('limit', 0, { targetingKey: 'user-vip' })).toBe(100);
    expect(client.getObjectValue('theme', {}, { targetingKey: 'u1' })).toEqual({
      mode: 'light',
      contrast: 1,
    });
  });

  it('returns the code default with TYPE_MISMATCH or FLAG_NOT_FOUND', async () => {
    const server = await startServer();
    const client = connect(server.url);
    await client.waitForFirstAttempt();
    expect(client.getNumberDetails('banner', 7, { targetingKey: 'u' })).toMatchObject({
      value: 7,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(client.getBooleanDetails('nope', true, { targetingKey: 'u' })).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('refetches a change announced on the stream after its jitter, and reports the changed flags', async () => {
    const server = await startServer(1);
    const delays: number[] = [];
    const client = connect(server.url, {
      pollIntervalMs: 3_600_000,
      refetchJitterMs: 200,
      timers: recordingTimers(delays),
    });
    await client.waitForFirstAttempt();
    await waitUntil(() => client.status().streaming, 5_000, 'stream');
    const changes: string[][] = [];
    client.on('change', ({ flagsChanged }) => changes.push(flagsChanged));
    delays.length = 0;
    server.publish(makeSnapshot(2, { banner: 'red' }));
    await waitUntil(() => client.getStringValue('banner', 'none', { targetingKey: 'u' }) === 'red');
    // random() is 0.5 in these tests: the refetch waited half the jitter.
    expect(delays).toContain(100);
    expect(client.status().configVersion).toBe(2);
    expect(changes).toEqual([['banner']]);
  });

  it('applies a change announced on the stream and reports the changed flags', async () => {
    const server = await startServer(1);
    const client = connect(server.url, { pollIntervalMs: 3_600_000 });
    await client.waitForFirstAttempt();
    await waitUntil(() => client.status().streaming, 5_000, 'stream');
    const changes: string[][] = [];
    client.on('change', ({ flagsChanged }) => changes.push(flagsChanged));
    server.publish(makeSnapshot(2, { banner: 'red' }));
    await waitUntil(() => client.getStringValue('banner', 'none', { targetingKey: 'u' }) === 'red');
    expect(client.status().configVersion).toBe(2);
    expect(changes).toEqual([['banner']]);
  });

  it('applies a patch from the stream at once, without a request, and refetches when its base is not held', async () => {
    const server = await startServer(1);
    // A fallback refetch would wait half of this jitter (random() is 0.5): far longer than the waits below.
    const delays: number[] = [];
    const client = connect(server.url, {
      pollIntervalMs: 3_600_000,
      refetchJitterMs: 60_000,
      timers: recordingTimers(delays),
    });
    await client.waitForFirstAttempt();
    await waitUntil(() => client.status().streaming, 5_000, 'stream');
    const changes: Array<{ version: number; flagsChanged: string[] }> = [];
    client.on('change', (change) => changes.push(change));
    const configRequests = server.count('GET /sdk/v1/config');
    const v2 = makeSnapshot(2, { banner: 'red' });
    const banner = v2.flags.find((f) => f.key === 'banner');
    server.publish(v2, { base: 1, flags: [banner], removedFlags: [], segments: [], removedSegments: [] });
    await waitUntil(() => client.getStringValue('banner', 'none', { targetingKey: 'u' }) === 'red');
    expect(server.count('GET /sdk/v1/config')).toBe(configRequests);
    expect(client.status()).toMatchObject({ state: 'READY', source: 'server', configVersion: 2 });
    expect(changes).toEqual([{ version: 2, flagsChanged: ['banner'] }]);
    expect(client.snapshot()).toEqual(v2);
    expect(delays).not.toContain(30_000);

    // A patch against a version the client does not hold: no change from it; the jittered refetch follows.
    const v4 = makeSnapshot(4, { banner: 'green' });
    server.publish(v4, { base: 3, flags: [], removedFlags: [], segments: [], removedSegments: [] });
    await waitUntil(() => delays.includes(30_000), 5_000, 'the jittered refetch');
    expect(client.status().configVersion).toBe(2);
    expect(server.count('GET /sdk/v1/config')).toBe(configRequests);
  });

  it('refetches at once (no jitter set) when a patch does not apply, and never throws', async () => {
    const server = await startServer(1);
    const client = connect(server.url, { pollIntervalMs: 3_600_000 });
    await client.waitForFirstAttempt();
    await waitUntil(() => client.status().streaming, 5_000, 'stream');
    const configRequests = server.count('GET /sdk/v1/config');
    server.publish(makeSnapshot(3, { banner: 'green' }), {
      base: 2,
      flags: [],
      removedFlags: [],
      segments: [],
      removedSegments: [],
    });
    await waitUntil(() => client.status().configVersion === 3, 5_000, 'refetch after a base mismatch');
    expect(server.count('GET /sdk/v1/config')).toBe(configRequests + 1);
    // Malformed patches (flags not an array, a removed key not a string): refetched, not applied.
    server.publish(makeSnapshot(4, { banner: 'red' }), { base: 3, flags: 'banner', removedFlags: [] });
    await waitUntil(() => client.status().configVersion === 4, 5_000, 'refetch after a malformed patch');
    server.publish(makeSnapshot(5), {
      base: 4,
      flags: [],
      removedFlags: [7],
      segments: [],
      removedSegments: [],
    });
    await waitUntil(() => client.status().configVersion === 5, 5_000, 'refetch after a malformed patch');
    expect(server.count('GET /sdk/v1/config')).toBe(configRequests + 3);
    expect(client.getStringValue('banner', 'none', { targetingKey: 'u' })).toBe('blue');
    expect(client.status().state).toBe('READY');
  });

  it('polls with If-None-Match when the stream is unavailable and still sees changes', async () => {
    const server = await startServer(1, { streamStatus: 404 });
    const client = connect(server.url);
    await client.waitForFirstAttempt();
    await waitUntil(() => server.count('GET /sdk/v1/config 304') >= 1, 5_000, 'a 304 poll');
    server.publish(makeSnapshot(2, { banner: 'red' }));
    await waitUntil(() => client.getStringValue('banner', 'none', { targetingKey: 'u' }) === 'red');
    expect(client.status()).toMatchObject({ state: 'READY', streaming: false });
  });

  it('serves the last config as STALE while the server is down, then recovers', async () => {
    const server = await startServer(1);
    const client = connect(server.url);
    await client.waitForFirstAttempt();
    await waitUntil(() => client.status().streaming);
    const states: string[] = [];
    client.on('stale', () => states.push('STALE'));
    client.on('ready', () => states.push('READY'));
    const port = server.port;
    await server.stop();
    await waitUntil(() => client.status().state === 'STALE', 5_000, 'STALE');
    expect(client.getStringDetails('banner', 'none', { targetingKey: 'u' })).toMatchObject({
      value: 'blue',
      configVersion: 1,
    });
    expect(client.status().configAgeMs).toBeGreaterThanOrEqual(0);
    server.snapshot = makeSnapshot(2, { banner: 'red' });
    await server.start(port);
    await waitUntil(() => client.status().state === 'READY', 5_000, 'READY again');
    await waitUntil(() => client.getStringValue('banner', 'none', { targetingKey: 'u' }) === 'red');
    expect(states).toEqual(['STALE', 'READY']);
  });

  it('serves the bootstrap while the server is unreachable', async () => {
    const client = connect(await deadUrl(), { bootstrap: makeSnapshot(9, { banner: 'red' }) });
    const status = await client.waitForFirstAttempt();
    expect(status).toMatchObject({ state: 'STALE', source: 'bootstrap', configVersion: 9 });
    expect(client.getStringValue('banner', 'none', { targetingKey: 'u' })).toBe('red');
  });

  it('returns code defaults with reason ERROR when it has nothing to serve', async () => {
    const client = connect(await deadUrl());
    const status = await client.waitForFirstAttempt();
    expect(status.state).toBe('ERROR');
    expect(client.getBooleanDetails('new-checkout', true, { targetingKey: 'u' })).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'PROVIDER_NOT_READY',
    });
  });

  it('keeps the last good config in a file and serves it after a restart without the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-sdk-'));
    dirs.push(dir);
    const cacheFile = join(dir, 'cache', 'config.json');
    const server = await startServer(4);
    const first = connect(server.url, { cacheFile });
    await first.waitForFirstAttempt();
    await waitUntil(() => {
      try {
        return JSON.parse(readFileSync(cacheFile, 'utf8')).snapshot.version === 4;
      } catch {
        return false;
      }
    });
    await first.close();
    await server.stop();
    const second = connect(server.url, { cacheFile, bootstrap: makeSnapshot(2) });
    const status = await second.waitForFirstAttempt();
    expect(status).toMatchObject({ state: 'STALE', source: 'cache', configVersion: 4 });
    expect(status.configAgeMs).toBeGreaterThanOrEqual(0);
  });

  it('reads a bootstrap from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-sdk-'));
    dirs.push(dir);
    const file = join(dir, 'bootstrap.json');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(file, JSON.stringify(makeSnapshot(5, { banner: 'red' }))),
    );
    const client = connect(await deadUrl(), { bootstrap: { file } });
    await client.waitForFirstAttempt();
    expect(client.getStringValue('banner', 'none', {})).toBe('red');
  });

  it('reports ERROR when the key may not read the config', async () => {
    const server = await startServer();
    const client = connect(server.url, { clientKey: BROWSER_KEY, stream: false });
    const status = await client.waitForFirstAttempt();
    expect(status.state).toBe('ERROR');
    expect(status.lastError).toContain('403');
  });

  it('logs one exposure per unit, flag and variant for rollout and experiment rules, and flushes on close', async () => {
    const server = await startServer(7);
    const client = connect(server.url);
    await client.waitForFirstAttempt();
    for (let i = 0; i < 3; i++) {
      client.getBooleanValue('new-checkout', false, { targetingKey: 'u1' });
      client.getBooleanValue('new-checkout', false, { targetingKey: 'u2' });
    }
    client.getBooleanValue('new-checkout', false, { targetingKey: 'u3' }, { logExposure: false });
    client.getStringValue('banner', 'none', { targetingKey: 'u1' });
    client.getBooleanValue('device-exp', false, { targetingKey: 'u1', deviceId: 'dev-9' });
    client.track('purchase', 'u1', { value: 12.5 });
    await client.close();
    const events = server.batches.flatMap((b) => b.events);
    const exposures = events.filter((e) => e.type === 'exposure');
    expect(exposures.map((e) => `${e.flag}:${e.unit}`).sort()).toEqual([
      'device-exp:dev-9',
      'new-checkout:u1',
      'new-checkout:u2',
    ]);
    expect(exposures.every((e) => e.configVersion === 7 && typeof e.timestamp === 'string')).toBe(true);
    expect(events.filter((e) => e.type === 'track')).toEqual([
      { type: 'track', name: 'purchase', unit: 'u1', value: 12.5, timestamp: expect.stringMatching(/Z$/) },
    ]);
  });

  it('never throws into application code on odd input', async () => {
    const server = await startServer();
    const client = connect(server.url);
    await client.waitForFirstAttempt();
    expect(() => client.evaluate('banner', null as never)).not.toThrow();
    expect(client.getStringDetails('banner', 'x', 42 as never).reason).toBe('ERROR');
    expect(() => client.track('', '')).not.toThrow();
  });
});
