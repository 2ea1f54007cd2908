import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADVERSARIAL_PATTERNS, LIMIT_SHAPE, worstCaseConfig } from '../bench/worst-case.ts';
import { compileConfig } from './compile.ts';
import { evaluate } from './evaluate.ts';
import {
  MAX_EVALUATION_NODES,
  MAX_EVALUATION_REGEX_PROGRAM,
  MAX_REGEX_INPUT_LENGTH,
  MAX_RULES,
  MAX_SEGMENT_DEPTH,
  MAX_SEGMENT_REFERENCES,
} from './limits.ts';
import type { EvaluationContext } from './model.ts';

/** Every attribute read of one evaluation, by attribute: the work the evaluation did, counted exactly. */
function countReads(values: Record<string, unknown>): {
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

const shapes = fc.record({
  rules: fc.integer({ min: 1, max: MAX_RULES }),
  segmentDepth: fc.integer({ min: 0, max: MAX_SEGMENT_DEPTH }),
  fanOut: fc.integer({ min: 1, max: MAX_SEGMENT_REFERENCES }),
  patterns: fc.array(fc.nat({ max: ADVERSARIAL_PATTERNS.length - 1 }), { maxLength: 8 }),
  seed: fc.nat(),
});

describe('evaluation work is bounded by the documented limits', () => {
  it('random valid configs at the limits, with adversarial inputs at the longest length, stay within the work budget', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const { snapshot, context: values, regexAttributes } = worstCaseConfig(shape);
        const compiled = compileConfig(snapshot);
        expect(compiled.issues).toEqual([]);
        const { context, reads } = countReads(values);
        const result = evaluate(compiled, 'worst', context);
        expect(result.reason).toBe('DEFAULT');

        // Condition work: every attribute test reads the context once; segments count once each.
        let attributeReads = 0;
        let regexSteps = 0;
        for (const [attr, count] of reads) {
          if (attr === 'targetingKey') continue;
          attributeReads += count;
          expect(count, `attribute ${attr} read more than once`).toBe(1);
          const program = regexAttributes.get(attr);
          // RE2 visits each (instruction, input position) pair at most once.
          if (program !== undefined) regexSteps += program * ((values[attr] as string).length + 1);
        }
        expect(attributeReads).toBeLessThanOrEqual(MAX_EVALUATION_NODES);
        expect(regexSteps).toBeLessThanOrEqual(MAX_EVALUATION_REGEX_PROGRAM * (MAX_REGEX_INPUT_LENGTH + 1));
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  it('the config at every limit at once is accepted and evaluates every condition once', () => {
    const { snapshot, context: values, regexAttributes } = worstCaseConfig(LIMIT_SHAPE);
    const compiled = compileConfig(snapshot);
    expect(compiled.issues).toEqual([]);
    const { context, reads } = countReads(values);
    expect(evaluate(compiled, 'worst', context).reason).toBe('DEFAULT');
    const total = [...reads.entries()].filter(([a]) => a !== 'targetingKey').reduce((n, [, c]) => n + c, 0);
    // Every attribute condition of the flag was evaluated (nothing matched), the segment chain once.
    const attributeConditions = Object.keys(values).length - 1;
    expect(total).toBe(attributeConditions);
    const program = [...regexAttributes.values()].reduce((a, b) => a + b, 0);
    expect(program).toBeGreaterThan(MAX_EVALUATION_REGEX_PROGRAM * 0.9);
    expect(program).toBeLessThanOrEqual(MAX_EVALUATION_REGEX_PROGRAM);
  });
});
