/**
 * `dimmer login` against a real OpenID Connect provider (oidc-provider on 127.0.0.1) and a real server: the
 * device-code flow (the person confirms the printed code in the provider's pages), the credential stored 0600
 * in the config folder and used by later commands, `whoami`, `logout`; and a service token stored with
 * `--with-token`.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, createMemoryStores, type Stores } from '@dimmer/server';
import {
  reservePort,
  startTestProvider,
  type TestProvider,
  walkProvider,
} from '@dimmer/server/testing/oidc-provider';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsPath } from './credentials.ts';
import { main } from './main.ts';
import { captureStream } from './testing.ts';

let provider: TestProvider;
let app: FastifyInstance;
let stores: Stores;
let base: string;
const adminToken = `dmr_admin_${'c'.repeat(43)}`;
const config = mkdtempSync(join(tmpdir(), 'dimmer-cli-login-'));
const env = { XDG_CONFIG_HOME: config };

/** Runs the CLI; each wait of the device poll first lets `onWait` act (the person confirming in a browser). */
async function run(args: string[], onWait?: (stderr: string) => Promise<void>) {
  const stdout = captureStream();
  const stderr = captureStream();
  let waited = false;
  const code = await main(args, {
    env,
    cwd: process.cwd(),
    stdout,
    stderr,
    sleep: async () => {
      if (!waited && onWait !== undefined) {
        waited = true;
        await onWait(stderr.text);
      }
    },
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  provider = await startTestProvider({
    people: { rita: { email: 'rita@example.com', name: 'Rita Releaser', groups: ['release-managers'] } },
  });
  const port = await reservePort();
  base = `http://127.0.0.1:${port}`;
  stores = createMemoryStores();
  app = await buildApp({
    stores,
    clock: { now: () => Date.now() },
    adminToken,
    config: {
      controllerIntervalMs: 0,
      dashboardDir: false,
      people: {
        oidc: {
          issuer: provider.issuer,
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          redirectUrl: `${base}/auth/callback`,
          providerName: 'Test IdP',
          scopes: 'openid email profile groups',
          groupsClaim: 'groups',
        },
        groupRoles: [{ group: 'release-managers', environment: '*', role: 'releaser' }],
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port });
  provider.serve(`${base}/auth/callback`);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await stores?.close();
  await provider?.close();
  rmSync(config, { recursive: true, force: true });
});

describe('dimmer login', () => {
  it('signs in with the device-code flow and stores the session 0600 for later commands', async () => {
    const login = await run(['login', '--url', base], async (stderr) => {
      const url = /open (\S+)/.exec(stderr)?.[1];
      expect(url).toBeDefined();
      expect(stderr).toMatch(/confirm the code [A-Z-]+/);
      await walkProvider(url as string, 'rita');
    });
    expect(login.stderr).toContain('To sign in with Test IdP');
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('Signed in to');
    expect(login.stdout).toContain('user:rita@example.com (person); role releaser');
    const path = credentialsPath(env);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'dimmer')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    expect(stored.servers[base]).toMatchObject({ kind: 'session', actor: 'user:rita@example.com' });
    expect(stored.servers[base].token).toMatch(/^dmr_ses_/);

    // Later commands use the stored session; the audit log names the person.
    const whoami = await run(['whoami', '--url', base, '--json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ actor: 'user:rita@example.com', role: 'releaser' });
    const flags = await run(['flags', 'list', '--url', base]);
    expect(flags.code, flags.stderr).toBe(0);
    // A releaser cannot make keys: the server's 403 comes through.
    const key = await run(['keys', 'create', '--url', base, '--name', 'web', '--env', 'production']);
    expect(key.code).toBe(1);
    expect(key.stderr).toContain('FORBIDDEN');

    const logout = await run(['logout', '--url', base]);
    expect(logout.code).toBe(0);
    const session = stored.servers[base].token as string;
    const after = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${session}` } });
    expect(after.status).toBe(401);
    const none = await run(['whoami', '--url', base]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('not signed in');
  }, 120_000);

  it('stores a service token with --with-token', async () => {
    const login = await run(['login', '--with-token', '--url', base, '--token', adminToken]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('token:env (token); role admin');
    const whoami = await run(['whoami', '--url', base, '--json']);
    expect(JSON.parse(whoami.stdout).actor).toBe('token:env');
  }, 60_000);
});
