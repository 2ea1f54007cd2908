import { createTestServer, type TestServer } from '@dimmer/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.ts';
import { runCli, tempFolder } from './testing.ts';

let server: TestServer;
const files = tempFolder();

/** Runs the CLI against the test server with its admin token in the environment. */
function dimmer(...args: string[]) {
  return runCli(args, { env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken }, cwd: files.dir });
}

const FLAG_YAML = `
key: new-checkout
kind: boolean
description: One-page checkout
variants: { "off": false, "on": true }
defaultVariant: "off"
environments:
  production:
    enabled: false
    rules:
      - id: half
        serve:
          split:
            - { variant: "on", range: [0, 500000] }
`;

const FLAG_JSON = JSON.stringify({
  key: 'dark-mode',
  kind: 'string',
  variants: { light: 'light', dark: 'dark' },
  defaultVariant: 'light',
});

beforeAll(async () => {
  server = await createTestServer();
  files.write('flag.yaml', FLAG_YAML);
  files.write('flag.json', FLAG_JSON);
});

afterAll(async () => {
  await server.close();
  files.cleanup();
});

describe('flags', () => {
  it('creates a flag from a YAML file and another from a JSON file', async () => {
    const yaml = await dimmer('flags', 'create', '-f', 'flag.yaml');
    expect(yaml.stderr).toBe('');
    expect(yaml.code).toBe(EXIT_OK);
    expect(yaml.stdout).toContain('Created flag new-checkout');
    const json = await dimmer('flags', 'create', '--file', 'flag.json', '--json');
    expect(json.code).toBe(EXIT_OK);
    const created = JSON.parse(json.stdout);
    expect(created).toMatchObject({ key: 'dark-mode', kind: 'string', defaultVariant: 'light' });
    expect(created.salt).toMatch(/^[0-9a-f]{16}$/);
  });

  it('lists flags as an aligned table and as JSON', async () => {
    const table = await dimmer('flags', 'list');
    expect(table.code).toBe(EXIT_OK);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY\s+KIND\s+DEFAULT\s+ENVIRONMENTS\s+SURFACE\s+DESCRIPTION$/);
    const checkout = lines.find((l) => l.startsWith('new-checkout')) as string;
    expect(checkout).toMatch(/boolean\s+off\s+.*production:off/);
    expect(checkout).toContain('One-page checkout');
    // Columns are aligned: every row's second column starts where the header's does.
    const kindAt = (lines[0] as string).indexOf('KIND');
    for (const line of lines.slice(1)) expect(line.slice(kindAt - 2, kindAt)).toBe('  ');
    const json = await dimmer('flags', 'list', '--json');
    const keys = (JSON.parse(json.stdout).flags as { key: string }[]).map((f) => f.key).sort();
    expect(keys).toEqual(['dark-mode', 'new-checkout']);
  });

  it('gets one flag', async () => {
    const result = await dimmer('flags', 'get', 'new-checkout');
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/key:\s+new-checkout/);
    expect(result.stdout).toMatch(/production\s+no\s+half\s+0/);
  });

  it('updates a flag from a file and prints the preview of units changing variant', async () => {
    files.write(
      'flag-v2.yaml',
      FLAG_YAML.replace('range: [0, 500000]', 'range: [0, 600000]').replace(
        'enabled: false',
        'enabled: true',
      ),
    );
    const result = await dimmer('flags', 'update', 'new-checkout', '-f', 'flag-v2.yaml');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('Updated flag new-checkout.');
    // No condition reads the unit id here, so the preview is exact over the bucket space.
    expect(result.stdout).toMatch(/production\s+\d[\d,]* of 1,000,000 buckets/);
    const patch = await dimmer('flags', 'update', 'dark-mode', '-f', 'patch.json', '--patch');
    expect(patch.code).toBe(EXIT_FAILURE);
    expect(patch.stderr).toContain('cannot read patch.json: no such file');
    files.write('patch.json', JSON.stringify({ description: 'Follows the system theme' }));
    const patched = await dimmer('flags', 'update', 'dark-mode', '-f', 'patch.json', '--patch', '--json');
    expect(patched.code).toBe(EXIT_OK);
    expect(JSON.parse(patched.stdout).flag.description).toBe('Follows the system theme');
  });

  it('disables and enables a flag in one environment', async () => {
    const off = await dimmer('flags', 'disable', 'new-checkout', '--env', 'production');
    expect(off.code).toBe(EXIT_OK);
    expect(off.stdout).toContain('Disabled flag new-checkout in production.');
    expect(
      (await server.adminFetch('/api/v1/flags/new-checkout').then((r) => r.json())).environments.production
        .enabled,
    ).toBe(false);
    const on = await dimmer('flags', 'enable', 'new-checkout', '--env', 'production', '--json');
    expect(on.code).toBe(EXIT_OK);
    expect(JSON.parse(on.stdout).flag.environments.production.enabled).toBe(true);
  });

  it('prints server errors with their code and each issue, and exits 1', async () => {
    files.write(
      'bad-flag.json',
      JSON.stringify({ key: 'bad', kind: 'boolean', variants: { on: true }, defaultVariant: 'off' }),
    );
    const result = await dimmer('flags', 'create', '-f', 'bad-flag.json');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error VALIDATION_FAILED \(HTTP 400\): /);
    expect(result.stderr).toMatch(/\n {2}- defaultVariant: .+/);
    const missing = await dimmer('flags', 'get', 'nope');
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(missing.stderr).toMatch(/^Error NOT_FOUND \(HTTP 404\): .*nope/);
  });

  it('prints errors as JSON with --json', async () => {
    const result = await dimmer('flags', 'get', 'nope', '--json');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(JSON.parse(result.stderr).error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('rejects a file that is not valid YAML with the file name', async () => {
    files.write('broken.yaml', 'key: [unclosed');
    const result = await dimmer('flags', 'create', '-f', 'broken.yaml');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toContain('broken.yaml is not valid YAML');
  });
});

describe('tokens', () => {
  it('creates (secret once), lists without secrets, rotates and revokes admin tokens; refuses the last one', async () => {
    const created = await dimmer('tokens', 'create', '--name', 'ci');
    expect(created.code).toBe(EXIT_OK);
    expect(created.stdout).toMatch(/Secret \(shown only this once; store it now\):\n {2}dmr_admin_\S+\n/);
    const secret = /(dmr_admin_\S+)/.exec(created.stdout)?.[1] as string;
    const list = await dimmer('tokens', 'list');
    expect(list.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+OWNER\s+CREATED\s+REVOKED\n/);
    expect(list.stdout).toContain('ci');
    expect(list.stdout).not.toContain(secret);

    const rotated = JSON.parse((await dimmer('tokens', 'rotate', 'ci', '--json')).stdout);
    expect(rotated.token.name).toBe('ci');
    const asOld = await runCli(['flags', 'list', '--token', secret], { env: { DIMMER_URL: server.url } });
    expect(asOld.code).toBe(EXIT_FAILURE);
    expect(asOld.stderr).toContain('UNAUTHORIZED');
    const revoked = await dimmer('tokens', 'revoke', rotated.token.id);
    expect(revoked.code).toBe(EXIT_OK);
    expect(revoked.stdout).toContain(`Revoked admin token ${rotated.token.id} (ci)`);

    const last = await runCli(['tokens', 'revoke', 'env'], {
      env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken },
    });
    expect(last.code).toBe(EXIT_FAILURE);
    expect(last.stderr).toContain('last active admin token');
  });
});

