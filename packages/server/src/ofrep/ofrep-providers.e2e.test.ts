/**
 * The community OpenFeature OFREP providers, unmodified, against a Dimmer server listening on 127.0.0.1.
 */
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { ErrorCode, OpenFeature as ServerOpenFeature } from '@openfeature/server-sdk';
import {
  ClientProviderEvents,
  OpenFeature as WebOpenFeature,
  type Provider as WebProvider,
} from '@openfeature/web-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eTarget, startE2eTarget } from '../../testing/e2e-target.ts';

/** Poll interval of the web provider in these tests, in milliseconds. */
const WEB_POLL_MS = 100;

let target: E2eTarget;
beforeAll(async () => {
  target = await startE2eTarget();
});
afterAll(async () => {
  await ServerOpenFeature.close();
  await WebOpenFeature.close();
  await target.close();
});

describe('@openfeature/server-sdk with @openfeature/ofrep-provider', () => {
  beforeAll(async () => {
    const provider = new OFREPProvider({
      baseUrl: target.baseUrl,
      headers: [['Authorization', `Bearer ${target.keys.serverA}`]],
    });
    await ServerOpenFeature.setProviderAndWait('dimmer-server', provider);
  });
  const client = () => ServerOpenFeature.getClient('dimmer-server');
  const context = { targetingKey: 'user-1', email: 'ann@acme.com' };

  it('resolves boolean, string, number and object flags', async () => {
    const bool = await client().getBooleanDetails('new-checkout', false, context);
    expect(bool).toMatchObject({ value: true, variant: 'on', reason: 'STATIC' });
    expect(bool.errorCode).toBeUndefined();
    const text = await client().getStringDetails('banner-text', 'code default', context);
    expect(text).toMatchObject({ value: 'Hello, colleague', variant: 'staff', reason: 'TARGETING_MATCH' });
    expect(text.flagMetadata).toEqual({ ruleId: 'staff' });
    expect(await client().getNumberValue('max-items', 1, context)).toBe(50);
    expect(await client().getObjectValue('theme', {}, context)).toEqual({ color: 'white', dense: false });
  });

  it('falls back to the code default with FLAG_NOT_FOUND for a missing flag', async () => {
    const details = await client().getBooleanDetails('no-such-flag', true, context);
    expect(details).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
  });

  it('falls back to the code default with TYPE_MISMATCH when the flag has another type', async () => {
    const details = await client().getStringDetails('new-checkout', 'code default', context);
    expect(details).toMatchObject({
      value: 'code default',
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
  });

  it('sees a config change on the next evaluation', async () => {
    await target.changeBannerText('Server-side hello');
    expect(await client().getStringValue('banner-text', 'code default', { targetingKey: 'user-2' })).toBe(
      'Server-side hello',
    );
  });
});

describe('@openfeature/web-sdk with @openfeature/ofrep-web-provider', () => {
  beforeAll(async () => {
    // Nothing of the browser is needed: cacheMode 'disabled' avoids localStorage, and Node has fetch and crypto.
    const provider = new OFREPWebProvider({
      baseUrl: target.baseUrl,
      headers: [['Authorization', `Bearer ${target.keys.browserA}`]],
      cacheMode: 'disabled',
      pollInterval: WEB_POLL_MS,
    });
    await WebOpenFeature.setContext({ targetingKey: 'user-1', email: 'ann@acme.com' });
    // The provider's `hooks?: Hook[]` trips exactOptionalPropertyTypes only; at runtime it is a Provider.
    await WebOpenFeature.setProviderAndWait(provider as WebProvider);
  });
  const client = () => WebOpenFeature.getClient();

  it('resolves boolean, string, number and object flags from one bulk evaluation', () => {
    expect(client().getBooleanDetails('new-checkout', false)).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'STATIC',
    });
    expect(client().getStringDetails('banner-text', 'code default')).toMatchObject({
      value: 'Hello, colleague',
      reason: 'TARGETING_MATCH',
    });
    expect(client().getNumberValue('max-items', 1)).toBe(50);
    expect(client().getObjectValue('theme', {})).toEqual({ color: 'white', dense: false });
  });

  it('falls back to the code default with FLAG_NOT_FOUND and TYPE_MISMATCH', () => {
    expect(client().getBooleanDetails('no-such-flag', true)).toMatchObject({
      value: true,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    expect(client().getNumberDetails('banner-text', 7)).toMatchObject({
      value: 7,
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
  });

  it('re-evaluates on a context change', async () => {
    await WebOpenFeature.setContext({ targetingKey: 'user-3', email: 'bob@example.com' });
    const details = client().getStringDetails('banner-text', 'code default');
    expect(details.errorCode).toBeUndefined();
    expect(details.variant).toBe('plain');
    expect(details.flagMetadata).toEqual({ dimmerReason: 'DEFAULT' });
  });

  it('picks up a config change by polling (ETag revalidation) and emits ConfigurationChanged', async () => {
    const changed = new Promise<void>((resolve) => {
      client().addHandler(ClientProviderEvents.ConfigurationChanged, () => resolve());
    });
    await target.changeBannerText('Browser hello');
    await changed;
    expect(client().getStringValue('banner-text', 'code default')).toBe('Browser hello');
  });
});
