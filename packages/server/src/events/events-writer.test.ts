/**
 * Event ingestion of a SQLite file on its writer thread: what it writes is what the serving thread reads, the
 * serving connection's writes and the writer's groups take turns, and a writer that cannot run leaves ingestion
 * on the serving thread, with its error heard.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite } from '../storage/sqlite/database.ts';
import { DiskFaultError } from '../storage/sqlite/driver.ts';
import { createSqliteStores } from '../stores.ts';
import type { EventsStore, IngestBatch } from './events.store.ts';
import { createThreadedEventsStore } from './events-writer.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-writer-'));
  dirs.push(dir);
  return dir;
}

function batch(batchId: string, tracks: number): IngestBatch {
  return {
    environment: 'production',
    batchId,
    answer: { batchId, accepted: tracks, rejected: [] },
    exposures: [],
    tracks: Array.from({ length: tracks }, (_, i) => ({
      unit: `u${i}`,
      name: 'click',
      ts: 1_000 + i,
      value: 1,
    })),
  };
}

/** A store over the serving connection that counts its calls (the fallback). */
function countingFallback(inner: EventsStore): EventsStore & { calls: number } {
  const counted = {
    calls: 0,
    ingest: (batches: readonly IngestBatch[], at: number) => {
      counted.calls++;
      return inner.ingest(batches, at);
    },
    prune: (ts: number) => inner.prune(ts),
    countTracks: () => inner.countTracks(),
  };
  return counted;
}

describe('the SQLite events writer thread', () => {
  it('writes groups off the serving thread; the serving connection reads them; a repeat is a duplicate', async () => {
    const stores = createSqliteStores(dataDir());
    try {
      await stores.events.ready?.();
      expect(stores.events.offThread).toBe(true);
      const [first] = await stores.events.ingest([batch('b1', 50)], Date.now());
      expect(first).toEqual({ answer: batch('b1', 50).answer, duplicate: false });
      expect(await stores.events.countTracks()).toBe(50);
      const [again, second] = await stores.events.ingest([batch('b1', 50), batch('b2', 7)], Date.now());
      expect(again?.duplicate).toBe(true);
      expect(second?.duplicate).toBe(false);
      expect(await stores.events.countTracks()).toBe(57);
      expect(await stores.events.prune(1_003)).toBe(6);
      expect(stores.events.offThread).toBe(true);
    } finally {
      await stores.close();
    }
  });

  it('takes turns with the serving connection: a serving write waits for the groups in flight, first come first served', async () => {
    const driver = openSqlite(':memory:');
    try {
      await driver.run('CREATE TABLE t (v INTEGER)');
      const order: string[] = [];
      let finishFirst: () => void = () => undefined;
      const first = driver.beside(
        () =>
          new Promise<void>((resolve) => {
            order.push('beside 1 starts');
            finishFirst = () => {
              order.push('beside 1 ends');
              resolve();
            };
          }),
      );
      // Work beside runs together with work beside.
      const second = driver.beside(async () => {
        order.push('beside 2 runs');
      });
      await second;
      // A read does not wait for work beside.
      expect(await driver.all('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 0 }]);
      const write = driver.run('INSERT INTO t (v) VALUES (1)').then(() => order.push('serving write'));
      // Once the write waits for its turn, later work beside waits behind it.
      await new Promise((resolve) => setImmediate(resolve));
      // It runs once the serving write committed: it sees the row.
      const third = driver.beside(async () => {
        const [row] = await driver.all('SELECT COUNT(*) AS n FROM t');
        order.push(`beside 3 runs after ${row?.n} write`);
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(order).toEqual(['beside 1 starts', 'beside 2 runs']);
      finishFirst();
      await Promise.all([first, write, third]);
      expect(order).toContain('beside 3 runs after 1 write');
      expect(order.slice(0, 3)).toEqual(['beside 1 starts', 'beside 2 runs', 'beside 1 ends']);
    } finally {
      await driver.close();
    }
  });

  it('falls back to the serving thread when the writer cannot start, and says why', async () => {
    const driver = openSqlite(dataDir());
    const serving = createSqliteStores(':memory:');
    const fallback = countingFallback(serving.events);
    const errors: string[] = [];
    const store = createThreadedEventsStore({
      driver,
      fallback,
      onError: (error) => errors.push(error.message),
      entry: { filename: "throw new Error('no writer here')", eval: true },
    });
    try {
      await store.ready();
      const [result] = await store.ingest([batch('b1', 3)], Date.now());
      expect(result?.duplicate).toBe(false);
      expect(fallback.calls).toBe(1);
      expect(store.offThread).toBe(false);
      expect(errors).toEqual([expect.stringContaining('no writer here')]);
    } finally {
      await store.close();
      await driver.close();
      await serving.close();
    }
  });

  it('answers a disk fault of the writer as the serving connection would: 503 with a retry hint', async () => {
    const driver = openSqlite(dataDir());
    const serving = createSqliteStores(':memory:');
    const store = createThreadedEventsStore({
      driver,
      fallback: serving.events,
      // A writer whose disk is full: every request is answered with the fault.
      entry: {
        filename: `
          const { parentPort } = require('node:worker_threads');
          parentPort.postMessage({ ready: true });
          parentPort.on('message', (m) => {
            if (m.type === 'close') return parentPort.close();
            parentPort.postMessage({ id: m.id, ok: false, error: { message: 'x', fault: 'SQLITE_FULL: database or disk is full' } });
          });`,
        eval: true,
      },
    });
    try {
      await store.ready();
      const failure = store.ingest([batch('b1', 3)], Date.now());
      await expect(failure).rejects.toBeInstanceOf(DiskFaultError);
      await expect(failure).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringContaining('SQLITE_FULL'),
        details: { retryAfterSeconds: expect.any(Number) },
      });
      // The writer still runs: a fault is not a stopped writer, nothing went to the serving thread.
      expect(store.offThread).toBe(true);
      expect(await serving.events.countTracks()).toBe(0);
    } finally {
      await store.close();
      await driver.close();
      await serving.close();
    }
  });
});
