import { afterEach, describe, expect, it } from 'vitest';
import { sendBatch, setUpAnalysis, startRollout, unitInReach } from '../../testing/analysis-harness.ts';
import { buildTestApp, manualClock, TEST_T0, type TestApp } from '../../testing/test-app.ts';
import { createMemoryStores } from '../stores.ts';

const NOW = TEST_T0 + 10 * 24 * 3_600_000;
const MINUTE = 60_000;
let t: TestApp;

afterEach(async () => {
  await t?.close();
});

async function setUp(options: Parameters<typeof buildTestApp>[0] = {}) {
  t = await buildTestApp({ clock: manualClock(NOW), config: { pruneIntervalMs: 0 }, ...options });
  return setUpAnalysis(t.app, t.adminToken);
}

function track(unit: string, name: string, ts: number, value?: number) {
  return {
    type: 'track',
    name,
    unit,
    timestamp: new Date(ts).toISOString(),
    ...(value !== undefined ? { value } : {}),
  };
}

function exposure(unit: string, variant: string, ts: number) {
  return { type: 'exposure', flag: 'new-checkout', variant, unit, configVersion: 3, timestamp: ts };
}

async function evidence(id: string) {
  return (await t.admin('GET', `/api/v1/rollouts/${id}/evidence`)).json;
}

describe('POST /v1/events', () => {
  it('keeps good events, reports bad ones by index with the field and reason', async () => {
    const { clientKey } = await setUp();
    const reply = await sendBatch(t.app, clientKey, {
      batchId: 'mixed-1',
      events: [
        track('u1', 'click', NOW - MINUTE),
        { type: 'track', name: 'click', unit: 'u1', timestamp: 'yesterday' },
        { type: 'exposure', flag: 'new-checkout', unit: 'u1', timestamp: NOW },
        track('u1', 'click', NOW + 10 * MINUTE),
        track('u1', 'click', NOW - 8 * 24 * 60 * MINUTE),
        { type: 'track', name: 'click', unit: 'u1', value: '3', timestamp: NOW },
        { type: 'bogus' },
        { ...track('u1', 'click', NOW), extra: 1 },
        exposure('u2', 'on', NOW),
      ],
    });
    expect(reply.status).toBe(202);
    expect(reply.json.accepted).toBe(2);
    expect(reply.json.duplicate).toBe(false);
    const reasons = Object.fromEntries(
      reply.json.rejected.map((r: { index: number; reason: string }) => [r.index, r.reason]),
    );
    expect(Object.keys(reasons).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(reasons[1]).toMatch(/^timestamp: expected an ISO 8601 time/);
    expect(reasons[2]).toMatch(/^variant: /);
    expect(reasons[3]).toMatch(/^timestamp: more than 300 s in the future/);
    expect(reasons[4]).toMatch(/^timestamp: older than 168 h/);
    expect(reasons[5]).toMatch(/^value: expected a finite number/);
    expect(reasons[6]).toMatch(/^type: /);
    expect(reasons[7]).toBe('extra: unknown field');
    expect(await t.stores.events.countTracks()).toBe(1);
  });

  it('is idempotent per batch id: a retry gets the same answer and counts nothing twice', async () => {
    const { clientKey } = await setUp();
    const id = await startRollout(t.app, ['clicks']);
    const u1 = unitInReach('u1', 0, 50);
    const batch = {
      batchId: 'once',
      events: [exposure(u1, 'on', NOW - 5 * MINUTE), track(u1, 'click', NOW - MINUTE)],
    };
    const first = await sendBatch(t.app, clientKey, batch);
    const retries = await Promise.all([1, 2, 3].map(() => sendBatch(t.app, clientKey, batch)));
    for (const r of retries) expect(r.json).toEqual({ ...first.json, duplicate: true });
    const stats = (await evidence(id)).evidence.metrics.clicks.cohorts[0].treatment;
    expect(stats).toMatchObject({ n: 1, sumY: 1, sumY2: 1 });
    expect(await t.stores.events.countTracks()).toBe(1);
  });

  it('refuses malformed batches with the field named and writes nothing', async () => {
    const { clientKey } = await setUp();
    const missing = await sendBatch(t.app, clientKey, { events: [] });
    expect(missing.status).toBe(400);
    expect(missing.json.error.details.issues[0].path).toBe('batchId');
    const notArray = await sendBatch(t.app, clientKey, { batchId: 'x', events: {} });
    expect(notArray.json.error.details.issues[0].path).toBe('events');
    const unknown = await sendBatch(t.app, clientKey, { batchId: 'x', events: [], extra: true });
    expect(unknown.json.error.message).toBe('extra: unknown field');
    expect((await sendBatch(t.app, clientKey, '{"batchId": ')).status).toBe(400);
    const tooMany = await sendBatch(t.app, clientKey, {
      batchId: 'big',
      events: Array.from({ length: 1_001 }, () => track('u', 'click', NOW)),
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.json.error.message).toBe('events: at most 1000 events per batch, got 1001');
    const huge = await sendBatch(t.app, clientKey, {
      batchId: 'huge',
      events: Array.from({ length: 900 }, () => track('u'.repeat(250), 'click', NOW, 1)).map((e) => ({
        ...e,
        name: 'n'.repeat(128),
        unit: 'x'.repeat(1_100),
      })),
    });
    expect(huge.status).toBe(413);
    expect(huge.json.error.message).toMatch(/1048576 bytes \(1 MiB\)/);
    expect(await t.stores.events.countTracks()).toBe(0);
    // The refused batch id was not recorded: sending it properly later is not a duplicate.
    expect((await sendBatch(t.app, clientKey, { batchId: 'big', events: [] })).json.duplicate).toBe(false);
  });

  it('needs a client key', async () => {
    await setUp();
    const reply = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { batchId: 'a', events: [] },
    });
    expect(reply.statusCode).toBe(401);
    const admin = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { batchId: 'a', events: [] },
    });
    expect(admin.statusCode).toBe(401);
  });

  it('answers 429 with Retry-After beyond capacity, and writes nothing of the refused batch', async () => {
    const stores = createMemoryStores();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ingest = stores.events.ingest.bind(stores.events);
    stores.events.ingest = async (batches, at) => {
      await gate;
      return ingest(batches, at);
    };
    const { clientKey } = await setUp({
      stores,
      config: { pruneIntervalMs: 0, ingestion: { maxPendingBatches: 1 } },
    });
    const first = sendBatch(t.app, clientKey, { batchId: 'slow', events: [track('u1', 'click', NOW)] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const refused = await sendBatch(t.app, clientKey, {
      batchId: 'fast',
      events: [track('u2', 'click', NOW)],
    });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json.error.code).toBe('RATE_LIMITED');
    release();
    expect((await first).status).toBe(202);
    expect(await stores.events.countTracks()).toBe(1);
    expect((await sendBatch(t.app, clientKey, { batchId: 'fast', events: [] })).json.duplicate).toBe(false);
  });
});