describe('segments', () => {
  it('creates, lists, gets, updates and deletes a segment', async () => {
    files.write(
      'segment.yaml',
      'key: beta-testers\ndescription: Beta\nwhen: { attr: email, op: ends_with, value: "@acme.com" }\n',
    );
    const created = await dimmer('segments', 'create', '-f', 'segment.yaml');
    expect(created.code).toBe(EXIT_OK);
    expect(created.stdout).toContain('Created segment beta-testers.');
    const list = await dimmer('segments', 'list');
    expect(list.stdout).toMatch(/^KEY\s+DESCRIPTION\s+CONDITION\s+UPDATED\n/);
    expect(list.stdout).toMatch(/beta-testers\s+Beta\s+\{"attr":"email"/);
    files.write(
      'segment2.json',
      JSON.stringify({
        description: 'Staff',
        when: { attr: 'email', op: 'ends_with', value: '@dimmer.dev' },
      }),
    );
    const updated = await dimmer('segments', 'update', 'beta-testers', '-f', 'segment2.json', '--json');
    expect(JSON.parse(updated.stdout)).toMatchObject({ key: 'beta-testers', description: 'Staff' });
    const got = await dimmer('segments', 'get', 'beta-testers');
    expect(got.stdout).toContain('@dimmer.dev');
    const deleted = await dimmer('segments', 'delete', 'beta-testers');
    expect(deleted.code).toBe(EXIT_OK);
    expect((await dimmer('segments', 'list')).stdout).toBe('No segments.\n');
  });

  it('reports a delete conflict with its details', async () => {
    files.write(
      'seg-a.json',
      JSON.stringify({ key: 'seg-a', when: { attr: 'country', op: 'eq', value: 'SE' } }),
    );
    files.write('seg-b.json', JSON.stringify({ key: 'seg-b', when: { segment: 'seg-a' } }));
    expect((await dimmer('segments', 'create', '-f', 'seg-a.json')).code).toBe(EXIT_OK);
    expect((await dimmer('segments', 'create', '-f', 'seg-b.json')).code).toBe(EXIT_OK);
    const result = await dimmer('segments', 'delete', 'seg-a');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(/^Error CONFLICT \(HTTP 409\)/);
    expect(result.stderr).toMatch(/details: .*seg-b/);
  });
});

describe('keys', () => {
  it('creates a key (showing the secret once), lists it and revokes it', async () => {
    const created = await dimmer(
      'keys',
      'create',
      '--name',
      'web',
      '--env',
      'production',
      '--kind',
      'browser',
      '--origin',
      'https://shop.example',
      '--json',
    );
    expect(created.code).toBe(EXIT_OK);
    const { key, secret } = JSON.parse(created.stdout);
    expect(secret).toMatch(/^dmr_pub_/);
    expect(key.allowedOrigins).toEqual(['https://shop.example']);
    const human = await dimmer('keys', 'create', '--name', 'backend', '--env', 'production');
    expect(human.stdout).toMatch(
      /Created server key \S+ for production\.\nSecret \(shown only this once; store it now\):\n {2}dmr_srv_\S+\n/,
    );

    const list = await dimmer('keys', 'list', '--env', 'production');
    expect(list.stdout).toMatch(/^ID\s+NAME\s+ENVIRONMENT\s+KIND\s+PREFIX\s+CREATED\s+REVOKED\n/);
    expect(list.stdout).toContain(key.id);
    expect(list.stdout).not.toContain(secret);
    const revoked = await dimmer('keys', 'revoke', key.id);
    expect(revoked.code).toBe(EXIT_OK);
    expect(revoked.stdout).toContain(`Revoked key ${key.id}`);
    const after = JSON.parse((await dimmer('keys', 'list', '--json')).stdout);
    expect(after.keys.find((k: { id: string }) => k.id === key.id).revokedAt).not.toBeNull();
  });

  it('rejects an unknown key kind as a usage error', async () => {
    const result = await dimmer('keys', 'create', '--name', 'x', '--env', 'production', '--kind', 'mobile');
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('expected one of server, browser');
  });
});

describe('usage and configuration', () => {
  it('exits 2 on an unknown command, an unknown option and a missing argument', async () => {
    const unknown = await dimmer('flags', 'lst');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.stderr).toContain("unknown command 'lst'");
    expect((await dimmer('flags', 'list', '--colour')).code).toBe(EXIT_USAGE);
    const missing = await dimmer('flags', 'enable', 'new-checkout');
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.stderr).toContain("required option '--env <environment>' not specified");
    expect((await dimmer('flags', 'get')).code).toBe(EXIT_USAGE);
    expect((await dimmer('flags')).code).toBe(EXIT_USAGE);
  });

  it('exits 0 for --help and --version', async () => {
    const help = await dimmer('--help');
    expect(help.code).toBe(EXIT_OK);
    for (const group of ['serve', 'flags', 'segments', 'metrics', 'surfaces', 'rollouts', 'keys', 'events'])
      expect(help.stdout).toContain(group);
    expect((await dimmer('--version')).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('says how to give the admin token when none is set, and exits 2', async () => {
    const result = await runCli(['flags', 'list'], { env: { DIMMER_URL: server.url } });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain(
      'not signed in: run `dimmer login`, pass --token <token> or set DIMMER_TOKEN',
    );
  });

  it('takes --url and --token over the environment', async () => {
    const result = await runCli(
      ['flags', 'list', '--url', server.url, '--token', server.adminToken, '--json'],
      {
        env: { DIMMER_URL: 'http://127.0.0.1:1', DIMMER_TOKEN: 'wrong' },
      },
    );
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout).flags.length).toBeGreaterThan(0);
  });

  it('reports a wrong token with the server code', async () => {
    const result = await runCli(['flags', 'list', '--token', 'dmr_admin_wrong'], {
      env: { DIMMER_URL: server.url },
    });
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(/^Error UNAUTHORIZED \(HTTP 401\)/);
  });

  it('reports an unreachable server', async () => {
    const closed = await createTestServer();
    const url = closed.url;
    await closed.close();
    const result = await runCli(['flags', 'list', '--url', url, '--token', 't']);
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(/^Error NETWORK_ERROR: cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });
});
