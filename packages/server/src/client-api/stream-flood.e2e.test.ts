/**
 * The stream flood that once took the server offline, replayed against a real server process at a 1,024
 * open-file limit with the default settings: 2,000 config-stream attempts with one browser key (spread over 20
 * loopback addresses, 100 each, the per-address default) are capped at half the open-file limit; the rest are
 * refused 503 with Retry-After, and /healthz, /readyz, evaluation and the admin API keep answering while the
 * admitted streams stay open. The latency of /healthz meanwhile is a figure of `npm run bench:hardening`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, sleep, startNode, stopNode } from '../../testing/cluster.ts';
import { floodStreams, timedGet } from '../../testing/stream-flood.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../secrets.ts';

const FILE_LIMIT = 1_024;
const ATTEMPTS = 2_000;
const ADDRESSES = 20;

const token = generateSecret(ADMIN_TOKEN_PREFIX);
let dataDir: string;
let node: NodeProcess;

async function createKey(kind: 'browser' | 'server'): Promise<string> {
  const res = await fetch(`${node.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `${kind}-key`, environment: 'production', kind }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dimmer-stream-flood-'));
  node = await startNode(
    'flood',
    { DIMMER_DATA_DIR: dataDir, DIMMER_ADMIN_TOKEN: token },
    { fileLimit: FILE_LIMIT },
  );
}, 90_000);
afterAll(async () => {
  if (node !== undefined) await stopNode(node);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('config streams at a 1,024 open-file limit', () => {
  it('caps 2,000 streams of one key and keeps /healthz, evaluation and the admin API answering', async () => {
    const browserKey = await createKey('browser');
    const serverKey = await createKey('server');
    const flood = await floodStreams({
      baseUrl: node.url,
      key: browserKey,
      attempts: ATTEMPTS,
      addresses: ADDRESSES,
    });
    try {
      // The default overall cap is half the open-file limit.
      const cap = FILE_LIMIT / 2;
      expect(flood.failed).toBe(0);
      expect(Object.fromEntries(flood.statuses)).toEqual({ 200: cap, 503: ATTEMPTS - cap });
      expect(flood.refusedWithoutRetryAfter).toBe(0);
      expect(flood.open()).toBe(cap);

      for (let i = 0; i < 20; i++) expect((await timedGet(node.url, '/healthz')).status).toBe(200);
      expect((await timedGet(node.url, '/readyz')).status).toBe(200);
      const evaluated = await fetch(`${node.url}/ofrep/v1/evaluate/flags`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ context: { targetingKey: 'u1' } }),
      });
      expect(evaluated.status).toBe(200);
      const flags = await fetch(`${node.url}/api/v1/flags`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(flags.status).toBe(200);
      // Another key's stream meets the overall cap too.
      const another = await fetch(`${node.url}/sdk/v1/stream`, {
        headers: { authorization: `Bearer ${serverKey}` },
      });
      expect(another.status).toBe(503);
      expect(another.headers.get('retry-after')).not.toBeNull();
      await another.arrayBuffer();
      expect(node.alive()).toBe(true);
    } finally {
      flood.close();
    }
    // Once the streams are closed, a new one is admitted again.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const retry = await floodStreams({ baseUrl: node.url, key: browserKey, attempts: 1, addresses: 1 });
      status = retry.statuses.has(200) ? 200 : 0;
      retry.close();
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
  }, 120_000);
});
