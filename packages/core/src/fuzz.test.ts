import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConfig } from './compile.ts';
import { evaluate, evaluateAll } from './evaluate.ts';
import { ATTRIBUTE_OPERATORS } from './validate.ts';

const REASONS = new Set(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR']);
const CODES = new Set([
  'FLAG_NOT_FOUND',
  'TYPE_MISMATCH',
  'TARGETING_KEY_MISSING',
  'INVALID_CONTEXT',
  'PARSE_ERROR',
  'GENERAL',
]);

const attrName = fc.constantFrom(
  'targetingKey',
  'country',
  'plan',
  'user.plan',
  'age',
  'version',
  'a.b.c',
  'tags',
  '__proto__',
  'constructor',
);
const scalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const operand = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 4 }),
  fc.constantFrom('1.2.3', '2025-01-01T00:00:00Z', '^a.*b$', '(a+)+', '['),
  fc.constant(undefined),
);

// Conditions that are often valid and sometimes not, to reach both the compiled and the broken paths.
const condition = fc.letrec<{ cond: unknown }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record(
      {
        attr: attrName,
        op: fc.oneof(fc.constantFrom(...ATTRIBUTE_OPERATORS), fc.string({ maxLength: 4 })),
        value: operand,
      },
      { requiredKeys: ['attr', 'op'] },
    ),
    fc.record({ all: fc.array(tie('cond'), { maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('cond'), { maxLength: 3 }) }),
    fc.record({ not: tie('cond') }),
    fc.record({ segment: fc.constantFrom('s1', 's2', 'missing') }),
    fc.anything(),
  ),
})).cond;

const variantName = fc.constantFrom('a', 'b', 'c');
const range = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }))
    .map(([x, y]) => [Math.min(x, y), Math.max(x, y)]),
  fc.anything(),
);
const rule = fc.record(
  {
    id: fc.constantFrom('r1', 'r2', 'r3', 'override', ''),
    when: condition,
    bucketBy: fc.oneof(attrName, fc.anything()),
    rollout: fc.constantFrom('ro_1', 'x'),
    serve: fc.oneof(
      fc.record({ variant: variantName }),
      fc.record({
        split: fc.array(
          fc.record(
            { variant: variantName, range, arm: fc.constantFrom('treatment', 'control') },
            { requiredKeys: ['variant', 'range'] },
          ),
          { maxLength: 4 },
        ),
      }),
      fc.anything(),
    ),
  },
  { requiredKeys: ['id', 'serve'] },
);
const flag = fc.record(
  {
    key: fc.constantFrom('f1', 'f2', 'f3'),
    kind: fc.constantFrom('boolean', 'string', 'number', 'object', 'other'),
    variants: fc.oneof(
      fc.constant({ a: true, b: false, c: true }),
      fc.constant({ a: 'x', b: 'y', c: 'z' }),
      fc.constant({ a: 1, b: 2, c: 3 }),
      fc.constant({ a: { k: 1 }, b: {}, c: { n: [1] } }),
      fc.anything(),
    ),
    defaultVariant: fc.oneof(variantName, fc.anything()),
    salt: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.anything()),
    hashVersion: fc.constantFrom(1, 2),
    enabled: fc.oneof(fc.boolean(), fc.anything()),
    overrides: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(variantName, fc.anything()), {
      maxKeys: 3,
    }),
    rules: fc.oneof(fc.array(rule, { maxLength: 4 }), fc.anything()),
  },
  { requiredKeys: ['key', 'kind', 'variants', 'defaultVariant', 'salt', 'hashVersion', 'enabled', 'rules'] },
);
const segment = fc.record({ key: fc.constantFrom('s1', 's2'), when: condition });
const snapshot = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      environment: fc.constant('prod'),
      version: fc.nat(),
      flags: fc.array(flag, { maxLength: 4 }),
      segments: fc.array(segment, { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.anything() },
);
const context = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.dictionary(
      attrName,
      fc.oneof(scalar, fc.array(scalar), fc.dictionary(fc.constantFrom('plan', 'b', 'c'), scalar)),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ targetingKey: fc.oneof(fc.string(), fc.anything()), country: scalar }),
  },
  { weight: 1, arbitrary: fc.anything() },
);

function checkResult(result: unknown, flagKey: string): void {
  expect(typeof result).toBe('object');
  const r = result as Record<string, unknown>;
  expect(r.flagKey).toBe(flagKey);
  expect(REASONS.has(r.reason as string)).toBe(true);
  if (r.reason === 'ERROR') expect(CODES.has(r.errorCode as string)).toBe(true);
  else expect(r.variant).toBeTypeOf('string');
}

describe('evaluation is total', () => {
  it('never throws for random configs and contexts, and always returns a well-formed result', () => {
    fc.assert(
      fc.property(
        snapshot,
        context,
        fc.constantFrom('f1', 'f2', 'f3', 'nope'),
        fc.constantFrom(undefined, 'boolean', 'string'),
        (snap, ctx, key, kind) => {
          const compiled = compileConfig(snap as never);
          checkResult(evaluate(compiled, key, ctx as never, kind === undefined ? undefined : { kind }), key);
          const all = evaluateAll(compiled, ctx as never);
          expect(all.length).toBe(compiled.flagList.length);
          all.forEach((r, i) => {
            checkResult(r, compiled.flagList[i]?.key as string);
          });
        },
      ),
      { numRuns: 1500 },
    );
    // 1,500 configs compiled and evaluated: seconds on a shared machine, so more than the default 5 s.
  }, 60_000);

  it('survives hostile contexts (throwing getters, proxies)', () => {
    const compiled = compileConfig({
      environment: 'e',
      version: 1,
      segments: [],
      flags: [
        {
          key: 'f',
          kind: 'boolean',
          variants: { on: true, off: false },
          defaultVariant: 'off',
          salt: 's',
          hashVersion: 1,
          enabled: true,
          rules: [{ id: 'r', when: { attr: 'x', op: 'eq', value: 1 }, serve: { variant: 'on' } }],
        },
      ],
    });
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    const proxy = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        has: () => {
          throw new Error('trap');
        },
        getOwnPropertyDescriptor: () => {
          throw new Error('trap');
        },
      },
    );
    for (const ctx of [throwing, proxy]) {
      expect(evaluate(compiled, 'f', ctx)).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
      expect(evaluateAll(compiled, ctx)[0]).toMatchObject({ reason: 'ERROR' });
    }
    expect(evaluate(null as never, 'f', {})).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
    expect(evaluateAll(undefined as never, {})).toEqual([]);
  });
});
