/**
 * Test support for webhooks: a local receiver, and the webhook outbox suite every store runs (memory and SQLite
 * in the unit project, PostgreSQL in the integration one).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DELIVERY_HEADER, WebhookNotifier } from '../src/rollouts/webhooks.ts';
import type { Stores } from '../src/stores.ts';
import { setUpRolloutSim } from './rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from './test-app.ts';

export const WEBHOOK_SECRET = 'whsec-test-0123456789';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** While true, requests are recorded and left unanswered (a receiver or a network that hangs). */
  hold: boolean;
  close(): Promise<void>;
}

/** A local receiver that answers with the next status of `statuses` (then 200) and records every request. */
export async function webhookReceiver(statuses: number[]): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const held = new Set<IncomingMessage>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (receiver.hold) {
        held.add(request);
        return;
      }
      response.writeHead(statuses.shift() ?? 200);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    hold: false,
    close: () =>
      new Promise<void>((resolve) => {
        for (const request of held) request.socket.destroy();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** Creates a draft rollout of `flag` in production: 5% for an hour, then 100%, guarded by crash_rate. */
export function createTwoStageRollout(
  t: TestApp,
  id: string,
  flag: string,
): Promise<{ status: number; json: Json }> {
  return t.admin('POST', '/api/v1/rollouts', {
    id,
    flag,
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: [{ reach: 5, minDuration: '1h' }, { reach: 100 }],
    guardrails: [{ metric: 'crash_rate' }],
  });
}

/** The outbox suite over fresh stores of one kind. */
export function describeWebhookOutbox(kind: string, open: () => Promise<Stores>): void {
  const store = { open };
  const receiver = webhookReceiver;
  const SECRET = WEBHOOK_SECRET;
  let t: TestApp | undefined;
  let hook: WebhookReceiver | undefined;
  afterEach(async () => {
    await t?.close();
    await hook?.close();
    t = undefined;
    hook = undefined;
  });

  describe(`the webhook outbox on ${kind}`, () => {
    it('a receiver that fails twice gets the same delivery three times; the tries are recorded', async () => {
      hook = await receiver([500, 503]);
      t = await buildTestApp({
        stores: await store.open(),
        clock: manualClock(),
        config: { webhooks: { urls: [hook.url], secret: SECRET, backoffMs: 5 } },
      });
      const { flag } = await setUpRolloutSim(t);
      await createTwoStageRollout(t, 'ro_o', flag);
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
      await createTwoStageRollout(t, 'ro_o', flag);
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
  });
}
