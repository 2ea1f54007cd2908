/**
 * The SDK against the real Dimmer server on 127.0.0.1: changes and rollbacks reach the client and the
 * OpenFeature providers; an outage is served as STALE and recovers; bootstrap and code defaults at start.
 */
import { ProviderStatus, OpenFeature as ServerOpenFeature } from '@openfeature/server-sdk';
import { OpenFeature as WebOpenFeature } from '@openfeature/web-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBrowserClient, createClient, type DimmerClient, silentLogger } from '../src/index.ts';
import { DimmerServerProvider } from '../src/openfeature-server.ts';
import { DimmerWebProvider } from '../src/openfeature-web.ts';
import { waitUntil } from './fake-server.ts';
import { E2E_FLAGS, RealServer, rolloutRules } from './real-server.ts';

const FAST = {
  logger: silentLogger,
  reconnectBackoff: { initialMs: 50, maxMs: 200 },
  pollIntervalMs: 200,
  requestTimeoutMs: 2_000,
  events: { flushIntervalMs: 3_600_000 },
};

const server = new RealServer();
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await server.start();
  await server.seed();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await ServerOpenFeature.close();
  await WebOpenFeature.close();
});
afterAll(async () => {
  await server.dispose();
});

function serverClient(extra: Partial<Parameters<typeof createClient>[0]> = {}): DimmerClient {
  const client = createClient({ url: server.url, clientKey: server.keys.server, ...FAST, ...extra });
  closers.push(() => client.close());
  return client;
}

/** Waits until the client serves `on` for new-checkout to u1 (after a rollback or a resume). */
function waitForCheckout(client: DimmerClient, on: boolean, what: string): Promise<void> {
  return waitUntil(
    () => client.getBooleanValue('new-checkout', !on, { targetingKey: 'u1' }) === on,
    5_000,
    what,
  );
}

