import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConfig, flattenFlag } from './compile.ts';
import { evaluate, evaluateAll } from './evaluate.ts';
import { bucket } from './hash.ts';
import type { Condition, EvaluationContext, FlagConfig, Rule, Segment, SnapshotFlag } from './model.ts';

function snapshotFlag(overrides: Partial<SnapshotFlag> = {}): SnapshotFlag {
  return {
    key: 'f',
    kind: 'string',
    variants: { a: 'A', b: 'B', c: 'C' },
    defaultVariant: 'a',
    salt: 'salt-1',
    hashVersion: 1,
    enabled: true,
    rules: [],
    ...overrides,
  };
}

function compile(flags: SnapshotFlag[], segments: Segment[] = []) {
  return compileConfig({ environment: 'production', version: 7, flags, segments });
}

function evalRules(rules: Rule[], context: EvaluationContext, segments: Segment[] = []) {
  return evaluate(compile([snapshotFlag({ rules })], segments), 'f', context);
}

function matches(when: Condition, context: EvaluationContext, segments: Segment[] = []): boolean {
  const result = evalRules([{ id: 'r', when, serve: { variant: 'b' } }], context, segments);
  expect(result.reason === 'ERROR', JSON.stringify(result)).toBe(false);
  return result.variant === 'b';
}

/** The first unit ids (u0, u1, ...) whose bucket for `salt` falls inside / outside [start, end). */
function unitIn(salt: string, start: number, end: number, inside = true): string {
  for (let i = 0; ; i++) {
    const b = bucket(salt, `u${i}`);
    if ((b >= start && b < end) === inside) return `u${i}`;
  }
}

