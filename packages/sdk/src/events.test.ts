import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeServer, SERVER_KEY, waitUntil } from '../test/fake-server.ts';
import { makeSnapshot } from '../test/fixtures.ts';
import {
  EventQueue,
  type EventQueueOptions,
  ExposureDeduper,
  isoTimestamp,
  parseRetryAfter,
} from './events.ts';
import { resolvePlatform, silentLogger } from './platform.ts';
import type { SdkEvent } from './types.ts';

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function setup(options: EventQueueOptions = {}): Promise<{ server: FakeServer; queue: EventQueue }> {
  const server = await new FakeServer(makeSnapshot(1)).start();
  servers.push(server);
  const platform = resolvePlatform({ logger: silentLogger, random: () => 0.5 });
  const queue = new EventQueue({ url: server.url, clientKey: SERVER_KEY }, platform, {
    flushIntervalMs: 3_600_000,
    retryBackoff: { initialMs: 1, maxMs: 4 },
    ...options,
  });
  return { server, queue };
}

function track(i: number): SdkEvent {
  return { type: 'track', name: 'click', unit: `u${i}`, timestamp: new Date(0).toISOString() };
}

describe('ExposureDeduper', () => {
  it('logs a (unit, flag, variant) once until two rotations have passed', () => {
    const dedup = new ExposureDeduper(100);
    expect(dedup.shouldLog('u1', 'f', 'on')).toBe(true);
    expect(dedup.shouldLog('u1', 'f', 'on')).toBe(false);
    expect(dedup.shouldLog('u2', 'f', 'on')).toBe(true);
    expect(dedup.shouldLog('u1', 'g', 'on')).toBe(true);
    dedup.rotate();
    expect(dedup.shouldLog('u1', 'f', 'on')).toBe(false);
    dedup.rotate();
    dedup.rotate();
    expect(dedup.shouldLog('u1', 'f', 'on')).toBe(true);
  });

  it('logs again at once when the unit is served another variant', () => {
    const dedup = new ExposureDeduper(100);
    expect(dedup.shouldLog('u1', 'f', 'on')).toBe(true);
    expect(dedup.shouldLog('u1', 'f', 'off')).toBe(true);
    expect(dedup.shouldLog('u1', 'f', 'off')).toBe(false);
  });

  it('forgets the oldest entries beyond its capacity', () => {
    const dedup = new ExposureDeduper(4);
    for (const unit of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) dedup.shouldLog(unit, 'f', 'on');
    expect(dedup.shouldLog('a', 'f', 'on')).toBe(true);
    expect(dedup.shouldLog('g', 'f', 'on')).toBe(false);
  });

  it('keeps per-flag state that behaves like the (unit, flag, variant) API', () => {
    const dedup = new ExposureDeduper(100);
    const f = dedup.forFlag('f');
    expect(dedup.forFlag('f')).toBe(f);
    expect(f.shouldLog('u1', 'on')).toBe(true);
    expect(dedup.shouldLog('u1', 'f', 'on')).toBe(false);
    expect(dedup.forFlag('g').shouldLog('u1', 'on')).toBe(true);
    dedup.rotate();
    expect(f.shouldLog('u1', 'on')).toBe(false);
    dedup.rotate();
    expect(f.shouldLog('u1', 'on')).toBe(true);
  });

  it('logs a variant change at once, also when the old variant is only in the previous generation', () => {
    const dedup = new ExposureDeduper(100);
    const f = dedup.forFlag('f');
    expect(f.shouldLog('u1', 'on')).toBe(true);
    dedup.rotate();
    expect(f.shouldLog('u1', 'off')).toBe(true);
    expect(f.shouldLog('u1', 'off')).toBe(false);
    expect(f.shouldLog('u1', 'on')).toBe(true);
  });

  it('bounds the remembered entries across all flags by its capacity', () => {
    const capacity = 10;
    const dedup = new ExposureDeduper(capacity);
    const flags = ['f', 'g', 'h'].map((key) => dedup.forFlag(key));
    for (let i = 0; i < 100; i++) {
      (flags[i % flags.length] as (typeof flags)[number]).shouldLog(`u${i}`, 'on');
      expect(dedup.size).toBeLessThanOrEqual(capacity + 1);
    }
    // The most recent entries are still remembered; the oldest are forgotten.
    expect(dedup.shouldLog('u99', 'f', 'on')).toBe(false);
    expect(dedup.shouldLog('u0', 'f', 'on')).toBe(true);
  });
});

