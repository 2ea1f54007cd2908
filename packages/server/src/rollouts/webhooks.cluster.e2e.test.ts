/**
 * Two Dimmer processes on one PostgreSQL database with the same webhook receiver: the node that makes a change
 * is SIGKILLed after the change committed and before its delivery was answered, and the other node delivers the
 * webhook, with the same delivery id, once the dead node's claim expires.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_METRICS } from '../../testing/analysis-harness.ts';
import { createTestDatabase, type NodeProcess, sleep, startNode, stopNode } from '../../testing/cluster.ts';
import { postgresSkipReason, TEST_DATABASE_URL } from '../../testing/pg-test-schema.ts';
import { type WebhookReceiver, webhookReceiver } from '../../testing/webhooks.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../secrets.ts';
import { DELIVERY_HEADER } from './webhooks.ts';

const skipReason = postgresSkipReason();
/** The receiver timeout of the nodes: a claim expires 2 s after it. */
const WEBHOOK_TIMEOUT_MS = 2_000;

if (skipReason !== undefined) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${skipReason}`);
  describe.skip(`webhooks across nodes (${skipReason})`, () => {
    it('needs DIMMER_TEST_DATABASE_URL', () => undefined);
  });
} else {
  const token = generateSecret(ADMIN_TOKEN_PREFIX);
  let database: { url: string; drop(): Promise<void> };
  let nodes: NodeProcess[] = [];
  let hook: WebhookReceiver;
  let db: pg.Client;

  const admin = (node: NodeProcess, method: string, path: string, body?: unknown) =>
    fetch(node.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    hook = await webhookReceiver([]);
    database = await createTestDatabase(TEST_DATABASE_URL as string);
    const env = {
      DIMMER_DATABASE_URL: database.url,
      DIMMER_ADMIN_TOKEN: token,
      DIMMER_CONTROLLER_INTERVAL_MS: '0',
      DIMMER_DATABASE_POOL_SIZE: '3',
      DIMMER_WEBHOOK_URLS: hook.url,
      DIMMER_WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS),
    };
    const a = await startNode('A', env);
    nodes = [a, await startNode('B', env)];
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  }, 90_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)));
    await db?.end().catch(() => undefined);
    await hook?.close();
    await database?.drop();
  }, 60_000);

  describe('webhooks across nodes', () => {
    it('a node killed after its change committed, before its delivery was answered: another node delivers it', async () => {
      const [a, b] = nodes as [NodeProcess, NodeProcess];
      expect((await admin(a, 'POST', '/api/v1/metrics', SAMPLE_METRICS[0])).status).toBe(201);
      expect(
        (
          await admin(a, 'POST', '/api/v1/flags', {
            key: 'checkout',
            kind: 'boolean',
            variants: { off: false, on: true },
            defaultVariant: 'off',
            environments: { production: { enabled: true, rules: [] } },
          })
        ).status,
      ).toBe(201);
      const created = await admin(a, 'POST', '/api/v1/rollouts', {
        id: 'ro_hook',
        flag: 'checkout',
        environment: 'production',
        treatment: 'on',
        control: 'off',
        stages: [{ reach: 5, minDuration: '1h' }, { reach: 100 }],
        guardrails: [{ metric: 'crash_rate' }],
      });
      expect(created.status).toBe(201);

      // The receiver hangs: the deciding node's delivery is claimed and sent, but never answered.
      hook.hold = true;
      expect((await admin(a, 'POST', '/api/v1/rollouts/ro_hook/start', {})).status).toBe(200);
      const sentBy = Date.now() + 10_000;
      while (hook.received.length === 0 && Date.now() < sentBy) await sleep(10);
      expect(hook.received.length).toBe(1);
      const id = hook.received[0]?.headers[DELIVERY_HEADER];
      a.kill('SIGKILL');
      await a.exited;
      hook.hold = false;

      // The claim expires (timeout + 2 s) and B's loop (every second) delivers the same notice.
      const deliveredBy = Date.now() + 20_000;
      let row: { delivered_at: string | null; attempts: number } | undefined;
      while (Date.now() < deliveredBy) {
        row = (
          await db.query('SELECT delivered_at, attempts FROM webhook_outbox WHERE delivery_id = $1', [id])
        ).rows[0];
        if (row?.delivered_at !== null && row?.delivered_at !== undefined) break;
        await sleep(100);
      }
      expect(row?.delivered_at).not.toBeNull();
      expect(row?.attempts).toBeGreaterThanOrEqual(2);
      expect(hook.received.length).toBeGreaterThanOrEqual(2);
      expect(new Set(hook.received.map((r) => r.headers[DELIVERY_HEADER]))).toEqual(new Set([id]));
      expect(JSON.parse(hook.received.at(-1)?.body ?? '{}')).toMatchObject({
        id,
        type: 'rollout.action',
        action: 'start',
        rollout: 'ro_hook',
      });
      expect(b.alive()).toBe(true);
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      expect(metrics).toMatch(/dimmer_webhook_outbox_pending 0/);
    }, 90_000);
  });
}
