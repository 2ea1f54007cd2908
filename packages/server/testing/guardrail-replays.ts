/**
 * Replays of the ways a guarded rollout used to be defeated silently, through the HTTP API over real stores
 * (SQLite in the unit suite, PostgreSQL in the integration suite): a stale flag edit after a rollback, the CLI
 * guide's `flags update`, disabling or archiving the flag under a running rollout, starting on a disabled flag,
 * and a running rollout nobody is exposed to. Each must now be refused (or alarmed) with nothing else changed.
 */
import { compileConfig, type EnvironmentSnapshot, evaluate } from '@dimmer/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stores } from '../src/stores.ts';
import { HOUR, MINUTE, setUpRolloutSim, treatmentBuckets } from './rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from './test-app.ts';

/** Units evaluated to show who is treated. */
const UNITS = 100_000;
const ROLLOUT = 'ro_guard';

type GuardApp = TestApp & { clock: ReturnType<typeof manualClock>; clientKey: string; hooks: Json[] };

async function snapshot(t: GuardApp): Promise<EnvironmentSnapshot> {
  const r = await t.app.inject({
    method: 'GET',
    url: '/sdk/v1/config',
    headers: { authorization: `Bearer ${t.clientKey}` },
  });
  expect(r.statusCode).toBe(200);
  return r.json() as EnvironmentSnapshot;
}

/** Units of 100,000 served the treatment variant by the environment's config right now. */
async function treatedUnits(t: GuardApp): Promise<number> {
  const compiled = compileConfig(await snapshot(t));
  let treated = 0;
  for (let i = 0; i < UNITS; i++)
    if (evaluate(compiled, 'new-checkout', { targetingKey: `user-${i}` }).variant === 'on') treated++;
  return treated;
}

async function flag(t: GuardApp): Promise<Json> {
  const r = await t.admin('GET', '/api/v1/flags/new-checkout');
  expect(r.status).toBe(200);
  return r.json;
}

async function rollout(t: GuardApp): Promise<Json> {
  const r = await t.admin('GET', `/api/v1/rollouts/${ROLLOUT}`);
  expect(r.status).toBe(200);
  return r.json;
}

