import { describe, expect, it } from 'vitest';
import { EventPipeline } from './events.service.ts';
import type { EventsStore, IngestBatch, IngestResult } from './events.store.ts';

function batch(batchId: string, tracks = 1): IngestBatch {
  return {
    environment: 'production',
    batchId,
    answer: { batchId, accepted: tracks, rejected: [] },
    exposures: [],
    tracks: Array.from({ length: tracks }, (_, i) => ({ unit: `u${i}`, name: 'click', ts: 1, value: null })),
  };
}

/** A store whose transactions stay open until the test commits them; it remembers each transaction's batches. */
function heldStore() {
  const transactions: string[][] = [];
  const open: (() => void)[] = [];
  const seen = new Set<string>();
  const store: EventsStore = {
    ingest(batches) {
      transactions.push(batches.map((b) => b.batchId));
      return new Promise<IngestResult[]>((resolve) => {
        open.push(() =>
          resolve(
            batches.map((b) => {
              const duplicate = seen.has(b.batchId);
              seen.add(b.batchId);
              return { answer: b.answer, duplicate };
            }),
          ),
        );
      });
    },
    prune: async () => 0,
    countTracks: async () => 0,
  };
  const commit = async () => {
    const next = open.shift();
    next?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { store, transactions, commit, open };
}

/** A store whose transactions take `msPerEvent` per event on the returned monotonic clock (`elapsed`). */
function timedStore(msPerEvent: number) {
  let now = 0;
  const transactions: string[][] = [];
  const store: EventsStore = {
    async ingest(batches) {
      transactions.push(batches.map((b) => b.batchId));
      now += msPerEvent * batches.reduce((n, b) => n + b.tracks.length, 0);
      return batches.map((b) => ({ answer: b.answer, duplicate: false }));
    },
    prune: async () => 0,
    countTracks: async () => 0,
  };
  return { store, transactions, elapsed: () => now };
}

describe('event pipeline group commit', () => {
  it('writes the batches of one event-loop turn in one transaction and acknowledges each after it', async () => {
    const held = heldStore();
    const pipeline = new EventPipeline({ store: held.store, clock: { now: () => 1 } });
    let acknowledged = 0;
    const submitted = ['a', 'b', 'c'].map((id) => pipeline.submit(batch(id)).then(() => acknowledged++));
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.transactions).toEqual([['a', 'b', 'c']]);
    expect(acknowledged).toBe(0);
    await held.commit();
    await Promise.all(submitted);
    expect(acknowledged).toBe(3);
    expect(pipeline.stats).toMatchObject({ transactions: 1, committedBatches: 3, committedEvents: 3 });
  });

  it('groups the batches that queue while a transaction runs into the next one', async () => {
    const held = heldStore();
    const pipeline = new EventPipeline({ store: held.store, clock: { now: () => 1 } });
    const first = pipeline.submit(batch('a'));
    await new Promise((resolve) => setImmediate(resolve));
    const queued = [pipeline.submit(batch('b')), pipeline.submit(batch('c')), pipeline.submit(batch('b'))];
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.transactions).toEqual([['a']]);
    await held.commit();
    await first;
    // Between transactions the writer lets the requests already received be read (one event-loop turn).
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.transactions).toEqual([['a'], ['b', 'c']]);
    await held.commit();
    const results = await Promise.all(queued);
    // The same batch id twice in one group is written once; the repeat is answered as a duplicate.
    expect(results.map((r) => r.duplicate)).toEqual([false, false, true]);
    expect(pipeline.stats).toMatchObject({ transactions: 2, committedBatches: 3, duplicateBatches: 1 });
    await pipeline.drain();
    expect(pipeline.pending).toEqual({ events: 0, batches: 0 });
  });

  it('refuses a batch at once when the queue is full, before anything is written', async () => {
    const held = heldStore();
    const pipeline = new EventPipeline({
      store: held.store,
      clock: { now: () => 1 },
      limits: { maxPendingBatches: 2 },
    });
    const accepted = [pipeline.submit(batch('a')), pipeline.submit(batch('b'))];
    await expect(pipeline.submit(batch('c'))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.transactions).toEqual([['a', 'b']]);
    await held.commit();
    await Promise.all(accepted);
    expect(pipeline.stats.refusedBatches).toBe(1);
  });

  it('bounds a group by the recent cost per event so a transaction aims at its target duration', async () => {
    // Each event costs 0.02 ms: a target of 4 ms fits 200 events.
    const { store, transactions, elapsed } = timedStore(0.02);
    const pipeline = new EventPipeline({
      store,
      clock: { now: () => 1 },
      limits: { targetTransactionMs: 4 },
      elapsed,
    });
    const durations: number[] = [];
    pipeline.onTransaction((t) => durations.push(t.ms));
    // Before any measurement the pipeline assumes 0.01 ms per event (400 events); then it knows 0.02.
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => pipeline.submit(batch(id, 100))));
    expect(transactions).toEqual([
      ['a', 'b', 'c', 'd'],
      ['e', 'f'],
    ]);
    expect(durations).toEqual([8, 4]);
    expect(pipeline.groupEventLimit()).toBe(200);
    // A batch larger than the target still goes whole, alone: batches are never split.
    await Promise.all([pipeline.submit(batch('big', 500)), pipeline.submit(batch('g', 100))]);
    expect(transactions.slice(2)).toEqual([['big'], ['g']]);
    expect(pipeline.stats.longestTransactionMs).toBe(10);
  });

  it('groups up to maxGroupEvents without a target duration', async () => {
    const { store, transactions, elapsed } = timedStore(0.02);
    const pipeline = new EventPipeline({
      store,
      clock: { now: () => 1 },
      limits: { targetTransactionMs: null, maxGroupEvents: 500 },
      elapsed,
    });
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => pipeline.submit(batch(id, 100))));
    expect(transactions).toEqual([['a', 'b', 'c', 'd', 'e'], ['f']]);
  });
});

describe('event pipeline with groups in flight (a store writing on another thread)', () => {
  it('sends the next group while the first is written, and never more than maxInFlight', async () => {
    const held = heldStore();
    const pipeline = new EventPipeline({
      store: held.store,
      clock: { now: () => 1 },
      limits: { maxInFlight: 2 },
    });
    const first = pipeline.submit(batch('a'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [pipeline.submit(batch('b')), pipeline.submit(batch('c'))];
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // 'b' and 'c' went as the second group while 'a' was still being written.
    expect(held.transactions).toEqual([['a'], ['b', 'c']]);
    const third = pipeline.submit(batch('d'));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.transactions).toHaveLength(2);
    await held.commit();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.transactions).toEqual([['a'], ['b', 'c'], ['d']]);
    await held.commit();
    await held.commit();
    await Promise.all([...second, third]);
    await pipeline.drain();
    expect(pipeline.stats).toMatchObject({ transactions: 3, committedBatches: 4 });
    expect(pipeline.pending).toEqual({ events: 0, batches: 0 });
  });

  it('times a group sent while another was written from the moment that one committed', async () => {
    let now = 0;
    const held = heldStore();
    const pipeline = new EventPipeline({
      store: held.store,
      clock: { now: () => 1 },
      limits: { maxInFlight: 2 },
      elapsed: () => now,
    });
    const durations: number[] = [];
    pipeline.onTransaction((t) => durations.push(t.ms));
    const a = pipeline.submit(batch('a'));
    await new Promise((resolve) => setImmediate(resolve));
    const b = pipeline.submit(batch('b'));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    now = 5;
    await held.commit();
    await a;
    now = 8;
    await held.commit();
    await b;
    expect(durations).toEqual([5, 3]);
  });
});
