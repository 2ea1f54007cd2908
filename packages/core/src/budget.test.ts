import { describe, expect, it } from 'vitest';
import { compileConfig } from './compile.ts';
import { evaluate, evaluateAll } from './evaluate.ts';
import {
  MAX_EVALUATION_NODES,
  MAX_EVALUATION_REGEX_PROGRAM,
  MAX_SEGMENT_DEPTH,
  MAX_SEGMENT_REFERENCES,
} from './limits.ts';
import type { Condition, EvaluationContext, Rule, Segment, SnapshotFlag } from './model.ts';
import { validateFlagConfig, validateSegment } from './validate.ts';

function flag(key: string, rules: Rule[]): SnapshotFlag {
  return {
    key,
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: `salt-${key}`,
    hashVersion: 1,
    enabled: true,
    rules,
  };
}

const onWhen = (when: Condition, id = 'r'): Rule => ({ id, when, serve: { variant: 'on' } });

/** A context that counts how often each attribute is read: a deterministic measure of evaluation work. */
function countingContext(values: Record<string, unknown>): {
  context: EvaluationContext;
  reads: Map<string, number>;
} {
  const reads = new Map<string, number>();
  const context = new Proxy(values, {
    get(target, key, receiver) {
      if (typeof key === 'string') reads.set(key, (reads.get(key) ?? 0) + 1);
      return Reflect.get(target, key, receiver);
    },
  }) as EvaluationContext;
  return { context, reads };
}

/**
 * Segments level0 … level{levels}: level0 tests attribute `x`; every further level refers to the previous
 * one `fanOut` times. Without memoisation, one evaluation reads `x` fanOut^levels times.
 */
function chain(levels: number, fanOut: number): Segment[] {
  const segments: Segment[] = [{ key: 'level0', when: { attr: 'x', op: 'eq', value: 'hit' } }];
  for (let level = 1; level <= levels; level++)
    segments.push({
      key: `level${level}`,
      when: { any: Array.from({ length: fanOut }, () => ({ segment: `level${level - 1}` })) },
    });
  return segments;
}

describe('the segment chain that blocked the server (each level refers to the previous one 499 times)', () => {
  for (const levels of [3, 4]) {
    it(`is refused with a path-named error at ${levels} levels, and never evaluated`, () => {
      const segments = chain(levels, 499);
      const others = Object.fromEntries(segments.slice(0, 1).map((s) => [s.key, s]));
      const refused = validateSegment(segments[1], { segments: others });
      expect(refused.ok).toBe(false);
      if (!refused.ok)
        expect(refused.issues).toContainEqual({
          path: `when.any[${MAX_SEGMENT_REFERENCES}].segment`,
          message: expect.stringContaining(`at most ${MAX_SEGMENT_REFERENCES} segment references`),
        });

      const compiled = compileConfig({
        environment: 'e',
        version: 1,
        flags: [flag('f', [onWhen({ segment: `level${levels}` })])],
        segments,
      });
      expect(compiled.issues.some((i) => i.path === 'segments[1].when.any[16].segment')).toBe(true);
      const { context, reads } = countingContext({ x: 'miss' });
      const result = evaluate(compiled, 'f', context);
      expect(result.reason).toBe('ERROR');
      expect(result.errorCode).toBe('PARSE_ERROR');
      expect(reads.get('x') ?? 0).toBe(0);
    });
  }
});

describe('segments are evaluated at most once per evaluation', () => {
  it('reads a chain at the depth and fan-out limits once, not fanOut^depth times', () => {
    const segments = chain(MAX_SEGMENT_DEPTH - 1, MAX_SEGMENT_REFERENCES);
    const top = `level${MAX_SEGMENT_DEPTH - 1}`;
    const compiled = compileConfig({
      environment: 'e',
      version: 1,
      flags: [flag('f', [onWhen({ segment: top })])],
      segments,
    });
    expect(compiled.issues).toEqual([]);
    for (const x of ['miss', 'hit']) {
      const { context, reads } = countingContext({ x });
      expect(evaluate(compiled, 'f', context).value).toBe(x === 'hit');
      expect(reads.get('x')).toBe(1); // 16^3 = 4096 reads without memoisation
    }
  });

  it('evaluates a segment shared by many rules and flags once per evaluateAll call', () => {
    const segments: Segment[] = [
      { key: 'staff', when: { attr: 'email', op: 'ends_with', value: '@acme.com' } },
    ];
    const flags = Array.from({ length: 10 }, (_, i) =>
      flag(`f${i}`, [
        onWhen({ all: [{ segment: 'staff' }, { attr: 'plan', op: 'eq', value: 'pro' }] }, 'a'),
        onWhen({ not: { segment: 'staff' } }, 'b'),
      ]),
    );
    const compiled = compileConfig({ environment: 'e', version: 1, flags, segments });
    expect(compiled.issues).toEqual([]);
    const { context, reads } = countingContext({ email: 'u@acme.com', plan: 'free' });
    const results = evaluateAll(compiled, context);
    expect(results.map((r) => r.value)).toEqual(Array(10).fill(false));
    expect(reads.get('email')).toBe(1);
    // The next evaluation starts afresh.
    const second = countingContext({ email: 'u@other.com', plan: 'free' });
    expect(evaluate(compiled, 'f3', second.context).value).toBe(true);
    expect(second.reads.get('email')).toBe(1);
  });

  it('stays correct when a context getter evaluates again in the middle of an evaluation', () => {
    const segments: Segment[] = [{ key: 'pro', when: { attr: 'plan', op: 'eq', value: 'pro' } }];
    const compiled = compileConfig({
      environment: 'e',
      version: 1,
      flags: [
        flag('outer', [
          onWhen({ all: [{ segment: 'pro' }, { attr: 'probe', op: 'exists' }, { segment: 'pro' }] }),
        ]),
      ],
      segments,
    });
    let inner: unknown;
    const context = {
      plan: 'pro',
      get probe() {
        inner = evaluate(compiled, 'outer', { plan: 'free', probe: 1 }).value;
        return 1;
      },
    };
    expect(evaluate(compiled, 'outer', context).value).toBe(true);
    expect(inner).toBe(false);
  });
});

