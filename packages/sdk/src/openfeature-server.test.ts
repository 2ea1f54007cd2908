import { OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeServer, SERVER_KEY, TEST_SYNC, waitUntil } from '../test/fake-server.ts';
import { makeSnapshot } from '../test/fixtures.ts';
import { createClient, type DimmerClient } from './client.ts';
import { DimmerServerProvider } from './openfeature-server.ts';
import { silentLogger } from './platform.ts';

const servers: FakeServer[] = [];
let domainCount = 0;
afterEach(async () => {
  await OpenFeature.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function setup(options: { serverDown?: boolean; bootstrap?: boolean } = {}) {
  const server = await new FakeServer(makeSnapshot(1)).start();
  servers.push(server);
  if (options.serverDown) await server.stop();
  const client: DimmerClient = createClient({
    url: server.url,
    clientKey: SERVER_KEY,
    logger: silentLogger,
    ...TEST_SYNC,
    ...(options.bootstrap ? { bootstrap: makeSnapshot(1, { banner: 'red' }) } : {}),
    events: { flushIntervalMs: 3_600_000 },
  });
  const provider = new DimmerServerProvider(client);
  const domain = `server-test-${domainCount++}`;
  await OpenFeature.setProviderAndWait(domain, provider).catch(() => {});
  return { server, client, provider, of: OpenFeature.getClient(domain) };
}

describe('DimmerServerProvider', () => {
  it('resolves every value type with variants, reasons and error codes', async () => {
    const { of } = await setup();
    const ctx = { targetingKey: 'user-vip', email: 'a@acme.test' };
    expect(await of.getStringDetails('banner', 'none', ctx)).toMatchObject({
      value: 'green',
      variant: 'green',
      reason: 'TARGETING_MATCH',
      flagMetadata: { configVersion: 1, ruleId: 'staff' },
    });
    expect(await of.getNumberValue('limit', 0, ctx)).toBe(100);
    expect(await of.getObjectValue('theme', {}, ctx)).toEqual({ mode: 'light', contrast: 1 });
    expect((await of.getBooleanDetails('new-checkout', false, ctx)).reason).toBe('SPLIT');
    expect(await of.getNumberDetails('banner', 5, ctx)).toMatchObject({
      value: 5,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(await of.getBooleanDetails('missing', true, ctx)).toMatchObject({
      value: true,
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('emits CONFIGURATION_CHANGED with the changed flags, and STALE then READY around an outage', async () => {
    const { server, client, of } = await setup();
    await waitUntil(() => client.status().streaming);
    const seen: string[] = [];
    let changed: string[] | undefined;
    of.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
      seen.push('CHANGED');
      changed = details?.flagsChanged;
    });
    of.addHandler(ProviderEvents.Stale, () => seen.push('STALE'));
    of.addHandler(ProviderEvents.Ready, () => seen.push('READY'));
    server.publish(makeSnapshot(2, { banner: 'red' }));
    await waitUntil(() => seen.includes('CHANGED'));
    expect(changed).toEqual(['banner']);
    expect(await of.getStringValue('banner', 'none', { targetingKey: 'u' })).toBe('red');
    const port = server.port;
    await server.stop();
    await waitUntil(() => of.providerStatus === ProviderStatus.STALE, 5_000, 'STALE');
    expect(await of.getStringValue('banner', 'none', { targetingKey: 'u' })).toBe('red');
    await server.start(port);
    await waitUntil(() => of.providerStatus === ProviderStatus.READY, 5_000, 'READY');
    expect(seen).toEqual(['READY', 'CHANGED', 'STALE', 'READY']);
  });

  it('serves the bootstrap when the server is down at start, as STALE', async () => {
    const { of } = await setup({ serverDown: true, bootstrap: true });
    expect(await of.getStringValue('banner', 'none', { targetingKey: 'u' })).toBe('red');
    await waitUntil(() => of.providerStatus === ProviderStatus.STALE, 5_000, 'STALE');
  });

  it('returns code defaults with reason ERROR when nothing can be served', async () => {
    const { of } = await setup({ serverDown: true });
    expect(of.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await of.getBooleanDetails('new-checkout', true, { targetingKey: 'u' })).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'PROVIDER_NOT_READY',
    });
  });

  it('maps track to a Dimmer event for the targeting key', async () => {
    const { server, of } = await setup();
    of.track('checkout_error', { targetingKey: 'u9' }, { value: 2 });
    await OpenFeature.close();
    expect(server.batches.flatMap((b) => b.events)).toEqual([
      { type: 'track', name: 'checkout_error', unit: 'u9', value: 2, timestamp: expect.any(String) },
    ]);
  });
});
