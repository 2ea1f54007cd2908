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
  files.write(
    'metric.json',
    JSON.stringify({
      key: 'conversion',
      kind: 'proportion',
      event: 'purchase',
      direction: 'lower_is_worse',
      margin: 0.05,
      window: 'until_now',
      category: 'business',
    }),
  );
  files.write(
    'flag.json',
    JSON.stringify({
      key: 'button',
      kind: 'string',
      variants: { blue: 'blue', green: 'green' },
      defaultVariant: 'blue',
      environments: { production: { enabled: true, rules: [] } },
    }),
  );
  files.write(
    'experiment.yaml',
    [
      'id: ex_cli',
      'flag: button',
      'environment: production',
      'control: blue',
      'variants: [{ variant: blue, weight: 50 }, { variant: green, weight: 50 }]',
      'coverage: 20',
      'successMetrics: [{ metric: conversion, mde: 0.05 }]',
      'expectedUnitsPerDay: 20000',
      'expectedBaselines: { conversion: { mean: 0.1 } }',
    ].join('\n'),
  );
});

/** The plan of `experiment.yaml` with other weights: refused once the experiment has started. */
const REWEIGHTED = [
  'id: ex_cli',
  'flag: button',
  'environment: production',
  'control: blue',
  'variants: [{ variant: blue, weight: 70 }, { variant: green, weight: 30 }]',
  'coverage: 20',
  'successMetrics: [{ metric: conversion, mde: 0.05 }]',
].join('\n');

afterAll(async () => {
  await server.close();
  files.cleanup();
});

describe('experiments', () => {
  it('creates, starts, grows coverage, reads results and ships through the CLI', async () => {
    expect((await dimmer('metrics', 'create', '-f', 'metric.json')).code).toBe(EXIT_OK);
    expect((await dimmer('flags', 'create', '-f', 'flag.json')).code).toBe(EXIT_OK);
    const created = await dimmer('experiments', 'create', '-f', 'experiment.yaml');
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('Created experiment ex_cli (draft). Expected duration:');
    expect((await dimmer('experiments', 'start', 'ex_cli')).stdout).toContain('Started experiment ex_cli');
    files.write('reweighted.yaml', REWEIGHTED);
    const reweighted = await dimmer('experiments', 'update', 'ex_cli', '-f', 'reweighted.yaml', '--json');
    expect(reweighted.code).toBe(EXIT_FAILURE);
    expect(reweighted.stderr).toContain('variants[0].weight');
    const grown = await dimmer('experiments', 'coverage', 'ex_cli', '40', '--json');
    expect(JSON.parse(grown.stdout).coverage).toBe(40);
    const shrink = await dimmer('experiments', 'coverage', 'ex_cli', '10');
    expect(shrink.code).toBe(EXIT_FAILURE);
    expect(shrink.stderr).toContain('coverage');
    const results = await dimmer('experiments', 'results', 'ex_cli');
    expect(results.stdout).toContain('Recommendation: continue');
    const list = JSON.parse((await dimmer('experiments', 'list', '--json')).stdout);
    expect(list.experiments.map((e: { id: string }) => e.id)).toEqual(['ex_cli']);
    const shipped = await dimmer('experiments', 'ship', 'ex_cli', 'green', '--json');
    expect(shipped.stderr).toBe('');
    const out = JSON.parse(shipped.stdout);
    expect(out.experiment.status).toBe('shipped');
    expect(out.rollout.state).toBe('running');
    expect((await dimmer('experiments', 'get', 'ex_cli')).stdout).toContain('shipped green as rollout');
  });
});