describe('assignment epochs', () => {
  it('split when reach grows: the control epoch closes at the treatment exposure and a new cohort starts', async () => {
    const { clientKey } = await setUp();
    const id = await startRollout(t.app, ['clicks', 'crash_rate'], [10, 50]);
    // u1 is control at 10% reach and treatment at 50%; u2 treatment from the start; u3 control throughout.
    const u1 = unitInReach('u1', 10, 50);
    const u2 = unitInReach('u2', 0, 10);
    const u3 = unitInReach('u3', 50, 100);
    const t0 = NOW - 60 * MINUTE;
    await sendBatch(t.app, clientKey, {
      batchId: 'stage-0',
      events: [
        exposure(u1, 'off', t0),
        exposure(u2, 'on', t0),
        track(u1, 'click', t0 + MINUTE),
        track(u2, 'click', t0 + MINUTE),
      ],
    });
    await t.app.dimmer.rollouts.act(id, 'advance', 'admin:test');
    const flag = (await t.admin('GET', '/api/v1/flags/new-checkout')).json;
    expect(flag.environments.production.rules).toEqual([
      {
        id: `rollout-${id}`,
        rollout: id,
        serve: {
          split: [
            { variant: 'on', range: [0, 500_000], arm: 'treatment' },
            { variant: 'off', range: [500_000, 1_000_000], arm: 'control' },
          ],
        },
      },
    ]);
    const t1 = t0 + 30 * MINUTE;
    await sendBatch(t.app, clientKey, {
      batchId: 'stage-1',
      events: [
        exposure(u1, 'on', t1),
        track(u1, 'click', t1 + MINUTE),
        track(u1, 'click', t1 + 2 * MINUTE),
        // Out of order: before the treatment epoch began, so it belongs to the control epoch.
        track(u1, 'click', t1 - MINUTE),
        track(u1, 'app_crash', t1 + 3 * MINUTE),
        exposure(u3, 'off', t1),
      ],
    });
    const report = await evidence(id);
    const clicks = report.evidence.metrics.clicks.cohorts;
    expect(clicks).toEqual([
      {
        stage: 0,
        treatment: { n: 1, sumY: 1, sumY2: 1, sumD: 0, sumD2: 0, sumYD: 0 },
        control: { n: 1, sumY: 2, sumY2: 4, sumD: 0, sumD2: 0, sumYD: 0 },
      },
      {
        stage: 1,
        treatment: { n: 1, sumY: 2, sumY2: 4, sumD: 0, sumD2: 0, sumYD: 0 },
        control: { n: 1, sumY: 0, sumY2: 0, sumD: 0, sumD2: 0, sumYD: 0 },
      },
    ]);
    expect(report.evidence.metrics.crash_rate.cohorts[1].treatment.sumY).toBe(1);
    expect(report.evidence.units).toEqual({ treatment: 2, control: 2 });
    // u1 was first assigned in stage 0 (control); moving to treatment does not count it again.
    expect(report.evidence.assignments).toEqual([
      { stage: 0, treatment: 1, control: 1 },
      { stage: 1, treatment: 0, control: 1 },
    ]);
    const audit = (await t.admin('GET', `/api/v1/audit?resourceType=rollout&key=${id}`)).json.entries;
    expect(audit.map((e: { action: string }) => e.action)).toEqual([
      'rollout.advance',
      'rollout.start',
      'rollout.create',
    ]);
  });

  it('counts an exposure that arrives after the events it should count (out of order)', async () => {
    const { clientKey } = await setUp();
    const id = await startRollout(t.app, ['revenue', 'latency']);
    const u1 = unitInReach('u1', 0, 50);
    const t0 = NOW - 60 * MINUTE;
    await sendBatch(t.app, clientKey, {
      batchId: 'events-first',
      events: [
        track(u1, 'purchase', t0 + MINUTE, 30),
        track(u1, 'purchase', t0 + 2 * MINUTE, 30),
        track(u1, 'request_ms', t0 + MINUTE, 120),
        track(u1, 'request', t0 + MINUTE),
        track(u1, 'request_ms', t0 + 40 * MINUTE, 999),
        track(u1, 'purchase', t0 - MINUTE, 7),
      ],
    });
    await sendBatch(t.app, clientKey, { batchId: 'exposure-late', events: [exposure(u1, 'on', t0)] });
    const m = (await evidence(id)).evidence.metrics;
    // revenue is capped at 50 per unit; the purchase before the exposure does not count.
    expect(m.revenue.cohorts[0].treatment).toMatchObject({ n: 1, sumY: 50, sumY2: 2_500 });
    // latency's 30-minute window leaves out the request at +40 min.
    expect(m.latency.cohorts[0].treatment).toEqual({
      n: 1,
      sumY: 120,
      sumY2: 14_400,
      sumD: 1,
      sumD2: 1,
      sumYD: 120,
    });
  });

  it('logs exposures of remote resolution on the server, both arms, without blocking the request', async () => {
    const { clientKey } = await setUp();
    const id = await startRollout(t.app, ['clicks'], 50);
    for (let i = 0; i < 40; i++) {
      const reply = await t.app.inject({
        method: 'POST',
        url: '/sdk/v1/resolve',
        headers: { authorization: `Bearer ${clientKey}` },
        payload: { context: { targetingKey: `user-${i}` } },
      });
      expect(reply.statusCode).toBe(200);
    }
    await expect
      .poll(async () => {
        const units = (await evidence(id)).evidence.units;
        return units.treatment + units.control;
      })
      .toBe(40);
    const units = (await evidence(id)).evidence.units;
    expect(units.treatment).toBeGreaterThan(5);
    expect(units.control).toBeGreaterThan(5);
  });
});
