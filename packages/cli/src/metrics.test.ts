import { createTestServer, type TestServer } from '@dimmer/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK } from './errors.ts';
import { runCli, tempFolder } from './testing.ts';

let server: TestServer;
const files = tempFolder();

function dimmer(...args: string[]) {
  return runCli(args, { env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken }, cwd: files.dir });
}

beforeAll(async () => {
  server = await createTestServer();
});

afterAll(async () => {
  await server.close();
  files.cleanup();
});

describe('metrics and surfaces', () => {
  it('creates, lists, gets and updates metrics', async () => {
    files.write(
      'crash.yaml',
      'key: crash_rate\nkind: proportion\nevent: app_crash\ndirection: higher_is_worse\nmargin: 0.02\ncategory: reliability\nwindow: 24h\n',
    );
    files.write(
      'latency.json',
      JSON.stringify({
        key: 'latency',
        kind: 'ratio',
        numerator: { event: 'request', aggregate: 'sum' },
        denominator: { event: 'request', aggregate: 'count' },
        direction: 'higher_is_worse',
        margin: 0.05,
        category: 'experience',
      }),
    );
    expect((await dimmer('metrics', 'create', '-f', 'crash.yaml')).code).toBe(EXIT_OK);
    const latency = await dimmer('metrics', 'create', '-f', 'latency.json');
    expect(latency.stderr).toBe('');
    expect(latency.stdout).toContain('Created metric latency.');
    const list = await dimmer('metrics', 'list');
    expect(list.stdout).toMatch(/^KEY\s+KIND\s+MEASURE\s+DIRECTION\s+MARGIN\s+WINDOW\s+CATEGORY\n/);
    expect(list.stdout).toMatch(
      /crash_rate\s+proportion\s+app_crash\s+higher_is_worse\s+2%\s+1d\s+reliability/,
    );
    expect(list.stdout).toMatch(/latency\s+ratio\s+sum\(request\) \/ count\(request\)/);
    files.write(
      'crash2.yaml',
      'key: crash_rate\nkind: proportion\nevent: app_crash\ndirection: higher_is_worse\nmargin: 0.01\ncategory: reliability\n',
    );
    const updated = await dimmer('metrics', 'update', 'crash_rate', '-f', 'crash2.yaml', '--json');
    expect(JSON.parse(updated.stdout).margin).toBe(0.01);
    expect((await dimmer('metrics', 'get', 'crash_rate')).stdout).toMatch(/margin:\s+1%/);
  });

  it('names the field of an invalid metric', async () => {
    files.write(
      'bad-metric.json',
      JSON.stringify({
        key: 'bad',
        kind: 'proportion',
        event: 'x',
        direction: 'higher_is_worse',
        margin: 0,
        category: 'reliability',
      }),
    );
    const result = await dimmer('metrics', 'create', '-f', 'bad-metric.json');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(/^Error VALIDATION_FAILED/);
    expect(result.stderr).toMatch(/\n {2}- margin: /);
  });

  it('creates, lists, updates and deletes surfaces, and a metric a surface requires cannot be deleted', async () => {
    files.write(
      'checkout.yaml',
      'key: checkout\nname: Checkout\nguardrails:\n  - metric: crash_rate\n  - { metric: latency, margin: 0.03 }\n',
    );
    const created = await dimmer('surfaces', 'create', '-f', 'checkout.yaml');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(EXIT_OK);
    const list = await dimmer('surfaces', 'list');
    expect(list.stdout).toMatch(/checkout\s+Checkout\s+crash_rate, latency \(3%\)/);
    const held = await dimmer('surfaces', 'holdback', 'set', 'checkout', '2', '--json');
    expect(held.stderr).toBe('');
    expect(JSON.parse(held.stdout).holdback).toMatchObject({ percent: 2, enabled: true, generation: 1 });
    const again = await dimmer('surfaces', 'holdback', 'set', 'checkout', '3');
    expect(again.code).toBe(EXIT_FAILURE);
    expect(again.stderr).toContain('percent');
    const report = await dimmer(
      'surfaces',
      'holdback',
      'report',
      'checkout',
      '--env',
      'production',
      '--json',
    );
    expect(report.stderr).toBe('');
    expect(JSON.parse(report.stdout)).toMatchObject({ surface: 'checkout', units: { holdback: 0, rest: 0 } });
    expect(
      (await dimmer('surfaces', 'holdback', 'report', 'checkout', '--env', 'production')).stdout,
    ).toContain('Holdback of checkout in production');
    const off = await dimmer('surfaces', 'holdback', 'disable', 'checkout', '--json');
    expect(JSON.parse(off.stdout).holdback.enabled).toBe(false);
    const blocked = await dimmer('metrics', 'delete', 'crash_rate');
    expect(blocked.code).toBe(EXIT_FAILURE);
    expect(blocked.stderr).toMatch(/^Error CONFLICT/);
    files.write('checkout2.yaml', 'key: checkout\nname: Checkout flow\nguardrails: [{ metric: latency }]\n');
    expect((await dimmer('surfaces', 'update', 'checkout', '-f', 'checkout2.yaml')).stdout).toContain(
      'Checkout flow',
    );
    expect((await dimmer('metrics', 'delete', 'crash_rate')).code).toBe(EXIT_OK);
    expect((await dimmer('surfaces', 'delete', 'checkout')).code).toBe(EXIT_OK);
    expect(JSON.parse((await dimmer('surfaces', 'list', '--json')).stdout)).toEqual({ surfaces: [] });
  });
});
