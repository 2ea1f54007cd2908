import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, setUpRolloutSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';
import { SIGNATURE_HEADER, signWebhookBody } from './webhooks.ts';

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
    // Every look is stored all the same: the repeated holds as one entry of the log with its count.
    const stored = (await t.admin('GET', '/api/v1/rollouts/ro_w/decisions')).json.decisions;
    expect(stored).toHaveLength(1);
    expect(stored[0].count).toBe(3);
  });
});