describe('evaluate: reasons', () => {
  it('serves the default variant with DISABLED when the flag is off', () => {
    const r = evaluate(
      compile([snapshotFlag({ enabled: false, rules: [{ id: 'x', serve: { variant: 'b' } }] })]),
      'f',
      {},
    );
    expect(r).toEqual({ flagKey: 'f', value: 'A', variant: 'a', reason: 'DISABLED' });
  });

  it('says STATIC when the value cannot depend on the context', () => {
    expect(evaluate(compile([snapshotFlag()]), 'f', {})).toEqual({
      flagKey: 'f',
      value: 'A',
      variant: 'a',
      reason: 'STATIC',
    });
    const r = evaluate(compile([snapshotFlag({ rules: [{ id: 'all', serve: { variant: 'c' } }] })]), 'f', {});
    expect(r).toEqual({ flagKey: 'f', value: 'C', variant: 'c', reason: 'STATIC', ruleId: 'all' });
  });

  it('applies overrides first, as TARGETING_MATCH with ruleId "override"', () => {
    const flag = snapshotFlag({
      overrides: { 'user-1': 'c' },
      rules: [{ id: 'all', serve: { variant: 'b' } }],
    });
    const c = compile([flag]);
    expect(evaluate(c, 'f', { targetingKey: 'user-1' })).toMatchObject({
      variant: 'c',
      value: 'C',
      reason: 'TARGETING_MATCH',
      ruleId: 'override',
    });
    expect(evaluate(c, 'f', { targetingKey: 'user-2' })).toMatchObject({
      variant: 'b',
      reason: 'TARGETING_MATCH',
      ruleId: 'all',
    });
  });

  it('takes the first matching rule, in order', () => {
    const rules: Rule[] = [
      { id: 'se', when: { attr: 'country', op: 'eq', value: 'SE' }, serve: { variant: 'b' } },
      { id: 'nordic', when: { attr: 'country', op: 'in', value: ['SE', 'NO'] }, serve: { variant: 'c' } },
    ];
    expect(evalRules(rules, { country: 'SE' })).toMatchObject({
      variant: 'b',
      ruleId: 'se',
      reason: 'TARGETING_MATCH',
    });
    expect(evalRules(rules, { country: 'NO' })).toMatchObject({ variant: 'c', ruleId: 'nordic' });
    expect(evalRules(rules, { country: 'DK' })).toEqual({
      flagKey: 'f',
      value: 'A',
      variant: 'a',
      reason: 'DEFAULT',
    });
  });

  it('serves a split by bucket, and lets uncovered buckets fall through to the next rule', () => {
    const salt = 'salt-1';
    const rules: Rule[] = [
      { id: 'half', serve: { split: [{ variant: 'b', range: [0, 500000] }] } },
      { id: 'rest', serve: { variant: 'c' } },
    ];
    expect(evalRules(rules, { targetingKey: unitIn(salt, 0, 500000) })).toMatchObject({
      variant: 'b',
      reason: 'SPLIT',
      ruleId: 'half',
    });
    expect(evalRules(rules, { targetingKey: unitIn(salt, 0, 500000, false) })).toMatchObject({
      variant: 'c',
      ruleId: 'rest',
      reason: 'TARGETING_MATCH',
    });
  });

  it('marks rollout and experiment rules as exposures, with their arm', () => {
    const rules: Rule[] = [
      {
        id: 'ro',
        rollout: 'ro_1',
        serve: {
          split: [
            { variant: 'b', range: [0, 100000], arm: 'treatment' },
            { variant: 'a', range: [100000, 1000000], arm: 'control' },
          ],
        },
      },
    ];
    const treated = evalRules(rules, { targetingKey: unitIn('salt-1', 0, 100000) });
    expect(treated).toEqual({
      flagKey: 'f',
      value: 'B',
      variant: 'b',
      reason: 'SPLIT',
      ruleId: 'ro',
      inExperiment: true,
      rollout: 'ro_1',
      arm: 'treatment',
    });
    const control = evalRules(rules, { targetingKey: unitIn('salt-1', 0, 100000, false) });
    expect(control).toMatchObject({ variant: 'a', arm: 'control', inExperiment: true, rollout: 'ro_1' });
    const exp = evalRules(
      [{ id: 'ab', experiment: 'ex_1', serve: { split: [{ variant: 'c', range: [0, 1000000] }] } }],
      { targetingKey: 'x' },
    );
    expect(exp).toMatchObject({ variant: 'c', inExperiment: true, experiment: 'ex_1' });
    expect(exp.arm).toBeUndefined();
  });

  it('buckets by the attribute named in bucketBy, dotted paths included', () => {
    const rules: Rule[] = [
      { id: 'org', bucketBy: 'org.id', serve: { split: [{ variant: 'b', range: [0, 500000] }] } },
    ];
    const inside = unitIn('salt-1', 0, 500000);
    expect(evalRules(rules, { targetingKey: 'someone', org: { id: inside } })).toMatchObject({
      variant: 'b',
      reason: 'SPLIT',
    });
    const outside = unitIn('salt-1', 0, 500000, false);
    expect(evalRules(rules, { targetingKey: inside, org: { id: outside } })).toMatchObject({
      variant: 'a',
      reason: 'DEFAULT',
    });
  });

  it('skips a split when the unit is missing and says why', () => {
    const rules: Rule[] = [{ id: 'ro', serve: { split: [{ variant: 'b', range: [0, 1000000] }] } }];
    const r = evalRules(rules, { country: 'SE' });
    expect(r).toMatchObject({ variant: 'a', reason: 'DEFAULT' });
    expect(r.errorCode).toBeUndefined();
    expect(r.errorMessage).toContain('"ro" was skipped');
    expect(r.errorMessage).toContain('targetingKey');
    expect(evalRules(rules, { targetingKey: '' }).reason).toBe('DEFAULT');
  });
});

