import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { BROWSER_KEY, FakeServer, TEST_SYNC, waitUntil } from '../test/fake-server.ts';
import { makeSnapshot } from '../test/fixtures.ts';
import { DimmerWebProvider } from './openfeature-web.ts';
import { silentLogger } from './platform.ts';

const servers: FakeServer[] = [];
afterEach(async () => {
  await OpenFeature.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('DimmerWebProvider', () => {
  it('resolves for the OpenFeature context, re-resolves on context change and follows config changes', async () => {
    const server = await new FakeServer(makeSnapshot(1)).start();
    servers.push(server);
    const provider = new DimmerWebProvider({
      url: server.url,
      clientKey: BROWSER_KEY,
      logger: silentLogger,
      ...TEST_SYNC,
      events: { flushIntervalMs: 3_600_000 },
    });
    await OpenFeature.setContext({ targetingKey: 'u1' });
    await OpenFeature.setProviderAndWait(provider);
    const of = OpenFeature.getClient();
    expect(of.getStringDetails('banner', 'none')).toMatchObject({
      value: 'blue',
      variant: 'blue',
      reason: 'TARGETING_MATCH',
    });
    expect(of.getNumberValue('limit', 0)).toBe(10);
    expect(of.getObjectValue('theme', {})).toEqual({ mode: 'light', contrast: 1 });
    expect(of.getBooleanDetails('banner', true)).toMatchObject({ value: true, errorCode: 'TYPE_MISMATCH' });

    await OpenFeature.setContext({ targetingKey: 'user-vip', email: 'x@acme.test' });
    expect(of.getNumberValue('limit', 0)).toBe(100);
    expect(of.getStringValue('banner', 'none')).toBe('green');

    await OpenFeature.setContext({ targetingKey: 'u1' });
    await waitUntil(() => provider.client?.status().streaming === true);
    let changed: string[] | undefined;
    of.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
      changed = details?.flagsChanged;
    });
    server.publish(makeSnapshot(2, { banner: 'red' }));
    await waitUntil(() => changed !== undefined);
    expect(changed).toEqual(['banner']);
    expect(of.getStringValue('banner', 'none')).toBe('red');

    of.track('purchase', { value: 5 });
    await OpenFeature.close();
    expect(server.batches.flatMap((b) => b.events)).toEqual([
      { type: 'track', name: 'purchase', unit: 'u1', value: 5, timestamp: expect.any(String) },
    ]);
  });
});
