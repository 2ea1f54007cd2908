import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_KEY_LENGTH, MAX_RULES } from './limits.ts';
import type { FlagConfig, Segment, ValidationResult } from './model.ts';
import { validateFlagConfig, validateSegment, validateSnapshotFlag } from './validate.ts';

function validFlag(): FlagConfig {
  return {
    key: 'new-checkout',
    kind: 'boolean',
    surface: 'checkout',
    description: 'One-page checkout',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: 'b7f0c2e4a1d95e3f',
    hashVersion: 1,
    environments: {
      production: {
        enabled: true,
        overrides: { 'user-42': 'on' },
        rules: [
          {
            id: 'staff',
            when: { attr: 'email', op: 'ends_with', value: '@acme.com' },
            serve: { variant: 'on' },
          },
          {
            id: 'beta-nordics',
            when: { all: [{ attr: 'country', op: 'in', value: ['SE', 'NO'] }, { segment: 'beta-testers' }] },
            bucketBy: 'targetingKey',
            serve: { split: [{ variant: 'on', range: [0, 250000] }] },
          },
          {
            id: 'rollout',
            rollout: 'ro_8f3k2',
            serve: {
              split: [
                { variant: 'on', range: [0, 10000], arm: 'treatment' },
                { variant: 'off', range: [10000, 1000000], arm: 'control' },
              ],
            },
          },
        ],
      },
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the tests edit arbitrary paths of a JSON document, valid or not.
type Json = any;

/** A valid flag with one edit applied at a path. */
function edit(mutate: (flag: Json) => void): unknown {
  const flag: Json = structuredClone(validFlag());
  mutate(flag);
  return flag;
}

function issuesOf<T>(result: ValidationResult<T>): { path: string; message: string }[] {
  return result.ok ? [] : result.issues;
}

function expectIssue<T>(result: ValidationResult<T>, path: string, fragment: string): void {
  const issues = issuesOf(result);
  expect(issues, JSON.stringify(issues)).toContainEqual({ path, message: expect.stringContaining(fragment) });
}

const rules = 'environments.production.rules';

describe('validateFlagConfig', () => {
  it('accepts the documented example and returns it', () => {
    const flag = validFlag();
    const result = validateFlagConfig(flag, { segments: ['beta-testers'] });
    expect(result).toEqual({ ok: true, value: flag });
  });

  it('reports unknown segments only when the known segments are given', () => {
    expect(validateFlagConfig(validFlag()).ok).toBe(true);
    expectIssue(
      validateFlagConfig(validFlag(), { segments: [] }),
      `${rules}[1].when.all[1].segment`,
      'unknown segment "beta-testers"',
    );
  });

  it('rejects unknown fields at every level', () => {
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.owner = 'me';
        }),
      ),
      'owner',
      'unknown field',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.paused = true;
        }),
      ),
      'environments.production.paused',
      'unknown field',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[0].weight = 1;
        }),
      ),
      `${rules}[0].weight`,
      'unknown field',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[0].when.negate = true;
        }),
      ),
      `${rules}[0].when.negate`,
      'unknown field',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[0].weight = 5;
        }),
      ),
      `${rules}[2].serve.split[0].weight`,
      'unknown field',
    );
  });

  it('does not coerce types', () => {
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.variants.on = 'true';
        }),
      ),
      'variants.on',
      'expected a boolean',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.enabled = 1;
        }),
      ),
      'environments.production.enabled',
      'expected true or false',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.hashVersion = '1';
        }),
      ),
      'hashVersion',
      'expected 1',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[0].range = ['0', 10000];
        }),
      ),
      `${rules}[2].serve.split[0].range`,
      'integers',
    );
  });

  it('checks variant values against the flag kind', () => {
    const base = { key: 'f', salt: 's1', hashVersion: 1, environments: {} };
    expect(
      validateFlagConfig({ ...base, kind: 'number', variants: { a: 1, b: 2.5 }, defaultVariant: 'a' }).ok,
    ).toBe(true);
    expectIssue(
      validateFlagConfig({ ...base, kind: 'number', variants: { a: Number.NaN }, defaultVariant: 'a' }),
      'variants.a',
      'finite number',
    );
    expectIssue(
      validateFlagConfig({ ...base, kind: 'string', variants: { a: 3 }, defaultVariant: 'a' }),
      'variants.a',
      'expected a string',
    );
    expectIssue(
      validateFlagConfig({ ...base, kind: 'object', variants: { a: [1] }, defaultVariant: 'a' }),
      'variants.a',
      'JSON object',
    );
    expect(
      validateFlagConfig({
        ...base,
        kind: 'object',
        variants: { a: { x: [1, { y: null }] } },
        defaultVariant: 'a',
      }).ok,
    ).toBe(true);
    expectIssue(
      validateFlagConfig({ ...base, kind: 'text', variants: { a: 'x' }, defaultVariant: 'a' }),
      'kind',
      'expected one of boolean',
    );
  });

  it('reports unknown variant references', () => {
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.defaultVariant = 'maybe';
        }),
      ),
      'defaultVariant',
      'unknown variant "maybe"',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.overrides.u = 'maybe';
        }),
      ),
      'environments.production.overrides.u',
      'unknown variant',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[0].serve.variant = 'maybe';
        }),
      ),
      `${rules}[0].serve.variant`,
      'unknown variant',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[1].variant = 'maybe';
        }),
      ),
      `${rules}[2].serve.split[1].variant`,
      'unknown variant',
    );
  });

  it('reports overlapping and out-of-range bucket ranges', () => {
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[1].range = [5000, 1000000];
        }),
      ),
      `${rules}[2].serve.split[1].range`,
      'overlaps split[0]',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[1].range = [10000, 1000001];
        }),
      ),
      `${rules}[2].serve.split[1].range`,
      '<= 1000000',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[0].range = [-1, 10000];
        }),
      ),
      `${rules}[2].serve.split[0].range`,
      '0 <= start',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[0].range = [10, 10];
        }),
      ),
      `${rules}[2].serve.split[0].range`,
      'start < end',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[2].serve.split[0].range = [0.5, 10];
        }),
      ),
      `${rules}[2].serve.split[0].range`,
      'integers',
    );
  });

  it('reports unknown operators and operands of the wrong type', () => {
    const at = `${rules}[0].when`;
    const withWhen = (when: unknown) =>
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[0].when = when;
        }),
      );
    expectIssue(withWhen({ attr: 'a', op: 'like', value: 'x' }), `${at}.op`, 'expected one of eq, neq');
    expectIssue(withWhen({ attr: 'a', op: 'in', value: 'SE' }), `${at}.value`, 'non-empty array');
    expectIssue(withWhen({ attr: 'a', op: 'gt', value: '5' }), `${at}.value`, 'finite number');
    expectIssue(withWhen({ attr: 'a', op: 'semver_gt', value: '1.2' }), `${at}.value`, 'semantic version');
    expectIssue(
      withWhen({ attr: 'a', op: 'before', value: '2025-03-01T10:00:00' }),
      `${at}.value`,
      'ISO 8601',
    );
    expectIssue(withWhen({ attr: 'a', op: 'exists', value: true }), `${at}.value`, 'no value');
    expectIssue(withWhen({ attr: 'a', op: 'eq' }), `${at}.value`, 'required');
    expectIssue(withWhen({ attr: 'a..b', op: 'exists' }), `${at}.attr`, 'no empty parts');
    expectIssue(withWhen({ all: [] }), `${at}.all`, 'non-empty array');
    expectIssue(withWhen({ all: [{ attr: 'a', op: 'exists' }], any: [] }), at, 'exactly one of');
    expectIssue(
      withWhen({ not: { attr: 'a', op: 'matches', value: '^(?!admin)' } }),
      `${at}.not.value`,
      'lookahead and lookbehind',
    );
    expectIssue(withWhen({ attr: 'a', op: 'matches', value: '(.)\\1' }), `${at}.value`, 'backreference');
  });

  it('enforces size limits on keys, rules and nesting', () => {
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.key = 'k'.repeat(MAX_KEY_LENGTH + 1);
        }),
      ),
      'key',
      `at most ${MAX_KEY_LENGTH}`,
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.key = 'has space';
        }),
      ),
      'key',
      'letters, digits',
    );
    const many = Array.from({ length: MAX_RULES + 1 }, (_, i) => ({ id: `r${i}`, serve: { variant: 'on' } }));
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules = many;
        }),
      ),
      rules,
      `at most ${MAX_RULES} rules`,
    );
    let deep: unknown = { attr: 'a', op: 'exists' };
    for (let i = 0; i < 40; i++) deep = { not: deep };
    const result = validateFlagConfig(
      edit((f) => {
        f.environments.production.rules[0].when = deep;
      }),
    );
    expect(issuesOf(result).some((i) => i.message.includes('nested at most'))).toBe(true);
  });

  it('reports duplicate rule ids and the reserved id "override"', () => {
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[1].id = 'staff';
        }),
      ),
      `${rules}[1].id`,
      'unique',
    );
    expectIssue(
      validateFlagConfig(
        edit((f) => {
          f.environments.production.rules[1].id = 'override';
        }),
      ),
      `${rules}[1].id`,
      'reserved',
    );
  });

  it('never throws and reports something for arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const result = validateFlagConfig(input, { segments: ['a'] });
        return (
          result.ok === false &&
          result.issues.length > 0 &&
          result.issues.every((i) => i.path.length > 0 && i.message.length > 0)
        );
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips valid flags through JSON', () => {
    const flag = validFlag();
    const again = validateFlagConfig(JSON.parse(JSON.stringify(flag)));
    expect(again).toEqual({ ok: true, value: flag });
  });
});

