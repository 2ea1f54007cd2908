/**
 * What client keys may write: browser-key events count only for client-reportable metrics and only for units
 * the server recorded an exposure for; metric floors and caps clamp both sides; per-key event quotas.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sendBatch, setUpAnalysis, startRollout, unitInReach } from '../../testing/analysis-harness.ts';
import { buildTestApp, type Json, manualClock, TEST_T0, type TestApp } from '../../testing/test-app.ts';

const NOW = TEST_T0 + 10 * 24 * 3_600_000;
const MINUTE = 60_000;
const ORIGIN = 'https://shop.example';
let t: TestApp;

afterEach(async () => {
  await t?.close();
});

const CLICKS = {
  key: 'clicks',
  kind: 'mean',
  event: 'click',
  aggregate: 'count',
  direction: 'lower_is_worse',
  margin: 0.05,
  window: 'until_now',
  category: 'experience',
};
const WEB_CLICKS = { ...CLICKS, key: 'web_clicks', clientReportable: true };
const NET = {
  key: 'net',
  kind: 'mean',
  event: 'payment',
  aggregate: 'sum',
  direction: 'lower_is_worse',
  margin: 0.05,
  window: 'until_now',
  category: 'business',
  floor: -10,
  cap: 100,
};

async function setUp(metrics: Record<string, unknown>[], config: Record<string, unknown> = {}) {
  t = await buildTestApp({ clock: manualClock(NOW), config: { pruneIntervalMs: 0, ...config } });
  return setUpAnalysis(t.app, t.adminToken, metrics);
}

async function createKey(body: Record<string, unknown>): Promise<Json> {
  const r = await t.admin('POST', '/api/v1/keys', { name: 'k', environment: 'production', ...body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

function track(unit: string, name: string, ts: number, value?: number) {
  return { type: 'track', name, unit, timestamp: ts, ...(value !== undefined ? { value } : {}) };
}

async function evidence(id: string): Promise<Json> {
  return (await t.admin('GET', `/api/v1/rollouts/${id}/evidence`)).json;
}

function total(report: Json, metric: string): number {
  return report.evidence.metrics[metric].cohorts.reduce(
    (sum: number, c: Json) => sum + c.treatment.sumY + c.control.sumY,
    0,
  );
}

describe('browser-key events', () => {
  it('count only for client-reportable metrics and only for units the server recorded an exposure for', async () => {
    await setUp([CLICKS, WEB_CLICKS]);
    const id = await startRollout(t.app, ['clicks', 'web_clicks'], 50);
    const web = (await createKey({ kind: 'browser', allowedOrigins: [ORIGIN] })).secret as string;
    for (let i = 0; i < 20; i++) {
      const reply = await t.app.inject({
        method: 'POST',
        url: '/sdk/v1/resolve',
        headers: { authorization: `Bearer ${web}`, origin: ORIGIN },
        payload: { context: { targetingKey: `user-${i}` } },
      });
      expect(reply.statusCode).toBe(200);
    }
    await expect
      .poll(async () => {
        const units = (await evidence(id)).evidence.units;
        return units.treatment + units.control;
      })
      .toBe(20);
    t.clock.set(NOW + MINUTE);
    const events = [
      ...Array.from({ length: 20 }, (_, i) => track(`user-${i}`, 'click', NOW + MINUTE)),
      ...Array.from({ length: 20 }, (_, i) => track(`stranger-${i}`, 'click', NOW + MINUTE)),
    ];
    const reply = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${web}`, origin: ORIGIN, 'content-type': 'application/json' },
      payload: JSON.stringify({ batchId: 'web-1', events }),
    });
    expect(reply.statusCode).toBe(202);
    const report = await evidence(id);
    expect(total(report, 'web_clicks')).toBe(20);
    expect(total(report, 'clicks')).toBe(0);
  });
});

describe('metric floor and cap', () => {
  it('clamp a unit value on both sides', async () => {
    const { clientKey } = await setUp([NET]);
    const id = await startRollout(t.app, ['net'], 50);
    const rich = unitInReach('rich', 0, 50);
    const refunded = unitInReach('refunded', 0, 50);
    const reply = await sendBatch(t.app, clientKey, {
      batchId: 'b1',
      events: [
        { type: 'exposure', flag: 'new-checkout', variant: 'on', unit: rich, timestamp: NOW - MINUTE },
        { type: 'exposure', flag: 'new-checkout', variant: 'on', unit: refunded, timestamp: NOW - MINUTE },
        track(rich, 'payment', NOW, 1e12),
        track(refunded, 'payment', NOW, -1e12),
        track(refunded, 'payment', NOW, -5e11),
      ],
    });
    expect(reply.json.rejected).toEqual([]);
    const stats = (await evidence(id)).evidence.metrics.net.cohorts[0].treatment;
    expect(stats).toMatchObject({ n: 2, sumY: 90, sumY2: 10_100 });
  });

  it('are validated and kept with clientReportable', async () => {
    await setUp([]);
    const bad = async (body: Record<string, unknown>) => {
      const r = await t.admin('POST', '/api/v1/metrics', { ...NET, key: 'x', ...body });
      expect(r.status).toBe(400);
      return r.json.error.details.issues.map((i: Json) => i.path);
    };
    expect(await bad({ floor: 100 })).toContain('floor');
    expect(await bad({ floor: -2e12 })).toContain('floor');
    expect(await bad({ clientReportable: 'yes' })).toContain('clientReportable');
    expect(await bad({ kind: 'proportion', aggregate: undefined, cap: undefined, floor: 0 })).toContain(
      'floor',
    );
    const created = await t.admin('POST', '/api/v1/metrics', { ...NET, clientReportable: true });
    expect(created.status).toBe(201);
    const read = (await t.admin('GET', '/api/v1/metrics/net')).json;
    expect(read).toMatchObject({ floor: -10, cap: 100, clientReportable: true });
  });
});

describe('per-key event quotas', () => {
  it('answer 429 with Retry-After past the key quota and write nothing of the refused batch', async () => {
    await setUp([CLICKS], { eventsPerMinutePerKey: 1_000 });
    const limited = await createKey({ kind: 'server', eventsPerMinute: 5 });
    expect(limited.key.eventsPerMinute).toBe(5);
    const key = limited.secret as string;
    const batch = (id: string, n: number) => ({
      batchId: id,
      events: Array.from({ length: n }, (_, i) => track(`u${i}`, 'click', NOW)),
    });
    expect((await sendBatch(t.app, key, batch('a', 4))).status).toBe(202);
    const refused = await sendBatch(t.app, key, batch('b', 2));
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await t.stores.events.countTracks()).toBe(4);
    t.clock.set(NOW + MINUTE);
    expect((await sendBatch(t.app, key, batch('b', 2))).status).toBe(202);
    expect(await t.stores.events.countTracks()).toBe(6);
  });

  it('apply the server default to keys without their own', async () => {
    await setUp([CLICKS], { eventsPerMinutePerKey: 3 });
    const key = (await createKey({ kind: 'server' })).secret as string;
    const reply = await sendBatch(t.app, key, {
      batchId: 'big',
      events: Array.from({ length: 4 }, (_, i) => track(`u${i}`, 'click', NOW)),
    });
    expect(reply.status).toBe(429);
    expect(await t.stores.events.countTracks()).toBe(0);
  });
});
