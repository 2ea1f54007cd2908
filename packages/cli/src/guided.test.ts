import { createTestServer, type TestServer } from '@dimmer/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from './commands/audit.ts';
import { parseRegression, parseSimulateDuration } from './commands/simulate.ts';
import { EXIT_OK, EXIT_USAGE } from './errors.ts';
import { runCli, tempFolder } from './testing.ts';

let server: TestServer;
const files = tempFolder();

function dimmer(...args: string[]) {
  return runCli(args, {
    env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken },
    cwd: files.dir,
  });
}

const FLAG = {
  key: 'new-checkout',
  kind: 'boolean',
  variants: { off: false, on: true },
  defaultVariant: 'off',
  environments: { production: { enabled: true, rules: [] } },
};
const METRIC = {
  key: 'crash_rate',
  kind: 'proportion',
  event: 'app_crash',
  direction: 'higher_is_worse',
  margin: 0.02,
  category: 'reliability',
};
/** The documentation's plan at its own traffic (200,000 units a day, 2% crash rate): 18% power at the gate. */
const SHORT_PLAN = {
  id: 'ro_short',
  flag: 'new-checkout',
  environment: 'production',
  treatment: 'on',
  control: 'off',
  stages: [
    { reach: 1, minDuration: '2h', minUnitsPerArm: 1000 },
    { reach: 10, minDuration: '1d' },
    { reach: 50, minDuration: '1d' },
    { reach: 100, minDuration: '1d' },
  ],
  holdback: 2,
  guardrails: [{ metric: 'crash_rate' }],
  expectedUnitsPerDay: 200_000,
  expectedBaselines: { crash_rate: { mean: 0.02 } },
};

beforeAll(async () => {
  server = await createTestServer();
  files.write('flag.json', JSON.stringify(FLAG));
  files.write('crash.json', JSON.stringify(METRIC));
  files.write('short.json', JSON.stringify(SHORT_PLAN));
  expect((await dimmer('flags', 'create', '-f', 'flag.json')).code).toBe(EXIT_OK);
  expect((await dimmer('metrics', 'create', '-f', 'crash.json')).code).toBe(EXIT_OK);
});

afterAll(async () => {
  await server.close();
  files.cleanup();
});

describe('rollouts create and plan', () => {
  it('create warns when the final gate is under-powered at the stated traffic, with the durations that reach 80%', async () => {
    const created = await dimmer('rollouts', 'create', '-f', 'short.json');
    expect(created.code).toBe(EXIT_OK);
    expect(created.stdout).toMatch(/Warning: the plan passes its final gate with only 18\.\d% probability/);
    expect(created.stdout).toContain('200,000 units a day');
    expect(created.stdout).toMatch(/stages of about 1%: .+, 10%: .+, 50%: .+ would reach it/);
    const json = await dimmer('rollouts', 'plan', 'ro_short', '--json');
    const reply = JSON.parse(json.stdout) as { gatePower: { power: number; durationFactor: number } };
    expect(reply.gatePower.power).toBeCloseTo(0.182, 2);
    expect(reply.gatePower.durationFactor).toBeGreaterThan(5);
  });

  it('plan shows what every gated stage detects, and says why the final stage has no figure', async () => {
    const plan = await dimmer('rollouts', 'plan', 'ro_short');
    const rows = plan.stdout.split('\n').filter((l) => /^\d\s/.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows.slice(0, 3)) expect(row).toMatch(/\+\d[\d.]*% \(Δ /);
    expect(rows[3]).toContain('final stage: monitored');
  });
});

describe('environments and audit', () => {
  it('lists and creates environments', async () => {
    expect((await dimmer('environments', 'create', 'staging', '--name', 'Staging')).code).toBe(EXIT_OK);
    const list = await dimmer('environments', 'list');
    expect(list.stdout).toMatch(/staging\s+Staging/);
    expect(list.stdout).toContain('production');
    const bad = await dimmer('environments', 'create', 'Not Valid');
    expect(bad.code).not.toBe(EXIT_OK);
    expect(bad.stderr).toContain('key');
  });

  it('lists audit entries filtered by type, id, actor and time, as JSON too', async () => {
    const flags = await dimmer('audit', 'list', '--type', 'flag', '--id', 'new-checkout', '--json');
    const entries = (JSON.parse(flags.stdout) as { entries: { action: string; resourceKey: string }[] })
      .entries;
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.resourceKey).toBe('new-checkout');
    expect(entries.some((e) => e.action === 'flag.create')).toBe(true);
    const human = await dimmer('audit', 'list', '--type', 'environment', '--since', '1h');
    expect(human.stdout).toMatch(/environment staging/);
    const future = await dimmer('audit', 'list', '--since', '2999-01-01T00:00:00Z');
    expect(future.stdout).toContain('No audit entries match.');
    const wrong = await dimmer('audit', 'list', '--since', 'yesterday');
    expect(wrong.code).toBe(EXIT_USAGE);
    expect(parseSince('2h', Date.UTC(2026, 0, 1, 12))).toBe('2026-01-01T10:00:00.000Z');
  });
});

