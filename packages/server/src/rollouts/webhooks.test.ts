import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { MINUTE, setUpRolloutSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';
import { createMemoryStores, createPostgresStores, createSqliteStores, type Stores } from '../stores.ts';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhookBody, WebhookNotifier } from './webhooks.ts';

const SECRET = 'whsec-test-0123456789';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local receiver that answers with the next status of `statuses` (then 200) and records every request. */
async function receiver(
  statuses: number[],
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(statuses.shift() ?? 200);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let t: TestApp | undefined;
let hook: Awaited<ReturnType<typeof receiver>> | undefined;

afterEach(async () => {
  await t?.close();
  await hook?.close();
  t = undefined;
  hook = undefined;
});

describe('rollout webhooks', () => {
  it('signs the body with HMAC-SHA256 and retries after a 500', async () => {
    hook = await receiver([500]);
    const clock = manualClock();
    t = await buildTestApp({
      clock,
      config: { webhooks: { urls: [hook.url], secret: SECRET, backoffMs: 5 } },
    });
    const { flag } = await setUpRolloutSim(t);
    const created = await t.admin('POST', '/api/v1/rollouts', {
      id: 'ro_w',
      flag,
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [{ reach: 5, minDuration: '1h' }, { reach: 100 }],
      guardrails: [{ metric: 'crash_rate' }],
    });
    expect(created.status).toBe(201);
    expect((await t.admin('POST', '/api/v1/rollouts/ro_w/start', {})).status).toBe(200);
    await t.app.dimmer.webhooks.drain();
    // The first try got a 500; the same delivery came again and got a 200.
    expect(hook.received).toHaveLength(2);
    const [first, second] = hook.received as [Received, Received];
    expect(second.body).toBe(first.body);
    expect(second.headers['x-dimmer-delivery']).toBe(first.headers['x-dimmer-delivery']);
    const expected = `sha256=${createHmac('sha256', SECRET).update(first.body).digest('hex')}`;
    expect(first.headers[SIGNATURE_HEADER]).toBe(expected);
    expect(signWebhookBody(first.body, SECRET)).toBe(expected);
    expect(JSON.parse(first.body)).toMatchObject({
      type: 'rollout.action',
      rollout: 'ro_w',
      action: 'start',
      from: { status: 'draft', reach: 0 },
      to: { status: 'running', reach: 5 },
    });
    expect(t.app.dimmer.webhooks.stats).toMatchObject({ delivered: 1, retries: 1, failed: 0 });
  });
});

const schemas: string[] = [];
afterAll(async () => {
  if (TEST_DATABASE_URL !== undefined && TEST_DATABASE_URL !== '')
    await dropSchemas(TEST_DATABASE_URL, schemas);
});

const STORES: { kind: string; skip?: string; open(): Promise<Stores> }[] = [
  { kind: 'memory', open: async () => createMemoryStores() },
  { kind: 'sqlite', open: async () => createSqliteStores(':memory:') },
  {
    kind: 'postgres',
    ...(postgresSkipReason() !== undefined ? { skip: postgresSkipReason() } : {}),
    open: async () => {
      const schema = freshSchemaName();
      schemas.push(schema);
      return createPostgresStores({ connectionString: TEST_DATABASE_URL as string, schema });
    },
  },
];

for (const store of STORES) {
  describe.skipIf(store.skip !== undefined)(
    `the webhook outbox on ${store.kind}${store.skip ? ` (${store.skip})` : ''}`,
    () => {
      it('a receiver that fails twice gets the same delivery three times; the tries are recorded', async () => {
        hook = await receiver([500, 503]);
        t = await buildTestApp({
          stores: await store.open(),
          clock: manualClock(),
          config: { webhooks: { urls: [hook.url], secret: SECRET, backoffMs: 5 } },
        });
        const { flag } = await setUpRolloutSim(t);
        await t.admin('POST', '/api/v1/rollouts', {
          id: 'ro_o',
          flag,
          environment: 'production',
          treatment: 'on',
          control: 'off',
          stages: [{ reach: 5, minDuration: '1h' }, { reach: 100 }],
          guardrails: [{ metric: 'crash_rate' }],
        });
        expect((await t.admin('POST', '/api/v1/rollouts/ro_o/start', {})).status).toBe(200);
        await t.app.dimmer.webhooks.drain();
        expect(hook.received).toHaveLength(3);
        const ids = hook.received.map((r) => r.headers[DELIVERY_HEADER]);
        expect(new Set(ids).size).toBe(1);
        expect(new Set(hook.received.map((r) => r.body)).size).toBe(1);
        expect(JSON.parse((hook.received[0] as Received).body).id).toBe(ids[0]);
        expect(t.app.dimmer.webhooks.stats).toMatchObject({ delivered: 1, retries: 2, failed: 0 });
        expect(await t.stores.webhooks.stats()).toEqual({ pending: 0, oldestCreatedAt: null, givenUp: 0 });
        const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
        expect(metrics.body).toMatch(/dimmer_webhook_deliveries_total\{outcome="retry"\} 2/);
        expect(metrics.body).toMatch(/dimmer_webhook_outbox_pending 0/);
      });

      it('a notice is written with its change and waits for a delivery loop; one that never succeeds is given up', async () => {
        hook = await receiver([500, 500, 500]);
        const stores = await store.open();
        // A node that makes the change but never delivers (no loop, no wake): the row waits in the outbox.
        t = await buildTestApp({
          stores,
          keepStores: true,
          clock: manualClock(),
          config: { webhooks: { urls: [hook.url], pollMs: 0 } },
        });
        const { flag } = await setUpRolloutSim(t);
        await t.admin('POST', '/api/v1/rollouts', {
          id: 'ro_o',
          flag,
          environment: 'production',
          treatment: 'on',
          control: 'off',
          stages: [{ reach: 5, minDuration: '1h' }, { reach: 100 }],
          guardrails: [{ metric: 'crash_rate' }],
        });
        await t.app.dimmer.webhooks.close();
        expect((await t.admin('POST', '/api/v1/rollouts/ro_o/start', {})).status).toBe(200);
        await t.close();
        t = undefined;
        const waiting = await stores.webhooks.stats();
        expect(waiting.pending).toBe(1);
        expect(hook.received).toHaveLength(0);
        // Another node's loop delivers it: three tries, then given up with the last error kept.
        const other = new WebhookNotifier(stores.webhooks, {
          urls: [hook.url],
          backoffMs: 5,
          maxAttempts: 3,
        });
        await other.drain();
        await other.close();
        expect(hook.received).toHaveLength(3);
        expect(new Set(hook.received.map((r) => r.headers[DELIVERY_HEADER])).size).toBe(1);
        expect(JSON.parse((hook.received[0] as Received).body)).toMatchObject({
          type: 'rollout.action',
          action: 'start',
        });
        expect(other.stats).toMatchObject({ delivered: 0, retries: 2, failed: 1 });
        expect(await stores.webhooks.stats()).toEqual({ pending: 0, oldestCreatedAt: null, givenUp: 1 });
        await stores.close();
      });

      it('two loops claiming at once never take the same delivery', async () => {
        const stores = await store.open();
        try {
          const rows = Array.from({ length: 30 }, (_, i) => ({
            deliveryId: `d${i}`,
            url: 'http://127.0.0.1:9/hook',
            type: 'rollout.action',
            body: '{}',
            createdAt: 1_000,
          }));
          await stores.webhooks.enqueue(rows);
          const [first, second] = await Promise.all([
            stores.webhooks.claim(2_000, 60_000, 20),
            stores.webhooks.claim(2_000, 60_000, 20),
          ]);
          const taken = [...(first ?? []), ...(second ?? [])].map((d) => d.deliveryId);
          expect(new Set(taken).size).toBe(taken.length);
          expect(taken.length).toBe(30);
          // Claimed rows are not due again until their claim expires; then another loop may retry them.
          expect(await stores.webhooks.claim(3_000, 60_000, 50)).toHaveLength(0);
          const again = await stores.webhooks.claim(70_000, 60_000, 50);
          expect(again).toHaveLength(30);
          expect(again.every((d) => d.attempts === 2)).toBe(true);
        } finally {
          await stores.close();
        }
      });
    },
  );
}

describe('rollout webhooks, continued', () => {
  it('says once what the controller decided: repeated holds with the same rule send nothing more', async () => {
    hook = await receiver([]);
    const clock = manualClock();
    t = await buildTestApp({ clock, config: { webhooks: { urls: [hook.url], secret: SECRET } } });
    const { flag } = await setUpRolloutSim(t);
    await t.admin('POST', '/api/v1/rollouts', {
      id: 'ro_w',
      flag,
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [{ reach: 5, minDuration: '1h' }, { reach: 100 }],
      guardrails: [{ metric: 'crash_rate' }],
    });
    await t.admin('POST', '/api/v1/rollouts/ro_w/start', {});
    const decisions: Json[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(5 * MINUTE);
      // The tick returns without waiting for any receiver.
      decisions.push(...(await t.app.dimmer.controller.tick()));
    }
    expect(decisions.map((d) => [d.action, d.rule])).toEqual([
      ['hold', 'min_duration'],
      ['hold', 'min_duration'],
      ['hold', 'min_duration'],
    ]);
    await t.admin('POST', '/api/v1/rollouts/ro_w/rollback', {});
    await t.app.dimmer.webhooks.drain();
    const bodies = hook.received.map((r) => JSON.parse(r.body) as Json);
    expect(bodies.map((b) => [b.type, b.action])).toEqual([
      ['rollout.action', 'start'],
      ['rollout.decision', 'hold'],
      ['rollout.action', 'rollback'],
    ]);
    expect(bodies[1]).toMatchObject({ actor: 'controller', rule: 'min_duration', applied: false });
    expect(bodies[1].decision.metrics.crash_rate).toBeDefined();
    // Every decision is stored all the same.
    const stored = (await t.admin('GET', '/api/v1/rollouts/ro_w/decisions')).json.decisions;
    expect(stored).toHaveLength(3);
  });
});