describe('the evaluation budget', () => {
  const leaves = (n: number, attr = 'a'): Condition => ({
    any: Array.from({ length: n }, (_, i) => ({ attr, op: 'eq', value: i })),
  });

  it('refuses a flag whose rules together exceed the node budget, naming the rule', () => {
    // 5 rules of 401 nodes: the fifth crosses MAX_EVALUATION_NODES.
    const rules = Array.from({ length: 5 }, (_, i) => onWhen(leaves(400), `r${i}`));
    const doc = { ...flag('f', []), environments: { prod: { enabled: true, rules } } };
    const { enabled: _e, rules: _r, ...head } = doc;
    const result = validateFlagConfig(head);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues).toContainEqual({
        path: 'environments.prod.rules[4].when',
        message: expect.stringContaining(`at most ${MAX_EVALUATION_NODES} condition nodes`),
      });
  });

  it('counts a segment reached by several rules once, when the segments themselves are given', () => {
    const big: Segment = { key: 'big', when: leaves(499) };
    const rules = Array.from({ length: 5 }, (_, i) =>
      onWhen({ all: [{ segment: 'big' }, { attr: 'b', op: 'eq', value: i }] }, `r${i}`),
    );
    const doc = { ...flag('f', []), environments: { prod: { enabled: true, rules } } };
    const { enabled: _e, rules: _r, ...head } = doc;
    expect(validateFlagConfig(head, { segments: { big } }).ok).toBe(true);
    const twoBig = {
      ...head,
      environments: {
        prod: {
          enabled: true,
          rules: [...rules, onWhen(leaves(499), 'x'), onWhen(leaves(499), 'y'), onWhen(leaves(499), 'z')],
        },
      },
    };
    const result = validateFlagConfig(twoBig, { segments: { big } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.path).toBe('environments.prod.rules[7].when');
  });

  it('refuses regular expressions that together exceed the instruction budget', () => {
    const pattern = '^[a-z]{1,30}@[a-z]{1,10}$'; // about 80 instructions
    const rules = [
      onWhen({ attr: 'email', op: 'matches', value: pattern }, 'one'),
      onWhen({ attr: 'login', op: 'matches', value: pattern }, 'two'),
    ];
    const compiled = compileConfig({ environment: 'e', version: 1, flags: [flag('f', rules)], segments: [] });
    expect(compiled.issues).toContainEqual({
      path: 'flags[0].rules[1].when',
      message: expect.stringContaining(`at most ${MAX_EVALUATION_REGEX_PROGRAM} RE2 instructions in total`),
    });
    expect(evaluate(compiled, 'f', { email: 'a@b' }).errorCode).toBe('PARSE_ERROR');
  });

  it('refuses segments nested deeper than the limit, on save and at compile time', () => {
    const segments = chain(MAX_SEGMENT_DEPTH, 1);
    const top = segments[MAX_SEGMENT_DEPTH] as Segment;
    const others = Object.fromEntries(segments.slice(0, -1).map((s) => [s.key, s]));
    const result = validateSegment(top, { segments: others });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).toContain(`nested at most ${MAX_SEGMENT_DEPTH} deep`);
    // Changing the bottom of an allowed chain so that it refers to one more segment is refused too.
    const allowed = segments.slice(0, -1);
    const extra: Segment = { key: 'extra', when: { attr: 'y', op: 'exists' } };
    const deeper = validateSegment(
      { key: 'level0', when: { segment: 'extra' } },
      { segments: { ...Object.fromEntries(allowed.map((s) => [s.key, s])), extra } },
    );
    expect(deeper.ok).toBe(false);
    if (!deeper.ok) expect(deeper.issues[0]?.message).toContain('which uses this one');

    // A flag saved with the segments themselves is refused at the rule that reaches too deep.
    const { enabled: _e, rules: _r, ...head } = flag('f', []);
    const saved = validateFlagConfig(
      { ...head, environments: { prod: { enabled: true, rules: [onWhen({ segment: top.key })] } } },
      { segments: Object.fromEntries(segments.map((s) => [s.key, s])) },
    );
    expect(saved.ok).toBe(false);
    if (!saved.ok)
      expect(saved.issues).toContainEqual({
        path: 'environments.prod.rules[0].when',
        message: expect.stringContaining(`nested at most ${MAX_SEGMENT_DEPTH} deep`),
      });
    const compiled = compileConfig({
      environment: 'e',
      version: 1,
      flags: [flag('f', [onWhen({ segment: top.key })])],
      segments,
    });
    expect(compiled.issues.some((i) => i.message.includes(`nested at most ${MAX_SEGMENT_DEPTH} deep`))).toBe(
      true,
    );
    expect(evaluate(compiled, 'f', { x: 'hit' }).errorCode).toBe('PARSE_ERROR');
  });
});