async function createRollout(t: GuardApp): Promise<void> {
  const created = await t.admin('POST', '/api/v1/rollouts', {
    id: ROLLOUT,
    flag: 'new-checkout',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: [{ reach: 10, minDuration: '1h' }, { reach: 100 }],
    guardrails: [{ metric: 'crash_rate' }],
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
}

async function startRollout(t: GuardApp): Promise<void> {
  await createRollout(t);
  const started = await t.admin('POST', `/api/v1/rollouts/${ROLLOUT}/start`, {});
  expect(started.status, JSON.stringify(started.json)).toBe(200);
}

/** The flag document as an editor holds it: the view without its lifecycle fields. */
function editable(view: Json): Json {
  const { archived: _a, createdAt: _c, updatedAt: _u, version: _v, ...doc } = view;
  return doc;
}

/** Registers the replays over stores made by `makeStores` (closed after each test). */
export function describeGuardrailReplays(name: string, makeStores: () => Promise<Stores>): void {
  describe(`guardrail replays (${name})`, () => {
    let t: GuardApp | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    async function app(): Promise<GuardApp> {
      const clock = manualClock();
      const hooks: Json[] = [];
      const base = await buildTestApp({
        stores: await makeStores(),
        clock,
        config: {
          webhooks: {
            urls: ['http://127.0.0.1:9/hooks'],
            fetch: async (_url, init) => {
              hooks.push(JSON.parse(String(init?.body)));
              return new Response(null, { status: 204 });
            },
          },
        },
      });
      const { clientKey } = await setUpRolloutSim(base);
      t = Object.assign(base, { clock, clientKey, hooks });
      return t;
    }

    it('a flag edit saved from a copy read before a rollback is refused and treats nobody', async () => {
      const a = await app();
      await startRollout(a);
      const before = await flag(a);
      expect(await treatedUnits(a)).toBeGreaterThan(9_000);
      expect((await a.admin('POST', `/api/v1/rollouts/${ROLLOUT}/rollback`, {})).status).toBe(200);
      const rolledBack = await flag(a);
      const config = await snapshot(a);
      expect(treatmentBuckets(config, 'new-checkout')).toBe(0);

      // The dashboard sends the whole copy it opened, with its version: 409 with the current version.
      const stale = { ...editable(before), description: 'copy edit', version: before.version };
      const refused = await a.admin('PUT', '/api/v1/flags/new-checkout', stale);
      expect(refused.status).toBe(409);
      expect(refused.json.error.details.currentVersion).toBe(rolledBack.version);
      // The same copy without a version (an old script): refused for the rollout's rule, named.
      const { version: _v, ...unversioned } = stale;
      const owned = await a.admin('PUT', '/api/v1/flags/new-checkout', unversioned);
      expect(owned.status).toBe(409);
      expect(owned.json.error.message).toContain(`rollout-${ROLLOUT}`);
      expect(owned.json.error.message).toContain(ROLLOUT);
      expect(owned.json.error.details).toMatchObject({ rollout: ROLLOUT, rule: `rollout-${ROLLOUT}` });

      expect(await flag(a)).toEqual(rolledBack);
      expect(await snapshot(a)).toEqual(config);
      expect(await treatedUnits(a)).toBe(0);
      const r = await rollout(a);
      expect([r.state, r.reach]).toEqual(['rolled_back', 0]);

      // A current copy that carries the rule unchanged is fine.
      const current = { ...editable(rolledBack), description: 'fresh edit', version: rolledBack.version };
      const saved = await a.admin('PUT', '/api/v1/flags/new-checkout', current);
      expect(saved.status, JSON.stringify(saved.json)).toBe(200);
      expect(saved.json.flag.version).toBe(rolledBack.version + 1);
      expect(await treatedUnits(a)).toBe(0);
    });

    it('If-Match carries the version too; a stale one is refused', async () => {
      const a = await app();
      const first = await a.app.inject({
        method: 'GET',
        url: '/api/v1/flags/new-checkout',
        headers: { authorization: `Bearer ${a.adminToken}` },
      });
      expect(first.headers.etag).toBe(`"${first.json().version}"`);
      const patch = (version: number, description: string) =>
        a.app.inject({
          method: 'PATCH',
          url: '/api/v1/flags/new-checkout',
          headers: { authorization: `Bearer ${a.adminToken}`, 'if-match': `"${version}"` },
          payload: { description },
        });
      expect((await patch(first.json().version, 'one')).statusCode).toBe(200);
      const stale = await patch(first.json().version, 'two');
      expect(stale.statusCode).toBe(409);
      expect(stale.json().error.details.currentVersion).toBe(first.json().version + 1);
      expect((await flag(a)).description).toBe('one');
    });

    it("the CLI guide's flags update keeps the rollout's rule: the server refuses a document without it", async () => {
      const a = await app();
      await startRollout(a);
      const before = await flag(a);
      const treated = await treatedUnits(a);
      const guide = {
        key: 'new-checkout',
        kind: 'boolean',
        description: 'One-page checkout',
        variants: { off: false, on: true },
        defaultVariant: 'off',
        environments: {
          production: {
            enabled: true,
            rules: [
              {
                id: 'staff',
                when: { attr: 'email', op: 'ends_with', value: '@acme.com' },
                serve: { variant: 'on' },
              },
            ],
          },
        },
        version: before.version,
      };
      const refused = await a.admin('PUT', '/api/v1/flags/new-checkout', guide);
      expect(refused.status).toBe(409);
      expect(refused.json.error.message).toContain('removes');
      expect(refused.json.error.details.rule).toBe(`rollout-${ROLLOUT}`);
      expect(await flag(a)).toEqual(before);
      expect(await treatedUnits(a)).toBe(treated);
      expect((await rollout(a)).state).toBe('running');
    });

    it('disabling or archiving the flag under a running rollout is refused unless it pauses or rolls back', async () => {
      const a = await app();
      await startRollout(a);
      const before = await flag(a);
      for (const [url, body] of [
        ['/api/v1/flags/new-checkout/environments/production/disable', undefined],
        ['/api/v1/flags/new-checkout/archive', {}],
      ] as const) {
        const refused = await a.admin('POST', url, body);
        expect(refused.status, url).toBe(409);
        expect(refused.json.error.message).toContain(ROLLOUT);
      }
      // An edit that switches the environment off is refused too.
      const patched = await a.admin('PATCH', '/api/v1/flags/new-checkout', {
        environments: { production: { enabled: false } },
      });
      expect(patched.status).toBe(409);
      expect(await flag(a)).toEqual(before);
      expect((await rollout(a)).state).toBe('running');

      const disabled = await a.admin('POST', '/api/v1/flags/new-checkout/environments/production/disable', {
        rollout: 'rollback',
      });
      expect(disabled.status, JSON.stringify(disabled.json)).toBe(200);
      expect(disabled.json.flag.environments.production.enabled).toBe(false);
      const r = await rollout(a);
      expect([r.state, r.reach]).toEqual(['rolled_back', 0]);
      expect(await treatedUnits(a)).toBe(0);
    });

    it('archiving with rollout: pause pauses the rollout, which then reports an alarm', async () => {
      const a = await app();
      await startRollout(a);
      const archived = await a.admin('POST', '/api/v1/flags/new-checkout/archive', { rollout: 'pause' });
      expect(archived.status, JSON.stringify(archived.json)).toBe(200);
      const r = await rollout(a);
      expect(r.state).toBe('paused');
      expect(r.health).toBe('alarm');
      expect(r.alarm.reasons.map((x: Json) => x.cause)).toEqual(['flag_archived']);
    });

    it('starting a rollout on a disabled flag, or behind a rule that serves everyone, is refused', async () => {
      const a = await app();
      await createRollout(a);
      expect(
        (await a.admin('POST', '/api/v1/flags/new-checkout/environments/production/disable')).status,
      ).toBe(200);
      const before = await flag(a);
      const refused = await a.admin('POST', `/api/v1/rollouts/${ROLLOUT}/start`, {});
      expect(refused.status).toBe(400);
      expect(refused.json.error.message).toContain('disabled in production');
      expect((await rollout(a)).state).toBe('draft');
      expect(await flag(a)).toEqual(before);

      const everyone = await a.admin('PUT', '/api/v1/flags/new-checkout/environments/production', {
        enabled: true,
        rules: [{ id: 'all-off', serve: { variant: 'off' } }],
      });
      expect(everyone.status).toBe(200);
      const hidden = await a.admin('POST', `/api/v1/rollouts/${ROLLOUT}/start`, {});
      expect(hidden.status).toBe(400);
      expect(hidden.json.error.message).toContain('rule "all-off"');
      expect((await rollout(a)).state).toBe('draft');
      expect(await treatedUnits(a)).toBe(0);
    });

    it('a running rollout with no exposures past the stage minimum is in alarm: health, webhook, gauge', async () => {
      const a = await app();
      await startRollout(a);
      a.clock.advance(30 * MINUTE);
      await a.app.dimmer.controller.tick();
      expect((await rollout(a)).health).not.toBe('alarm');
      a.clock.advance(HOUR);
      await a.app.dimmer.controller.tick();
      const r = await rollout(a);
      expect(r.health).toBe('alarm');
      expect(r.alarm.reasons[0].cause).toBe('no_exposures');
      expect(r.alarm.reasons[0].message).toContain('treatment and control');
      await a.app.dimmer.webhooks.drain();
      const alarms = a.hooks.filter((h) => h.type === 'rollout.alarm');
      expect(alarms).toHaveLength(1);
      expect(alarms[0]).toMatchObject({ rollout: ROLLOUT, alarm: { reasons: [{ cause: 'no_exposures' }] } });
      // The same alarm at the next look sends nothing new.
      await a.app.dimmer.controller.tick();
      await a.app.dimmer.webhooks.drain();
      expect(a.hooks.filter((h) => h.type === 'rollout.alarm')).toHaveLength(1);
      const metrics = await a.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toContain(`dimmer_rollout_alarm{rollout="${ROLLOUT}",state="running"} 1`);
    });
  });
}
