import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE, setUpRolloutSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';
import {
  createTwoStageRollout,
  describeWebhookOutbox,
  type Received,
  webhookReceiver as receiver,
  WEBHOOK_SECRET as SECRET,
} from '../../testing/webhooks.ts';
import { createMemoryStores, createSqliteStores } from '../stores.ts';
import { SIGNATURE_HEADER, signWebhookBody } from './webhooks.ts';

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
    const created = await createTwoStageRollout(t, 'ro_w', flag);
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

describeWebhookOutbox('memory', async () => createMemoryStores());
describeWebhookOutbox('sqlite', async () => createSqliteStores(':memory:'));

describe('rollout webhooks, continued', () => {
  it('says once what the controller decided: repeated holds with the same rule send nothing more', async () => {
    hook = await receiver([]);
    const clock = manualClock();
    t = await buildTestApp({ clock, config: { webhooks: { urls: [hook.url], secret: SECRET } } });
    const { flag } = await setUpRolloutSim(t);
    await createTwoStageRollout(t, 'ro_w', flag);
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
