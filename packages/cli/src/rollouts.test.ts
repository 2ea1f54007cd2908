import type { RolloutView } from '@dimmer/sdk';
import { createTestServer, type TestServer } from '@dimmer/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK } from './errors.ts';
import { summarizeRollout } from './rollout-view.ts';
import { runCli, tempFolder } from './testing.ts';

// Needs the rollouts API of issue 05 (POST /api/v1/rollouts, actions, /plan, /decisions).
let server: TestServer;
const files = tempFolder();

function dimmer(...args: string[]) {
  return runCli(args, { env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken }, cwd: files.dir });
}

async function act(action: string, id: string) {
  const result = await dimmer('rollouts', action, id, '--json');
  expect(result.stderr, `rollouts ${action}`).toBe('');
  expect(result.code).toBe(EXIT_OK);
  return summarizeRollout(JSON.parse(result.stdout) as RolloutView);
}

const PLAN_YAML = `
flag: new-checkout
environment: production
treatment: "on"
control: "off"
stages:
  - { reach: 1, minDuration: 2h, minUnitsPerArm: 1000 }
  - { reach: 10, minDuration: 1d, minUnitsPerArm: 1000 }
  - { reach: 100, minDuration: 1d, minUnitsPerArm: 1000 }
guardrails:
  - { metric: crash_rate, margin: 0.02 }
mode: manual
srmAction: hold
`;

beforeAll(async () => {
  server = await createTestServer();
  files.write(
    'flag.json',
    JSON.stringify({
      key: 'new-checkout',
      kind: 'boolean',
      variants: { off: false, on: true },
      defaultVariant: 'off',
      environments: { production: { enabled: true, rules: [] } },
    }),
  );
  files.write(
    'crash.json',
    JSON.stringify({
      key: 'crash_rate',
      kind: 'proportion',
      event: 'app_crash',
      direction: 'higher_is_worse',
      margin: 0.02,
      category: 'reliability',
    }),
  );
  files.write('plan.yaml', PLAN_YAML);
  expect((await dimmer('flags', 'create', '-f', 'flag.json')).code).toBe(EXIT_OK);
  expect((await dimmer('metrics', 'create', '-f', 'crash.json')).code).toBe(EXIT_OK);
});

afterAll(async () => {
  await server.close();
  files.cleanup();
});

describe('rollouts', () => {
  let id = '';

  it('creates a draft rollout from a YAML plan and lists it', async () => {
    const created = await dimmer('rollouts', 'create', '-f', 'plan.yaml', '--json');
    expect(created.stderr, 'POST /api/v1/rollouts (issue 05) must exist').toBe('');
    expect(created.code).toBe(EXIT_OK);
    const s = summarizeRollout(JSON.parse(created.stdout) as RolloutView);
    expect(s).toMatchObject({ flag: 'new-checkout', environment: 'production', status: 'draft', reach: 0 });
    id = s.id;
    const list = await dimmer('rollouts', 'list');
    expect(list.stdout).toMatch(/^ID\s+FLAG\s+ENVIRONMENT\s+STATUS\s+STAGE\s+REACH\s+TREATMENT\s+MODE\n/);
    expect(list.stdout).toMatch(
      new RegExp(`${id}\\s+new-checkout\\s+production\\s+draft\\s+1 of 3\\s+0%\\s+on\\s+manual`),
    );
  });

  it('prints the forecast of each stage before anything starts', async () => {
    const result = await dimmer('rollouts', 'plan', id);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/STAGE\s+REACH\s+DURATION\s+UNITS\/ARM/);
    expect(result.stdout).toMatch(/\n1\s+1%\s+2h\s/);
    expect(result.stdout).toMatch(/\n3\s+100%\s+1d\s/);
  });

  it('walks the lifecycle: start, status, pause, resume, advance, rollback, resume, complete', async () => {
    expect(await act('start', id)).toMatchObject({ status: 'running', stageIndex: 0, reach: 1 });
    const status = await dimmer('rollouts', 'status', id);
    expect(status.code).toBe(EXIT_OK);
    expect(status.stdout).toMatch(/stage:\s+1 of 3\nreach:\s+1%/);
    expect(status.stdout).toMatch(/crash_rate\s/);
    expect(await act('pause', id)).toMatchObject({ status: 'paused' });
    expect(await act('resume', id)).toMatchObject({ status: 'running' });
    expect(await act('advance', id)).toMatchObject({ status: 'running', stageIndex: 1, reach: 10 });
    expect(await act('rollback', id)).toMatchObject({ status: 'rolled_back', reach: 0 });
    expect(await act('resume', id)).toMatchObject({ status: 'running', reach: 1, attempt: 2 });
    expect(await act('complete', id)).toMatchObject({ status: 'completed', reach: 100 });
    const decisions = await dimmer('rollouts', 'status', id, '--json');
    expect(decisions.code).toBe(EXIT_OK);
  });

  it('reports an illegal action with the server code and exits 1', async () => {
    expect(id, 'needs the rollout created above').not.toBe('');
    const result = await dimmer('rollouts', 'start', id);
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(
      /^Error (CONFLICT|VALIDATION_FAILED|BAD_REQUEST) \(HTTP 4(09|00)\): .*start/,
    );
  });
});