describe('validateSnapshotFlag', () => {
  it('accepts a flattened flag and rejects environment-level mistakes at the top level', () => {
    const { environments, surface, description, ...head } = validFlag();
    const env = environments.production!;
    expect(validateSnapshotFlag({ ...head, ...env }).ok).toBe(true);
    expectIssue(validateSnapshotFlag({ ...head, rules: [] }), 'enabled', 'required');
    expectIssue(validateSnapshotFlag({ ...head, ...env, surface }), 'surface', 'unknown field');
  });
});

describe('validateSegment', () => {
  const seg = (key: string, when: unknown): Segment => ({ key, when }) as Segment;

  it('accepts a segment and rejects unknown fields', () => {
    expect(validateSegment(seg('beta-testers', { attr: 'beta', op: 'eq', value: true })).ok).toBe(true);
    expectIssue(
      validateSegment({ key: 'x', when: { attr: 'a', op: 'exists' }, rules: [] }),
      'rules',
      'unknown field',
    );
  });

  it('detects cycles through the other segments, with the new one replacing its old version', () => {
    const others = {
      a: seg('a', { segment: 'b' }),
      b: seg('b', { attr: 'x', op: 'exists' }),
    };
    expect(validateSegment(seg('c', { segment: 'a' }), { segments: others }).ok).toBe(true);
    expectIssue(
      validateSegment(seg('b', { any: [{ segment: 'a' }] }), { segments: others }),
      'when',
      'b → a → b',
    );
    expectIssue(validateSegment(seg('s', { not: { segment: 's' } })), 'when', 's → s');
    expectIssue(
      validateSegment(seg('c', { segment: 'zzz' }), { segments: others }),
      'when.segment',
      'unknown segment',
    );
  });
});
