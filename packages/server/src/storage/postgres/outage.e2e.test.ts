/**
 * A PostgreSQL outage under load, on a private cluster this suite starts on its own port (never the shared
 * server): two Dimmer nodes keep running while the database is stopped for 20 s; SDK evaluations keep answering
 * 200 from memory, events are refused with 503 and Retry-After (never acknowledged without being stored), admin
 * writes fail with 503 UNAVAILABLE and /readyz reports not ready; after the restart every refused batch is
 * accepted on retry, nothing acknowledged is lost, and a flag change reaches both nodes' clients within 2 s.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  followStream,
  type NodeProcess,
  type PrivateCluster,
  privateClusterSkipReason,
  sleep,
  startNode,
  startPrivateCluster,
  stopNode,
} from '../../../testing/cluster.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../../secrets.ts';

const skipReason = privateClusterSkipReason();
const OUTAGE_MS = 20_000;
/** How fast a change made after the restart must reach every node's clients. */
const PROPAGATION_BOUND_MS = 2_000;
const TRACKS_PER_BATCH = 3;
const LOAD_PAUSE_MS = 25;

if (skipReason !== undefined) {
  console.warn(`PostgreSQL outage suite skipped: ${skipReason}`);
  describe.skip(`PostgreSQL outage (${skipReason})`, () => {
    it('needs the PostgreSQL 15 server binaries and root', () => undefined);
  });
} else {
  const token = generateSecret(ADMIN_TOKEN_PREFIX);
  let cluster: PrivateCluster | undefined;
  let nodes: NodeProcess[] = [];
  let clientKey = '';

  const admin = (node: NodeProcess, method: string, path: string, body?: unknown) =>
    fetch(node.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const sdk = (node: NodeProcess, path: string, init: RequestInit = {}) =>
    fetch(node.url + path, {
      ...init,
      headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
    });
  const flag = (variant: 'on' | 'off') => ({
    key: 'banner',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: variant,
    environments: { production: { enabled: true, rules: [] } },
  });

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    const env = {
      DIMMER_DATABASE_URL: cluster.url,
      DIMMER_ADMIN_TOKEN: token,
      DIMMER_DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DIMMER_CONFIG_POLL_MS: '1000',
      DIMMER_DATABASE_POOL_SIZE: '4',
    };
    const first = await startNode('A', env);
    nodes = [first, await startNode('B', env)];
    expect((await admin(first, 'POST', '/api/v1/flags', flag('on'))).status).toBe(201);
    const key = await admin(first, 'POST', '/api/v1/keys', {
      name: 'sdk',
      environment: 'production',
      kind: 'server',
    });
    clientKey = ((await key.json()) as { secret: string }).secret;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)));
    cluster?.remove();
  }, 60_000);

  describe('PostgreSQL outage', () => {
    it('keeps nodes up and the SDK surface answering, refuses events cleanly, and catches up after restart', async () => {
      const [a, b] = nodes as [NodeProcess, NodeProcess];
      const live = cluster as PrivateCluster;
      const versions = new Map<string, number>();
      const streams = nodes.map((node) =>
        followStream(`${node.url}/sdk/v1/stream`, clientKey, (frame) =>
          versions.set(node.name, frame.version),
        ),
      );
      const statuses = { config: new Map<number, number>(), ofrep: new Map<number, number>() };
      const acked = new Set<string>();
      const refused = new Map<string, object>();
      const other: string[] = [];
      let missingRetryAfter = 0;
      let running = true;
      let sequence = 0;
      const count = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1);
      const load = (async () => {
        while (running) {
          for (const node of nodes) {
            count(statuses.config, (await sdk(node, '/sdk/v1/config')).status);
            const ofrep = await sdk(node, '/ofrep/v1/evaluate/flags/banner', {
              method: 'POST',
              body: JSON.stringify({ context: { targetingKey: `u${sequence}` } }),
            });
            count(statuses.ofrep, ofrep.status);
            const batchId = `batch-${sequence++}`;
            const body = {
              batchId,
              events: Array.from({ length: TRACKS_PER_BATCH }, (_, k) => ({
                type: 'track',
                name: 'click',
                unit: `${batchId}-${k}`,
                timestamp: new Date().toISOString(),
              })),
            };
            const res = await sdk(node, '/v1/events', { method: 'POST', body: JSON.stringify(body) });
            if (res.status === 202) acked.add(batchId);
            else if (res.status === 503) {
              refused.set(batchId, body);
              if (res.headers.get('retry-after') === null) missingRetryAfter++;
            } else other.push(`${res.status} ${await res.text()}`);
          }
          await sleep(LOAD_PAUSE_MS);
        }
      })();
      try {
        await sleep(1_000);
        live.stop();
        const stoppedAt = Date.now();
        await sleep(2_000);
        const write = await admin(a, 'POST', '/api/v1/flags', { ...flag('on'), key: 'during-outage' });
        expect(write.status).toBe(503);
        expect(((await write.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
        expect(write.headers.get('retry-after')).not.toBeNull();
        for (const node of nodes) expect((await fetch(`${node.url}/readyz`)).status).toBe(503);
        await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
        live.start();
        const readyBy = Date.now() + 20_000;
        for (const node of nodes)
          while ((await fetch(`${node.url}/readyz`)).status !== 200 && Date.now() < readyBy) await sleep(100);
        for (const node of nodes) expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
      } finally {
        running = false;
        await load;
      }
      expect(nodes.every((n) => n.alive())).toBe(true);
      expect([...statuses.config.keys()]).toEqual([200]);
      expect([...statuses.ofrep.keys()]).toEqual([200]);
      expect(other).toEqual([]);
      expect(refused.size).toBeGreaterThan(0);
      expect(missingRetryAfter).toBe(0);

      // Every refused batch is accepted on retry; nothing acknowledged was lost or counted twice.
      for (const body of refused.values())
        expect((await sdk(b, '/v1/events', { method: 'POST', body: JSON.stringify(body) })).status).toBe(202);
      const db = new pg.Client({ connectionString: live.url });
      await db.connect();
      try {
        const { rows } = await db.query("SELECT COUNT(*) AS n FROM track_events WHERE name = 'click'");
        expect(Number(rows[0].n)).toBe((acked.size + refused.size) * TRACKS_PER_BATCH);
      } finally {
        await db.end();
      }

      // The first change after the restart reaches both nodes' clients within the bound.
      try {
        const target = Math.max(...[...versions.values()]) + 1;
        const since = Date.now();
        const changed = await admin(a, 'PUT', '/api/v1/flags/banner', flag('off'));
        expect(changed.status, await changed.clone().text()).toBe(200);
        while (nodes.some((n) => (versions.get(n.name) ?? 0) < target) && Date.now() - since < 10_000)
          await sleep(20);
        const took = Date.now() - since;
        expect(nodes.map((n) => versions.get(n.name))).toEqual([target, target]);
        expect(took).toBeLessThanOrEqual(PROPAGATION_BOUND_MS);
      } finally {
        for (const s of streams) s.close();
      }
    }, 90_000);
  });
}
