/** Environments through the HTTP API: create, rename, and delete with the refusal that names what refers to one. */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';

let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('environments', () => {
  it('renames an environment, keeping its key and config version', async () => {
    t = await buildTestApp();
    expect((await t.admin('POST', '/api/v1/environments', { key: 'staging' })).status).toBe(201);
    const renamed = await t.admin('PUT', '/api/v1/environments/staging', { name: 'Pre-production' });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ key: 'staging', name: 'Pre-production', configVersion: 1 });
    const list = (await t.admin('GET', '/api/v1/environments')).json.environments;
    expect(list.find((e: { key: string }) => e.key === 'staging').name).toBe('Pre-production');
    const missing = await t.admin('PUT', '/api/v1/environments/nope', { name: 'x' });
    expect(missing.status).toBe(404);
    const bad = await t.admin('PUT', '/api/v1/environments/staging', { name: '', key: 'other' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('VALIDATION_FAILED');
    const audit = (await t.admin('GET', '/api/v1/audit?resourceType=environment')).json.entries[0];
    expect(audit).toMatchObject({ action: 'environment.update', resourceKey: 'staging' });
  });

  it('refuses to delete an environment with an active key or a rollout, naming them; deletes it once free', async () => {
    t = await buildTestApp();
    await t.admin('POST', '/api/v1/environments', { key: 'staging' });
    await t.admin('POST', '/api/v1/metrics', {
      key: 'crash_rate',
      kind: 'proportion',
      event: 'app_crash',
      direction: 'higher_is_worse',
      margin: 0.1,
      window: 'until_now',
      category: 'reliability',
    });
    const flag = await t.admin('POST', '/api/v1/flags', {
      key: 'f',
      kind: 'boolean',
      variants: { off: false, on: true },
      defaultVariant: 'off',
      environments: { production: { enabled: true, rules: [] }, staging: { enabled: true, rules: [] } },
    });
    expect(flag.status).toBe(201);
    const key = await t.admin('POST', '/api/v1/keys', {
      name: 'web-staging',
      environment: 'staging',
      kind: 'server',
    });
    expect(key.status).toBe(201);
    const refused = await t.admin('DELETE', '/api/v1/environments/staging');
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('CONFLICT');
    expect(refused.json.error.message).toContain('web-staging');
    expect(refused.json.error.details.keys).toEqual(['web-staging']);
    await t.admin('POST', `/api/v1/keys/${key.json.id}/revoke`, {});
    // A rollout (even a draft) keeps its history in the environment.
    const rollout = await t.admin('POST', '/api/v1/rollouts', {
      id: 'ro_s',
      flag: 'f',
      environment: 'staging',
      treatment: 'on',
      control: 'off',
      stages: [{ reach: 10 }, { reach: 100 }],
      guardrails: [{ metric: 'crash_rate' }],
    });
    expect(rollout.status).toBe(201);
    const stillRefused = await t.admin('DELETE', '/api/v1/environments/staging');
    expect(stillRefused.status).toBe(409);
    expect(stillRefused.json.error.details.rollouts).toEqual([{ id: 'ro_s', state: 'draft' }]);
    expect((await t.admin('GET', '/api/v1/flags/f')).json.environments.staging).toBeDefined();

    // Another environment without rollouts: deleted with its state in the flag.
    await t.admin('POST', '/api/v1/environments', { key: 'qa' });
    await t.admin('PUT', '/api/v1/flags/f/environments/qa', { enabled: false, rules: [] });
    const gone = await t.admin('DELETE', '/api/v1/environments/qa');
    expect(gone.status).toBe(204);
    expect(
      (await t.admin('GET', '/api/v1/environments')).json.environments.map((e: { key: string }) => e.key),
    ).not.toContain('qa');
    expect(Object.keys((await t.admin('GET', '/api/v1/flags/f')).json.environments).sort()).toEqual([
      'production',
      'staging',
    ]);
    expect((await t.admin('DELETE', '/api/v1/environments/qa')).status).toBe(404);
    const audit = (await t.admin('GET', '/api/v1/audit?resourceType=environment')).json.entries[0];
    expect(audit).toMatchObject({ action: 'environment.delete', resourceKey: 'qa', after: null });
  });
});