describe('simulate', () => {
  it('parses regressions and durations', () => {
    expect(parseRegression('crash_rate=+200%')).toEqual({ metric: 'crash_rate', factor: 3 });
    expect(parseRegression('checkout_conversion=-10%').factor).toBeCloseTo(0.9);
    expect(parseRegression('request_latency=1.5x').factor).toBe(1.5);
    expect(() => parseRegression('crash_rate')).toThrow(/<metric>=<change>/);
    expect(parseSimulateDuration('1m30s')).toBe(90_000);
    expect(() => parseSimulateDuration('soon')).toThrow();
  });

  it('sends exposures through the SDK and tracked events with current timestamps to a running rollout', async () => {
    files.write(
      'live.json',
      JSON.stringify({
        ...SHORT_PLAN,
        id: 'ro_live',
        flag: 'sim-flag',
        stages: [{ reach: 50, minDuration: '1m' }, { reach: 100 }],
      }),
    );
    files.write('sim-flag.json', JSON.stringify({ ...FLAG, key: 'sim-flag' }));
    expect((await dimmer('flags', 'create', '-f', 'sim-flag.json')).code).toBe(EXIT_OK);
    expect((await dimmer('rollouts', 'create', '-f', 'live.json')).code).toBe(EXIT_OK);
    expect((await dimmer('rollouts', 'start', 'ro_live')).code).toBe(EXIT_OK);
    const key = await dimmer('keys', 'create', '--name', 'sim', '--env', 'production', '--quiet');
    const secret = key.stdout.trim();
    expect(secret).toMatch(/^dmr_srv_/);
    const before = Date.now();
    const run = await runCli(
      [
        'simulate',
        '--flag',
        'sim-flag',
        '--duration',
        '3s',
        '--units-per-day',
        '8640000',
        '--regression',
        'crash_rate=+200%',
      ],
      {
        env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken, DIMMER_CLIENT_KEY: secret },
        cwd: files.dir,
      },
    );
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(run.stdout).toContain('app_crash ×3');
    const sent = /Done: .* ([\d,]+) events/.exec(run.stdout);
    expect(Number(sent?.[1]?.replaceAll(',', ''))).toBeGreaterThan(0);
    const evidence = (await fetch(`${server.url}/api/v1/rollouts/ro_live/evidence`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    }).then((r) => r.json())) as { evidence: { units: { treatment: number; control: number } } };
    // About 100 users a second for 3 s, half of them treated: exposures of both arms arrived.
    expect(evidence.evidence.units.treatment).toBeGreaterThan(50);
    expect(evidence.evidence.units.control).toBeGreaterThan(50);
    const wrongKey = await runCli(['simulate', '--flag', 'sim-flag', '--duration', '1s'], {
      env: { DIMMER_URL: server.url },
      cwd: files.dir,
    });
    expect(wrongKey.code).toBe(EXIT_USAGE);
    expect(Date.now() - before).toBeLessThan(30_000);
  });
});
