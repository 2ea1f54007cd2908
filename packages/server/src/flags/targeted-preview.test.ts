/**
 * The flag-edit preview through the HTTP API: a targeted rule's split widened from 25% to 50% moves a quarter
 * of the units the rule targets (the plain sample, without attributes, sees nobody move); untargeted splits keep
 * the exact bucket-range preview; nothing is saved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';
import { attributesFor } from './targeted-preview.ts';

let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

function flag(share: number, allShare = 10): Record<string, unknown> {
  return {
    key: 'nordic-checkout',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: {
      production: {
        enabled: true,
        rules: [
          {
            id: 'beta-nordics',
            when: { all: [{ attr: 'country', op: 'in', value: ['SE', 'NO'] }, { segment: 'beta' }] },
            serve: { split: [{ variant: 'on', range: [0, share * 10_000] }] },
          },
          { id: 'everyone', serve: { split: [{ variant: 'on', range: [0, allShare * 10_000] }] } },
        ],
      },
    },
  };
}

describe('flag preview with targeted rules', () => {
  it('previews the share of targeted units that change, and keeps the exact preview for untargeted splits', async () => {
    t = await buildTestApp();
    const segment = await t.admin('POST', '/api/v1/segments', {
      key: 'beta',
      when: { attr: 'user.plan', op: 'eq', value: 'beta' },
    });
    expect(segment.status, JSON.stringify(segment.json)).toBe(201);
    expect((await t.admin('POST', '/api/v1/flags', flag(25))).status).toBe(201);
    const before = (await t.admin('GET', '/api/v1/flags/nordic-checkout')).json;

    const widened = await t.admin('POST', '/api/v1/flags/nordic-checkout/preview', flag(50));
    expect(widened.status, JSON.stringify(widened.json)).toBe(200);
    // The plain sample has no country or plan: the targeted rule matches none of it.
    expect(widened.json.preview.production.changed).toBe(0);
    const [rule] = widened.json.targeted.production;
    expect(rule.rule).toBe('beta-nordics');
    expect(rule.attributes).toEqual({ country: 'SE', 'user.plan': 'beta' });
    expect(rule.share).toBeGreaterThan(0.23);
    expect(rule.share).toBeLessThan(0.27);
    expect(rule.transitions).toEqual([{ from: 'off', to: 'on', count: rule.changed }]);
    // Nothing was saved.
    expect((await t.admin('GET', '/api/v1/flags/nordic-checkout')).json).toEqual(before);

    // An untargeted split: the plain sample's exact bucket-range preview, 10% → 20%.
    const everyone = await t.admin('POST', '/api/v1/flags/nordic-checkout/preview', flag(25, 20));
    expect(everyone.json.preview.production.share).toBeGreaterThan(0.08);
    expect(everyone.json.preview.production.share).toBeLessThan(0.12);
    expect(everyone.json.targeted.production[0].changed).toBe(0);

    // The same validation as a save, naming the field.
    const bad = await t.admin('POST', '/api/v1/flags/nordic-checkout/preview', {
      ...flag(50),
      defaultVariant: 'maybe',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(bad.json.error.details.issues)).toContain('defaultVariant');
    expect((await t.admin('POST', '/api/v1/flags/nope/preview', flag(50))).status).toBe(404);
  }, 60_000);

  it('makes attributes for each operator it can satisfy, and none for a regular expression', () => {
    const none = new Map();
    expect(attributesFor({ attr: 'email', op: 'ends_with', value: '@acme.com' }, none)).toEqual({
      email: 'x@acme.com',
    });
    expect(attributesFor({ attr: 'age', op: 'gt', value: 17 }, none)).toEqual({ age: 18 });
    expect(attributesFor({ attr: 'email', op: 'matches', value: '^a' }, none)).toBeNull();
    expect(
      attributesFor(
        {
          any: [
            { attr: 'email', op: 'matches', value: '^a' },
            { attr: 'x', op: 'exists' },
          ],
        },
        none,
      ),
    ).toEqual({ x: 'x' });
    expect(attributesFor({ not: { attr: 'country', op: 'eq', value: 'US' } }, none)).toEqual({
      country: 'US-other',
    });
    expect(
      attributesFor(
        {
          all: [
            { attr: 'a', op: 'eq', value: 1 },
            { attr: 'a', op: 'eq', value: 2 },
          ],
        },
        none,
      ),
    ).toBeNull();
  });
});
