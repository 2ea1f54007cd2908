import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const crash = {
  key: 'crash_rate',
  kind: 'proportion',
  event: 'app_crash',
  direction: 'higher_is_worse',
  margin: 0.02,
  window: '24h',
  category: 'reliability',
};

describe('metrics and surfaces', () => {
  it('creates, reads, replaces and deletes a metric, with audit', async () => {
    t = await buildTestApp();
    const created = await t.admin('POST', '/api/v1/metrics', crash);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ ...crash, window: '1d' });
    const replaced = await t.admin('PUT', '/api/v1/metrics/crash_rate', {
      ...crash,
      key: undefined,
      window: '90m',
    });
    expect(replaced.json.window).toBe('1h30m');
    expect((await t.admin('GET', '/api/v1/metrics')).json.metrics).toHaveLength(1);
    expect((await t.admin('DELETE', '/api/v1/metrics/crash_rate')).status).toBe(204);
    const audit = (await t.admin('GET', '/api/v1/audit?resourceType=metric')).json.entries;
    expect(audit.map((e: { action: string }) => e.action)).toEqual([
      'metric.delete',
      'metric.update',
      'metric.create',
    ]);
  });

  it('rejects bad definitions naming the field, and changes nothing', async () => {
    t = await buildTestApp();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...crash, kind: 'median' }, 'kind'],
      [{ ...crash, margin: 0 }, 'margin'],
      [{ ...crash, margin: -0.1 }, 'margin'],
      [{ ...crash, window: 'soon' }, 'window'],
      [{ ...crash, category: 'vanity' }, 'category'],
      [{ ...crash, direction: 'up' }, 'direction'],
      [{ ...crash, extra: 1 }, 'extra'],
      [
        {
          ...crash,
          kind: 'ratio',
          event: undefined,
          numerator: { event: 'a', aggregate: 'avg' },
          denominator: { event: 'b', aggregate: 'count' },
        },
        'numerator.aggregate',
      ],
    ];
    for (const [body, path] of cases) {
      const reply = await t.admin('POST', '/api/v1/metrics', JSON.parse(JSON.stringify(body)));
      expect(reply.status, path).toBe(400);
      expect(reply.json.error.code).toBe('VALIDATION_FAILED');
      expect(reply.json.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    expect((await t.admin('GET', '/api/v1/metrics')).json.metrics).toEqual([]);
    expect((await t.admin('GET', '/api/v1/audit?resourceType=metric')).json.entries).toEqual([]);
  });

  it('keeps surfaces consistent with metrics and flags', async () => {
    t = await buildTestApp();
    await t.admin('POST', '/api/v1/metrics', crash);
    const unknownMetric = await t.admin('POST', '/api/v1/surfaces', {
      key: 'checkout',
      guardrails: [{ metric: 'nope' }],
    });
    expect(unknownMetric.json.error.details.issues[0].path).toBe('guardrails[0].metric');
    const badMargin = await t.admin('POST', '/api/v1/surfaces', {
      key: 'checkout',
      guardrails: [{ metric: 'crash_rate', margin: 0 }],
    });
    expect(badMargin.json.error.details.issues[0].path).toBe('guardrails[0].margin');
    const flag = {
      key: 'f',
      kind: 'boolean',
      variants: { off: false, on: true },
      defaultVariant: 'off',
      surface: 'checkout',
      environments: { production: { enabled: true, rules: [] } },
    };
    const orphan = await t.admin('POST', '/api/v1/flags', flag);
    expect(orphan.status).toBe(400);
    expect(orphan.json.error.details.issues[0].path).toBe('surface');
    const surface = await t.admin('POST', '/api/v1/surfaces', {
      key: 'checkout',
      name: 'Checkout',
      guardrails: [{ metric: 'crash_rate', margin: 0.01 }],
    });
    expect(surface.status).toBe(201);
    expect((await t.admin('POST', '/api/v1/flags', flag)).status).toBe(201);
    expect((await t.admin('DELETE', '/api/v1/metrics/crash_rate')).status).toBe(409);
    const inUse = await t.admin('DELETE', '/api/v1/surfaces/checkout');
    expect(inUse.status).toBe(409);
    expect(inUse.json.error.details.flags).toEqual(['f']);
    // Surface metrics are always guardrails of a rollout on the flag.
    const { record: rollout } = await t.app.dimmer.rollouts.create(
      {
        flag: 'f',
        environment: 'production',
        treatment: 'on',
        control: 'off',
        stages: [{ reach: 10 }, { reach: 100 }],
        guardrails: [],
      },
      'admin:test',
    );
    expect(rollout.guardrails).toEqual(['crash_rate']);
    expect(rollout.metrics[0]?.key).toBe('crash_rate');
  });
});