describe('SDK against the real server', () => {
  it('a flag change and a rollback reach the OpenFeature server provider', async () => {
    const client = serverClient();
    await ServerOpenFeature.setProviderAndWait('e2e', new DimmerServerProvider(client));
    const of = ServerOpenFeature.getClient('e2e');
    expect(await of.getStringValue('banner', 'none', { targetingKey: 'u1' })).toBe('Welcome');
    expect(await of.getStringValue('banner', 'none', { targetingKey: 'u1', email: 'a@acme.com' })).toBe(
      'Hello, colleague',
    );
    expect(await of.getNumberValue('max-items', 0, { targetingKey: 'u1' })).toBe(50);
    expect(await of.getObjectValue('theme', {}, { targetingKey: 'u1' })).toEqual({ color: 'white' });
    expect(await of.getBooleanDetails('new-checkout', false, { targetingKey: 'u1' })).toMatchObject({
      value: true,
      reason: 'SPLIT',
    });
    await waitUntil(() => client.status().streaming, 5_000, 'stream');

    await server.patchFlag('banner', { variants: { plain: 'Hi there', staff: 'Hello, colleague' } });
    await waitUntil(
      () => client.getStringValue('banner', 'none', { targetingKey: 'u1' }) === 'Hi there',
      5_000,
      'change',
    );

    // Rollback: reach to 0 sends every unit to control.
    await server.putEnvironment('new-checkout', { enabled: true, rules: rolloutRules(0) });
    await waitForCheckout(client, false, 'rollback');
    expect(await of.getBooleanValue('new-checkout', true, { targetingKey: 'u1' })).toBe(false);
    await server.putEnvironment('new-checkout', { enabled: true, rules: rolloutRules(1_000_000) });
    await waitForCheckout(client, true, 'resume');
  });

  it('a flag change reaches a streaming client as a patch, with no config request after the first', async () => {
    const paths: string[] = [];
    const client = serverClient({
      // The defaults a real deployment has (jittered refetch), with every request counted.
      reconnectBackoff: { initialMs: 1_000, maxMs: 30_000 },
      pollIntervalMs: 30_000,
      fetch: (input, init) => {
        paths.push(new URL(String(input)).pathname);
        return fetch(input, init);
      },
    });
    await client.waitForFirstAttempt();
    await waitUntil(() => client.status().streaming, 5_000, 'stream');
    const changes: Array<{ version: number; flagsChanged: string[] }> = [];
    client.on('change', (change) => changes.push(change));
    const before = client.status().configVersion as number;

    await server.patchFlag('max-items', { variants: { few: 3, many: 60 } });
    await waitUntil(
      () => client.getNumberValue('max-items', 0, { targetingKey: 'u1' }) === 60,
      5_000,
      'change',
    );
    await server.putEnvironment('new-checkout', { enabled: true, rules: rolloutRules(0) });
    await waitForCheckout(client, false, 'rollback');
    expect(paths.filter((path) => path === '/sdk/v1/config')).toEqual(['/sdk/v1/config']);
    expect(changes.map((c) => c.flagsChanged)).toEqual([['max-items'], ['new-checkout']]);
    expect(changes.map((c) => c.version)).toEqual([before + 1, before + 2]);
    // What the patches built is what the server serves for that version.
    const response = await fetch(`${server.url}/sdk/v1/config`, {
      headers: { authorization: `Bearer ${server.keys.server}` },
    });
    expect(client.snapshot()).toEqual(await response.json());
    expect(client.status()).toMatchObject({ state: 'READY', source: 'server', configVersion: before + 2 });
    await server.putEnvironment('new-checkout', { enabled: true, rules: rolloutRules(1_000_000) });
    await server.patchFlag('max-items', { variants: { few: 3, many: 50 } });
  });

  it('serves the last config as STALE while the server is down, then recovers', async () => {
    const client = serverClient();
    await ServerOpenFeature.setProviderAndWait('outage', new DimmerServerProvider(client));
    const of = ServerOpenFeature.getClient('outage');
    await waitUntil(() => client.status().streaming, 5_000, 'stream');
    const before = await of.getNumberValue('max-items', 0, { targetingKey: 'u1' });
    await server.stop();
    await waitUntil(() => of.providerStatus === ProviderStatus.STALE, 5_000, 'STALE');
    expect(client.status()).toMatchObject({ state: 'STALE', source: 'server' });
    expect(await of.getNumberValue('max-items', 0, { targetingKey: 'u1' })).toBe(before);
    await server.start();
    await waitUntil(() => of.providerStatus === ProviderStatus.READY, 10_000, 'READY again');
    await server.patchFlag('max-items', { defaultVariant: 'few' });
    await waitUntil(
      () => client.getNumberValue('max-items', 0, { targetingKey: 'u1' }) === 3,
      5_000,
      'change after recovery',
    );
  });

  it('serves the bootstrap when the server is down at start, and code defaults with ERROR without one', async () => {
    const dead = 'http://127.0.0.1:9';
    const bootstrap = {
      environment: 'production',
      version: 1,
      segments: [],
      flags: [
        {
          ...E2E_FLAGS[1]!,
          salt: 's',
          hashVersion: 1 as const,
          enabled: true,
          rules: [],
          defaultVariant: 'few',
        },
      ].map(({ environments: _e, ...flag }) => flag),
    };
    const withBootstrap = createClient({ url: dead, clientKey: 'x', ...FAST, bootstrap });
    closers.push(() => withBootstrap.close());
    await ServerOpenFeature.setProviderAndWait('boot', new DimmerServerProvider(withBootstrap));
    const boot = ServerOpenFeature.getClient('boot');
    expect(await boot.getNumberValue('max-items', 0, { targetingKey: 'u' })).toBe(3);

    const bare = createClient({ url: dead, clientKey: 'x', ...FAST });
    closers.push(() => bare.close());
    await ServerOpenFeature.setProviderAndWait('bare', new DimmerServerProvider(bare)).catch(() => {});
    const none = ServerOpenFeature.getClient('bare');
    expect(await none.getNumberDetails('max-items', 7, { targetingKey: 'u' })).toMatchObject({
      value: 7,
      reason: 'ERROR',
    });
  });

  it('the web provider resolves remotely, follows context changes and config changes', async () => {
    await WebOpenFeature.setContext({ targetingKey: 'w1' });
    const provider = new DimmerWebProvider({ url: server.url, clientKey: server.keys.browser, ...FAST });
    await WebOpenFeature.setProviderAndWait(provider);
    const of = WebOpenFeature.getClient();
    const plain = of.getStringValue('banner', 'none');
    await WebOpenFeature.setContext({ targetingKey: 'w1', email: 'w@acme.com' });
    expect(of.getStringValue('banner', 'none')).toBe('Hello, colleague');
    await WebOpenFeature.setContext({ targetingKey: 'w1' });
    expect(of.getStringValue('banner', 'none')).toBe(plain);
    await waitUntil(() => provider.client?.status().streaming === true, 5_000, 'stream');
    await server.patchFlag('banner', { variants: { plain: 'Web change', staff: 'Hello, colleague' } });
    await waitUntil(() => of.getStringValue('banner', 'none') === 'Web change', 5_000, 'web change');
  });

  it('a browser key cannot read the config; the browser client resolves instead', async () => {
    const local = createClient({ url: server.url, clientKey: server.keys.browser, ...FAST, stream: false });
    closers.push(() => local.close());
    expect((await local.waitForFirstAttempt()).state).toBe('ERROR');
    const remote = createBrowserClient({
      url: server.url,
      clientKey: server.keys.browser,
      ...FAST,
      context: { targetingKey: 'b1' },
    });
    closers.push(() => remote.close());
    expect((await remote.waitForFirstAttempt()).state).toBe('READY');
    expect(remote.getObjectValue('theme', {})).toEqual({ color: 'white' });
  });
});
