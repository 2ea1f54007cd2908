/**
 * The events flood over real sockets on 127.0.0.1. While the admission bound is taken (by batches whose bodies
 * are still arriving), a flood of 450 batches is answered 429 with Retry-After before any body is read; the
 * batches in flight are then acknowledged, a second flood is admitted as slots free up, and every acknowledged
 * batch is stored exactly once.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../server.ts';

const BATCHES = 450;
const TRACKS_PER_BATCH = 20;
const MAX_IN_FLIGHT = 16;

let server: TestServer;
let port: number;
let secret: string;

beforeAll(async () => {
  server = await createTestServer({
    storage: 'sqlite',
    config: { eventsMaxInFlight: MAX_IN_FLIGHT, pruneIntervalMs: 0 },
  });
  port = Number(new URL(server.url).port);
  const res = await server.adminFetch('/api/v1/keys', {
    method: 'POST',
    body: JSON.stringify({ name: 'site', environment: 'production', kind: 'browser' }),
  });
  secret = ((await res.json()) as { secret: string }).secret;
}, 60_000);
afterAll(async () => {
  await server.close();
});

function batch(id: string): string {
  const ts = Date.now() - 60_000;
  return JSON.stringify({
    batchId: id,
    events: Array.from({ length: TRACKS_PER_BATCH }, (_, k) => ({
      type: 'track',
      name: 'click',
      unit: `${id}-u${k}`,
      timestamp: ts + k,
    })),
  });
}

/**
 * Posts one batch on a connection of its own: it is accepted after the connections opened before it (the held
 * batches), never read first on a pooled keep-alive connection while those still wait to be accepted.
 */
function post(id: string): Promise<{ status: number; retryAfter: string | null; duplicate?: boolean }> {
  const body = batch(id);
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/v1/events`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const header = res.headers['retry-after'];
          resolve({
            status,
            retryAfter: typeof header === 'string' ? header : null,
            ...(status === 202
              ? { duplicate: (JSON.parse(text) as { duplicate?: boolean }).duplicate === true }
              : {}),
          });
        });
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * Starts a batch whose body stops halfway; `finish()` sends the rest and resolves with the status line;
 * `answered()` is true when the server already answered it (refused before its body, when a probe held a slot).
 */
async function startSlowBatch(id: string): Promise<{ finish(): Promise<string>; answered(): boolean }> {
  const body = Buffer.from(batch(id));
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString();
  });
  socket.write(
    `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(body.subarray(0, 10));
  return {
    answered: () => received !== '',
    finish: () =>
      new Promise((resolve) => {
        socket.once('close', () => resolve(received.split('\r\n')[0] ?? ''));
        // Not a half-close: Node's HTTP server ends a connection whose client ended before the reply was ready.
        socket.write(body.subarray(10));
      }),
  };
}

const storedTracks = () => server.app.dimmer.stores.events.countTracks();

describe('POST /v1/events under a flood', () => {
  it('answers 429 past the admission bound and stores every acknowledged batch exactly once', async () => {
    let held = await Promise.all(
      Array.from({ length: MAX_IN_FLIGHT }, (_, i) => startSlowBatch(`held-${i}`)),
    );
    // Wait until the held batches are admitted: then the bound is taken. A held batch that arrived while a
    // probe held a slot was refused at once; it is replaced and the bound probed again.
    for (let round = 0; ; round++) {
      for (let i = 0; i < 100 && (await post(`probe-${round}-${i}`)).status !== 429; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const refusedHeld = held.filter((h) => h.answered()).length;
      if (refusedHeld === 0) break;
      expect(round, 'held batches keep being refused').toBeLessThan(5);
      held = [
        ...held.filter((h) => !h.answered()),
        ...(await Promise.all(
          Array.from({ length: refusedHeld }, (_, k) => startSlowBatch(`held-${round}-${k}`)),
        )),
      ];
    }

    const first = await Promise.all(Array.from({ length: BATCHES }, (_, i) => post(`flood-${i}`)));
    for (const result of first) {
      expect(result.status).toBe(429);
      expect(result.retryAfter).toBe('1');
    }
    const probesStored = await storedTracks();
    for (const slow of held) expect(await slow.finish()).toBe('HTTP/1.1 202 Accepted');
    expect(await storedTracks()).toBe(probesStored + MAX_IN_FLIGHT * TRACKS_PER_BATCH);

    // A second flood: admitted as slots free up, refused past the bound; nothing is half-written.
    const second = await Promise.all(Array.from({ length: BATCHES }, (_, i) => post(`flood-${i}`)));
    const acked = second.flatMap((r, i) => (r.status === 202 ? [i] : []));
    const refused = second.flatMap((r, i) => (r.status === 429 ? [i] : []));
    expect(acked.length + refused.length).toBe(BATCHES);
    const base = probesStored + MAX_IN_FLIGHT * TRACKS_PER_BATCH;
    expect(await storedTracks()).toBe(base + acked.length * TRACKS_PER_BATCH);

    // Acknowledged batches sent again are duplicates; refused ones sent again are stored once.
    for (const i of acked) expect((await post(`flood-${i}`)).duplicate).toBe(true);
    for (const i of refused) expect((await post(`flood-${i}`)).status).toBe(202);
    expect(await storedTracks()).toBe(base + BATCHES * TRACKS_PER_BATCH);
  }, 120_000);
});