describe('evaluate: errors', () => {
  const c = compile([snapshotFlag()]);

  it('reports an unknown flag', () => {
    expect(evaluate(c, 'nope', {})).toMatchObject({
      flagKey: 'nope',
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(evaluate(c, 'nope', {}).value).toBeUndefined();
  });

  it('reports a kind mismatch without a value', () => {
    const r = evaluate(c, 'f', {}, { kind: 'boolean' });
    expect(r).toMatchObject({ reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    expect(r.value).toBeUndefined();
    expect(evaluate(c, 'f', {}, { kind: 'string' }).reason).toBe('STATIC');
  });

  it('reports contexts that are not objects or have a non-string targetingKey', () => {
    for (const bad of [null, 'user', 42, [], { targetingKey: 7 }])
      expect(evaluate(c, 'f', bad as never)).toMatchObject({ reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
  });

  it('keeps broken flags and segments as PARSE_ERROR entries and lists the issues', () => {
    const broken = { ...snapshotFlag({ key: 'bad' }), defaultVariant: 'zzz' };
    const usesBrokenSegment = snapshotFlag({
      key: 'seg-user',
      rules: [{ id: 'r', when: { segment: 'bad-seg' }, serve: { variant: 'b' } }],
    });
    const cycle = [
      { key: 's1', when: { segment: 's2' } },
      { key: 's2', when: { segment: 's1' } },
    ] as Segment[];
    const usesCycle = snapshotFlag({
      key: 'cycle-user',
      rules: [{ id: 'r', when: { segment: 's1' }, serve: { variant: 'b' } }],
    });
    const compiled = compile(
      [broken, snapshotFlag(), usesBrokenSegment, usesCycle],
      [{ key: 'bad-seg', when: { attr: 'x', op: 'like', value: 1 } } as unknown as Segment, ...cycle],
    );
    expect(compiled.version).toBe(7);
    expect(compiled.environment).toBe('production');
    expect(compiled.issues.length).toBeGreaterThanOrEqual(3);
    for (const key of ['bad', 'seg-user', 'cycle-user']) {
      const r = evaluate(compiled, key, {});
      expect(r, key).toMatchObject({ reason: 'ERROR', errorCode: 'PARSE_ERROR' });
      expect(r.errorMessage, key).toBeTruthy();
    }
    expect(evaluate(compiled, 'f', {}).reason).toBe('STATIC');
  });
});

describe('evaluate: results', () => {
  it('returns frozen results and frozen object values, so one caller cannot change what another sees', () => {
    const flag = {
      ...snapshotFlag(),
      kind: 'object' as const,
      variants: { a: { limits: { max: 1 } } },
      defaultVariant: 'a',
    };
    const c = compile([flag]);
    const first = evaluate(c, 'f', { targetingKey: 'x' });
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      (first.value as { limits: { max: number } }).limits.max = 2;
    }).toThrow(TypeError);
    expect(evaluate(c, 'f', { targetingKey: 'y' }).value).toEqual({ limits: { max: 1 } });
    expect(flag.variants.a.limits.max).toBe(1);
  });
});

describe('evaluateAll', () => {
  it('evaluates every flag in snapshot order with the same results as evaluate', () => {
    const flags = [
      snapshotFlag({ key: 'one' }),
      snapshotFlag({ key: 'two', enabled: false }),
      snapshotFlag({
        key: 'three',
        rules: [{ id: 'r', when: { attr: 'plan', op: 'eq', value: 'premium' }, serve: { variant: 'c' } }],
      }),
    ];
    const c = compile(flags);
    const context = { targetingKey: 'u', plan: 'premium' };
    expect(evaluateAll(c, context)).toEqual(flags.map((f) => evaluate(c, f.key, context)));
    expect(evaluateAll(c, null as never).every((r) => r.errorCode === 'INVALID_CONTEXT')).toBe(true);
  });
});

describe('flattenFlag', () => {
  const doc: FlagConfig = {
    key: 'f',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: 's',
    hashVersion: 1,
    environments: {
      production: { enabled: true, overrides: { u: 'on' }, rules: [{ id: 'r', serve: { variant: 'on' } }] },
    },
  };

  it('takes one environment, and disables a flag the environment does not have', () => {
    expect(flattenFlag(doc, 'production')).toEqual({
      key: 'f',
      kind: 'boolean',
      variants: { off: false, on: true },
      defaultVariant: 'off',
      salt: 's',
      hashVersion: 1,
      enabled: true,
      overrides: { u: 'on' },
      rules: [{ id: 'r', serve: { variant: 'on' } }],
    });
    expect(flattenFlag(doc, 'staging')).toMatchObject({ enabled: false, rules: [] });
    expect(flattenFlag(doc, 'toString')).toMatchObject({ enabled: false, rules: [] });
  });
});

describe('targeting operators', () => {
  const when = (attr: string, op: string, value?: unknown): Condition =>
    (value === undefined ? { attr, op } : { attr, op, value }) as Condition;

  it.each<[string, Condition, EvaluationContext, boolean]>([
    ['eq', when('plan', 'eq', 'premium'), { plan: 'premium' }, true],
    ['eq keeps types apart', when('age', 'eq', 30), { age: '30' }, false],
    ['neq', when('plan', 'neq', 'free'), { plan: 'premium' }, true],
    ['neq on a missing attribute', when('plan', 'neq', 'free'), {}, false],
    ['in', when('country', 'in', ['SE', 'NO']), { country: 'NO' }, true],
    ['in over an array attribute', when('groups', 'in', ['beta']), { groups: ['staff', 'beta'] }, true],
    ['not_in', when('country', 'not_in', ['SE', 'NO']), { country: 'DK' }, true],
    ['not_in hit', when('country', 'not_in', ['SE', 'NO']), { country: 'SE' }, false],
    ['not_in on a missing attribute', when('country', 'not_in', ['SE']), {}, false],
    ['contains (string)', when('email', 'contains', '@acme'), { email: 'a@acme.com' }, true],
    ['contains (array)', when('tags', 'contains', 'vip'), { tags: ['vip'] }, true],
    ['starts_with', when('path', 'starts_with', '/admin'), { path: '/admin/x' }, true],
    ['ends_with', when('email', 'ends_with', '@acme.com'), { email: 'x@acme.com' }, true],
    ['matches', when('ua', 'matches', '^Mozilla/5\\.0 \\(iPhone'), { ua: 'Mozilla/5.0 (iPhone; CPU)' }, true],
    ['matches caps the input', when('ua', 'matches', 'x'), { ua: `${'a'.repeat(600)}x` }, false],
    ['lt', when('age', 'lt', 18), { age: 17 }, true],
    ['lte', when('age', 'lte', 18), { age: 18 }, true],
    ['gt', when('age', 'gt', 18), { age: 18 }, false],
    ['gte', when('age', 'gte', 18), { age: 18 }, true],
    ['gt does not parse strings', when('age', 'gt', 1), { age: '30' }, false],
    ['semver_eq', when('app.version', 'semver_eq', '2.1.0'), { app: { version: 'v2.1.0' } }, true],
    ['semver_lt', when('appVersion', 'semver_lt', '2.0.0'), { appVersion: '2.0.0-beta.1' }, true],
    ['semver_gt', when('appVersion', 'semver_gt', '2.0.0'), { appVersion: '2.10.0' }, true],
    ['semver on garbage', when('appVersion', 'semver_gt', '2.0.0'), { appVersion: 'latest' }, false],
    [
      'before (ISO)',
      when('signup', 'before', '2025-01-01T00:00:00Z'),
      { signup: '2024-12-31T23:59:59Z' },
      true,
    ],
    ['after (epoch ms)', when('signup', 'after', '2025-01-01'), { signup: Date.UTC(2025, 0, 2) }, true],
    ['exists', when('user.plan', 'exists'), { user: { plan: 'x' } }, true],
    ['exists on null', when('plan', 'exists'), { plan: null }, false],
    ['paths read own properties only', when('constructor', 'exists'), {}, false],
    ['dotted path through a non-object', when('user.plan', 'eq', 'x'), { user: 'x' }, false],
  ])('%s', (_name, condition, context, expected) => {
    expect(matches(condition, context)).toBe(expected);
  });

  it('combines with all, any, not and segments', () => {
    const segments: Segment[] = [{ key: 'nordic', when: { attr: 'country', op: 'in', value: ['SE', 'NO'] } }];
    const cond: Condition = {
      all: [
        { segment: 'nordic' },
        {
          any: [
            { attr: 'plan', op: 'eq', value: 'premium' },
            { attr: 'staff', op: 'eq', value: true },
          ],
        },
        { not: { attr: 'banned', op: 'exists' } },
      ],
    };
    expect(matches(cond, { country: 'SE', plan: 'premium' }, segments)).toBe(true);
    expect(matches(cond, { country: 'SE', staff: true }, segments)).toBe(true);
    expect(matches(cond, { country: 'DK', plan: 'premium' }, segments)).toBe(false);
    expect(matches(cond, { country: 'SE', plan: 'premium', banned: 1 }, segments)).toBe(false);
  });
});

describe('answers remembered between evaluations', () => {
  it('gives every context its own answer, in any order of versions and emails', () => {
    const newerThan2: Record<string, boolean> = {
      '1.9.0': false,
      '2.0.1': true,
      '2.10.0': true,
      latest: false,
      '2.0.0': false,
    };
    const flags = [0, 1, 2].map((i) =>
      snapshotFlag({
        key: `f${i}`,
        rules: [
          {
            id: 'new-app',
            when: { attr: 'appVersion', op: 'semver_gt', value: '2.0.0' },
            serve: { variant: 'b' },
          },
          {
            id: 'corp',
            when: { attr: 'email', op: 'matches', value: '@corp\\.test$' },
            serve: { variant: 'c' },
          },
        ],
      }),
    );
    const held = compile(flags);
    const context = fc.record({
      targetingKey: fc.constant('u'),
      appVersion: fc.constantFrom('1.9.0', '2.0.1', '2.10.0', 'latest', '2.0.0'),
      email: fc.constantFrom('a@corp.test', 'a@corp.test.example', 'b@mail.test', ''),
    });
    fc.assert(
      fc.property(fc.array(context, { minLength: 1, maxLength: 12 }), (contexts) => {
        for (const ctx of contexts) {
          const expected = newerThan2[ctx.appVersion] ? 'b' : /@corp\.test$/.test(ctx.email) ? 'c' : 'a';
          expect(evaluateAll(held, ctx).map((r) => r.variant)).toEqual([expected, expected, expected]);
        }
      }),
    );
  });
});
