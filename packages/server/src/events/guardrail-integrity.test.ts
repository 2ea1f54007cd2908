/**
 * Replays of attempts to defeat a rollout's guardrails through `/v1/events`, end to end through the HTTP API on
 * SQLite and (with DIMMER_TEST_DATABASE_URL) PostgreSQL: hostile event values, forged exposures from a browser
 * key, exposures that contradict the assignment, and statistics poisoned in storage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dropSchemas,
  freshSchemaName,
  postgresSkipReason,
  TEST_DATABASE_URL,
} from '../../testing/pg-test-schema.ts';
import { CRASH_METRIC, MINUTE, readRollout, setUpRolloutSim, TrafficSim } from '../../testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../../testing/test-app.ts';
import { createPostgresStores, createSqliteStores } from '../stores.ts';

type SimApp = TestApp & { clock: ReturnType<typeof manualClock> };

/** Revenue per unit: the sum of `purchase` values, lower is worse. */
const REVENUE_METRIC = {
  key: 'revenue',
  kind: 'mean',
  event: 'purchase',
  aggregate: 'sum',
  direction: 'lower_is_worse',
  margin: 0.1,
  window: 'until_now',
  category: 'business',
};
const STAGES = [
  { reach: 10, minDuration: '1h', minUnitsPerArm: 50, minEventsPerArm: 5 },
  { reach: 50, minDuration: '1h', minUnitsPerArm: 200, minEventsPerArm: 5 },
  { reach: 100, minDuration: '1h' },
];
const ORIGIN = 'https://shop.example';
const EVIL_ORIGIN = 'https://evil.example';
const MAX_LOOKS = 24;

interface Dialect {
  name: string;
  skip: string | undefined;
  open(): Promise<{ app: SimApp; poison(sql: string): Promise<void>; cleanup(): Promise<void> }>;
}

const sqlite: Dialect = {
  name: 'SQLite',
  skip: undefined,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-integrity-'));
    const app = (await buildTestApp({ clock: manualClock(), stores: createSqliteStores(dir) })) as SimApp;
    return {
      app,
      async poison(sql) {
        const db = new Database(join(dir, 'dimmer.sqlite'));
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
      async cleanup() {
        await app.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: Dialect = {
  name: 'PostgreSQL',
  skip: postgresSkipReason(),
  async open() {
    const url = TEST_DATABASE_URL as string;
    const schema = freshSchemaName();
    const stores = await createPostgresStores({ connectionString: url, schema });
    const app = (await buildTestApp({ clock: manualClock(), stores })) as SimApp;
    return {
      app,
      async poison(sql) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`SET search_path TO "${schema}"`);
          await client.query(sql);
        } finally {
          await client.end();
        }
      },
      async cleanup() {
        await app.close();
        await dropSchemas(url, [schema]);
      },
    };
  },
};

async function post(a: SimApp, key: string, body: unknown, origin?: string) {
  const response = await a.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(origin !== undefined ? { origin } : {}),
    },
    payload: JSON.stringify(body),
  });
  return { status: response.statusCode, json: response.json() as Json, headers: response.headers };
}

async function evidence(a: SimApp): Promise<{ status: number; json: Json }> {
  return a.admin('GET', '/api/v1/rollouts/ro_1/evidence');
}

async function browserKey(a: SimApp): Promise<string> {
  const r = await a.admin('POST', '/api/v1/keys', {
    name: 'web',
    environment: 'production',
    kind: 'browser',
    allowedOrigins: [ORIGIN],
  });
  expect(r.status).toBe(201);
  return r.json.secret as string;
}

