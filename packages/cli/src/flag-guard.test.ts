/**
 * `dimmer flags update` from the CLI guide while a rollout runs: the rollout's rule is carried over and the
 * rollout keeps treating; a stale `--if-version` is refused with a clear message; disable needs `--rollout`.
 */
import { createTestServer, type TestServer } from '@dimmer/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK } from './errors.ts';
import { runCli, tempFolder } from './testing.ts';

let server: TestServer;
const files = tempFolder();

function dimmer(...args: string[]) {
  return runCli(args, { env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken }, cwd: files.dir });
}

/** The guide's `new-checkout.yaml`: written before any rollout, so it has no rollout rule. */
const GUIDE_YAML = `
key: new-checkout
kind: boolean
description: One-page checkout
variants: { "off": false, "on": true }
defaultVariant: "off"
environments:
  production:
    enabled: true
    rules:
      - id: staff
        when: { attr: email, op: ends_with, value: "@acme.com" }
        serve: { variant: "on" }
`;

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value and assert on them
type Json = any;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: await response.json() };
}

beforeAll(async () => {
  server = await createTestServer();
  files.write('new-checkout.yaml', GUIDE_YAML);
  expect((await dimmer('flags', 'create', '-f', 'new-checkout.yaml')).code).toBe(EXIT_OK);
  const metric = await api('POST', '/api/v1/metrics', {
    key: 'crash_rate',
    kind: 'proportion',
    event: 'app_crash',
    direction: 'higher_is_worse',
    margin: 0.25,
    category: 'reliability',
  });
  expect(metric.status).toBe(201);
  const created = await api('POST', '/api/v1/rollouts', {
    id: 'ro_cli',
    flag: 'new-checkout',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: [{ reach: 10, minDuration: '1h' }, { reach: 100 }],
    guardrails: [{ metric: 'crash_rate' }],
  });
  expect(created.status).toBe(201);
  expect((await api('POST', '/api/v1/rollouts/ro_cli/start', {})).status).toBe(200);
});

afterAll(async () => {
  await server.close();
  files.cleanup();
});

describe('flags update under a running rollout', () => {
  it("keeps the rollout's rule and says so", async () => {
    const before = (await api('GET', '/api/v1/flags/new-checkout')).json;
    const rule = before.environments.production.rules.find((r: { id: string }) => r.id === 'rollout-ro_cli');
    const result = await dimmer('flags', 'update', 'new-checkout', '-f', 'new-checkout.yaml');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('Kept rule rollout-ro_cli in production');
    const after = (await api('GET', '/api/v1/flags/new-checkout')).json;
    expect(after.environments.production.rules).toContainEqual(rule);
    expect((await api('GET', '/api/v1/rollouts/ro_cli')).json).toMatchObject({ state: 'running', reach: 10 });
  });

  it('refuses a stale --if-version and prints that the flag changed', async () => {
    const current = (await api('GET', '/api/v1/flags/new-checkout')).json;
    const result = await dimmer(
      'flags',
      'update',
      'new-checkout',
      '-f',
      'new-checkout.yaml',
      '--if-version',
      String(current.version - 1),
    );
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toContain('CONFLICT (HTTP 409)');
    expect(result.stderr).toContain(`now version ${current.version}`);
    expect((await api('GET', '/api/v1/flags/new-checkout')).json).toEqual(current);
  });

  it('disable is refused without --rollout and rolls back with --rollout rollback', async () => {
    const refused = await dimmer('flags', 'disable', 'new-checkout', '--env', 'production');
    expect(refused.code).toBe(EXIT_FAILURE);
    expect(refused.stderr).toContain('ro_cli');
    const done = await dimmer(
      'flags',
      'disable',
      'new-checkout',
      '--env',
      'production',
      '--rollout',
      'rollback',
    );
    expect(done.stderr).toBe('');
    expect(done.code).toBe(EXIT_OK);
    expect((await api('GET', '/api/v1/rollouts/ro_cli')).json).toMatchObject({
      state: 'rolled_back',
      reach: 0,
    });
  });
});