describe('EventQueue', () => {
  it('sends full batches by size and the rest on flush', async () => {
    const { server, queue } = await setup({ batchSize: 3 });
    for (let i = 0; i < 7; i++) queue.enqueue(track(i));
    await queue.flush();
    await waitUntil(() => server.batches.reduce((n, b) => n + b.events.length, 0) === 7);
    expect(server.batches.map((b) => b.events.length).sort()).toEqual([1, 3, 3]);
    expect(new Set(server.batches.map((b) => b.batchId)).size).toBe(server.batches.length);
    await queue.close();
  });

  it('drops the oldest events beyond its capacity and counts them', async () => {
    const { server, queue } = await setup({ batchSize: 100, maxQueueSize: 5 });
    for (let i = 0; i < 8; i++) queue.enqueue(track(i));
    expect(queue.dropped).toBe(3);
    await queue.close();
    expect(server.batches[0]?.events.map((e) => e.unit)).toEqual(['u3', 'u4', 'u5', 'u6', 'u7']);
  });

  it('retries 5xx and 429 with the same batch id', async () => {
    const { server, queue } = await setup();
    server.eventStatuses = [500, 429, 503];
    queue.enqueue(track(1));
    await queue.flush();
    const attempts = server.log.filter((l) => l.startsWith('POST /v1/events'));
    expect(attempts).toEqual([
      'POST /v1/events 500',
      'POST /v1/events 429',
      'POST /v1/events 503',
      'POST /v1/events 202',
    ]);
    expect(server.batches).toHaveLength(1);
    expect(queue.dropped).toBe(0);
    await queue.close();
  });

  it('reuses the batch id across retries', async () => {
    const ids: string[] = [];
    const platform = resolvePlatform({
      logger: silentLogger,
      fetch: async (_url, init) => {
        ids.push((JSON.parse(String(init?.body)) as { batchId: string }).batchId);
        return new Response('{}', { status: ids.length < 3 ? 500 : 202 });
      },
    });
    const queue = new EventQueue({ url: 'http://x', clientKey: 'k' }, platform, {
      retryBackoff: { initialMs: 1, maxMs: 2 },
      flushIntervalMs: 3_600_000,
    });
    queue.enqueue(track(1));
    await queue.flush();
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    await queue.close();
  });

  it('drops a batch the server refuses as invalid, and one that runs out of retries', async () => {
    const { server, queue } = await setup({ maxRetries: 1 });
    server.eventStatuses = [400];
    queue.enqueue(track(1));
    await queue.flush();
    expect(queue.dropped).toBe(1);
    server.eventStatuses = [500, 500];
    queue.enqueue(track(2));
    await queue.flush();
    expect(queue.dropped).toBe(2);
    expect(server.batches).toHaveLength(0);
    await queue.close();
  });

  it('never rejects when the server is unreachable, and counts what it could not deliver', async () => {
    const { server, queue } = await setup({ maxRetries: 2 });
    await server.stop();
    queue.enqueue(track(1));
    await expect(queue.close()).resolves.toBeUndefined();
    expect(queue.dropped).toBe(1);
  });
});

/** A real HTTP server on 127.0.0.1 that holds the first `silentRequests` uploads open without answering. */
async function silentThenAnsweringServer(silentRequests: number): Promise<{
  url: string;
  batchIds: string[];
  answered: number;
  stop(): Promise<void>;
}> {
  const held: ServerResponse[] = [];
  const state = { batchIds: [] as string[], answered: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      state.batchIds.push((JSON.parse(body) as { batchId: string }).batchId);
      if (state.batchIds.length <= silentRequests) {
        held.push(res);
        return;
      }
      state.answered++;
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":1}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get batchIds() {
      return state.batchIds;
    },
    get answered() {
      return state.answered;
    },
    stop: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('EventQueue upload timeout', () => {
  it('aborts an upload the server never answers and retries the same batch id until it is answered', async () => {
    const server = await silentThenAnsweringServer(2);
    const platform = resolvePlatform({ logger: silentLogger, random: () => 0.5 });
    const queue = new EventQueue({ url: server.url, clientKey: SERVER_KEY }, platform, {
      flushIntervalMs: 3_600_000,
      retryBackoff: { initialMs: 10, maxMs: 20 },
      uploadTimeoutMs: 150,
    });
    try {
      queue.enqueue(track(1));
      await queue.flush();
      expect(server.batchIds).toHaveLength(3);
      expect(new Set(server.batchIds).size).toBe(1);
      expect(server.answered).toBe(1);
      expect(queue.dropped).toBe(0);
      expect(queue.pending).toBe(0);
    } finally {
      await queue.close();
      await server.stop();
    }
  });

  it('gives up on a server that never answers after the retries, without hanging', async () => {
    const server = await silentThenAnsweringServer(Number.POSITIVE_INFINITY);
    const platform = resolvePlatform({ logger: silentLogger, random: () => 0.5 });
    const queue = new EventQueue({ url: server.url, clientKey: SERVER_KEY }, platform, {
      flushIntervalMs: 3_600_000,
      retryBackoff: { initialMs: 10, maxMs: 20 },
      uploadTimeoutMs: 100,
      maxRetries: 2,
    });
    try {
      queue.enqueue(track(1));
      await queue.flush();
      expect(server.batchIds).toHaveLength(3);
      expect(new Set(server.batchIds).size).toBe(1);
      expect(queue.dropped).toBe(1);
    } finally {
      await queue.close();
      await server.stop();
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('isoTimestamp', () => {
  it('formats each millisecond as its own ISO 8601 text, repeated or alternating', () => {
    for (const ms of [0, 0, 1_700_000_000_123, 0, 1_700_000_000_123, 1_700_000_000_124, 1_700_000_000_124])
      expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });
});