async function startRollout(a: SimApp, guardrails: string[]): Promise<void> {
  const created = await a.admin('POST', '/api/v1/rollouts', {
    id: 'ro_1',
    flag: 'new-checkout',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: STAGES,
    guardrails: guardrails.map((metric) => ({ metric })),
    expectedUnitsPerDay: 48_000,
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  expect((await a.admin('POST', '/api/v1/rollouts/ro_1/start', {})).status).toBe(200);
}

/**
 * Runs looks of 15 simulated minutes until the rollout is rolled back; `hostile` runs after the first step.
 * Returns the number of looks it took (MAX_LOOKS + 1 when it never rolled back).
 */
async function looksUntilRollback(
  a: SimApp,
  sim: TrafficSim,
  step: Parameters<TrafficSim['step']>[0],
  hostile?: () => Promise<void>,
): Promise<number> {
  for (let look = 1; look <= MAX_LOOKS; look++) {
    await sim.step(step);
    if (look === 1 && hostile) await hostile();
    await a.app.dimmer.controller.tick();
    const rollout = await readRollout(a, 'ro_1');
    if ((rollout.state ?? rollout.status) === 'rolled_back') return look;
  }
  return MAX_LOOKS + 1;
}

const CRASH_STEP = {
  units: 500,
  rates: { app_crash: { treatment: 0.4, control: 0.1 }, purchase: { treatment: 0.3, control: 0.3 } },
  values: { purchase: 40 },
  durationMs: 15 * MINUTE,
};
const REVENUE_DROP_STEP = {
  units: 500,
  rates: { purchase: { treatment: 0, control: 0.3 } },
  values: { purchase: 40 },
  durationMs: 15 * MINUTE,
};

for (const dialect of [sqlite, postgres]) {
  describe.skipIf(dialect.skip !== undefined)(
    `guardrails cannot be silently defeated (${dialect.name})`,
    () => {
      let opened: Awaited<ReturnType<Dialect['open']>> | undefined;
      afterEach(async () => {
        await opened?.cleanup();
        opened = undefined;
      });

      async function setUp(): Promise<{ a: SimApp; clientKey: string; sim: TrafficSim }> {
        opened = await dialect.open();
        const a = opened.app;
        const { clientKey, flag } = await setUpRolloutSim(a, { metrics: [CRASH_METRIC, REVENUE_METRIC] });
        await startRollout(a, ['crash_rate', 'revenue']);
        return { a, clientKey, sim: new TrafficSim(a, { clientKey, flag, seed: 11 }) };
      }

      it('a 4× crash rate after a hostile 1e300 value rolls back within the same looks as without it', async () => {
        const baseline = await setUp();
        const clean = await looksUntilRollback(baseline.a, baseline.sim, CRASH_STEP);
        expect(clean).toBeLessThanOrEqual(MAX_LOOKS);
        await opened?.cleanup();

        const attacked = await setUp();
        const web = await browserKey(attacked.a);
        const replies: Json[] = [];
        const hostile = async () => {
          const unit = attacked.sim.unitId(1);
          const event = {
            type: 'track',
            name: 'purchase',
            unit,
            value: 1e300,
            timestamp: attacked.a.clock.now(),
          };
          for (const [key, origin] of [
            [attacked.clientKey, undefined],
            [web, ORIGIN],
          ] as const)
            replies.push(
              await post(attacked.a, key, { batchId: `hostile-${replies.length}`, events: [event] }, origin),
            );
        };
        const looks = await looksUntilRollback(attacked.a, attacked.sim, CRASH_STEP, hostile);
        for (const reply of replies) {
          expect(reply.status).toBe(202);
          expect(reply.json.accepted).toBe(0);
          expect(reply.json.rejected).toEqual([
            {
              index: 0,
              reason: expect.stringMatching(
                /^value: expected a finite number between -1000000000000 and 1000000000000/,
              ),
            },
          ]);
        }
        expect(looks).toBe(clean);
      }, 120_000);

      it('refuses 1e150 and -1e300 and still rolls a -100% revenue drop back', async () => {
        const baseline = await setUp();
        const clean = await looksUntilRollback(baseline.a, baseline.sim, REVENUE_DROP_STEP);
        expect(clean).toBeLessThanOrEqual(MAX_LOOKS);
        await opened?.cleanup();

        const attacked = await setUp();
        let reply: Json;
        const looks = await looksUntilRollback(attacked.a, attacked.sim, REVENUE_DROP_STEP, async () => {
          const ts = attacked.a.clock.now();
          reply = await post(attacked.a, attacked.clientKey, {
            batchId: 'hostile',
            events: [
              { type: 'track', name: 'purchase', unit: attacked.sim.unitId(1), value: 1e150, timestamp: ts },
              { type: 'track', name: 'purchase', unit: attacked.sim.unitId(2), value: -1e300, timestamp: ts },
              { type: 'track', name: 'purchase', unit: attacked.sim.unitId(3), value: 25, timestamp: ts },
            ],
          });
        });
        expect(reply.json.rejected.map((r: Json) => r.index)).toEqual([0, 1]);
        expect(reply.json.accepted).toBe(1);
        expect(looks).toBe(clean);
        const decision = (await readRollout(attacked.a, 'ro_1')).latestDecision;
        expect(decision).toMatchObject({ action: 'rollback' });
        expect(decision.reason).toContain('revenue');
      }, 120_000);

      it('forged exposures from a browser key change no evidence: 403 from another origin, refused by index from its own', async () => {
        const { a, sim } = await setUp();
        await sim.step(CRASH_STEP);
        const web = await browserKey(a);
        const before = await evidence(a);
        const forged = (batch: number) =>
          Array.from({ length: 900 }, (_, i) => ({
            type: i % 3 === 0 ? 'exposure' : 'track',
            ...(i % 3 === 0
              ? { flag: 'new-checkout', variant: 'off', unit: `forged-${batch}-${i}` }
              : { name: 'app_crash', unit: sim.unitId(i) }),
            timestamp: a.clock.now() - MINUTE,
          }));
        for (let batch = 0; batch < 3; batch++) {
          const refused = await post(
            a,
            web,
            { batchId: `evil-${batch}`, events: forged(batch) },
            EVIL_ORIGIN,
          );
          expect(refused.status).toBe(403);
          expect(refused.json.error.code).toBe('FORBIDDEN');
          expect(refused.headers['access-control-allow-origin']).toBeUndefined();
        }
        expect((await evidence(a)).json).toEqual(before.json);
        // From its own origin: every exposure refused by index; the crashes count for no metric (not client-reportable).
        const own = await post(a, web, { batchId: 'own', events: forged(9) }, ORIGIN);
        expect(own.status).toBe(202);
        expect(own.json.rejected.map((r: Json) => r.index)).toEqual(
          Array.from({ length: 300 }, (_, i) => i * 3),
        );
        expect(own.json.rejected[0].reason).toMatch(/browser key/);
        expect((await evidence(a)).json).toEqual(before.json);
        // Resolve with the browser key from the evil origin records nothing either.
        const resolve = await a.app.inject({
          method: 'POST',
          url: '/sdk/v1/resolve',
          headers: {
            authorization: `Bearer ${web}`,
            'content-type': 'application/json',
            origin: EVIL_ORIGIN,
          },
          payload: JSON.stringify({ context: { targetingKey: 'someone' } }),
        });
        expect(resolve.statusCode).toBe(403);
        const ofrep = await a.app.inject({
          method: 'POST',
          url: '/ofrep/v1/evaluate/flags/new-checkout',
          headers: {
            authorization: `Bearer ${web}`,
            'content-type': 'application/json',
            origin: EVIL_ORIGIN,
          },
          payload: JSON.stringify({ context: { targetingKey: 'someone' } }),
        });
        expect(ofrep.statusCode).toBe(403);
        expect((await evidence(a)).json).toEqual(before.json);
      }, 120_000);

      it('refuses exposures that contradict the unit bucket, by index', async () => {
        const { a, clientKey, sim } = await setUp();
        const units = Array.from({ length: 40 }, (_, i) => `probe-${i}`);
        const served = await sim.variants(units);
        const ts = a.clock.now();
        const events = units.flatMap((unit, i) => [
          { type: 'exposure', flag: 'new-checkout', variant: served[i], unit, timestamp: ts },
          {
            type: 'exposure',
            flag: 'new-checkout',
            variant: served[i] === 'on' ? 'off' : 'on',
            unit,
            timestamp: ts,
          },
        ]);
        const reply = await post(a, clientKey, { batchId: 'mixed', events });
        expect(reply.status).toBe(202);
        expect(reply.json.accepted).toBe(units.length);
        expect(reply.json.rejected.map((r: Json) => r.index)).toEqual(units.map((_, i) => 2 * i + 1));
        expect(reply.json.rejected[0].reason).toMatch(/^variant: unit "probe-0" is in bucket \d+/);
        const report = (await evidence(a)).json;
        const onCount = served.filter((v) => v === 'on').length;
        expect(report.evidence.units).toEqual({ treatment: onCount, control: units.length - onCount });
      }, 60_000);

      it('answers the evidence with the poisoned metric marked invalid while the other keeps deciding', async () => {
        const { a, sim } = await setUp();
        await sim.step(CRASH_STEP);
        await opened?.poison(
          dialect === sqlite
            ? "UPDATE cohort_stats SET sum_y2 = 9e999 WHERE metric = 'revenue'"
            : "UPDATE cohort_stats SET sum_y2 = 'Infinity' WHERE metric = 'revenue'",
        );
        const report = await evidence(a);
        expect(report.status).toBe(200);
        expect(report.json.evidence.metrics.revenue).toMatchObject({
          validity: 'invalid',
          hasData: false,
          cohorts: [],
          invalidReason: expect.stringMatching(/sumY2/),
        });
        expect(report.json.evidence.metrics.crash_rate.validity).toBe('valid');
        expect(report.json.estimates.find((e: Json) => e.metric === 'revenue').validity).toBe('invalid');
        // The crash guardrail still decides: a 4× crash rate rolls the rollout back.
        const looks = await looksUntilRollback(a, sim, CRASH_STEP);
        expect(looks).toBeLessThanOrEqual(MAX_LOOKS);
      }, 120_000);
    },
  );
}
