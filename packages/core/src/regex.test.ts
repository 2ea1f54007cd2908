import { describe, expect, it } from 'vitest';
import { compileConfig } from './compile.ts';
import { evaluate } from './evaluate.ts';
import {
  MAX_EVALUATION_REGEX_PROGRAM,
  MAX_REGEX_INPUT_LENGTH,
  MAX_REGEX_LENGTH,
  MAX_REGEX_PROGRAM_SIZE,
} from './limits.ts';
import type { SnapshotFlag } from './model.ts';
import { checkRegexPattern, compilePattern } from './regex.ts';
import { validateSegment } from './validate.ts';

/** The pattern that blocked a server for seconds under the old backtracking engine. */
const AMBIGUOUS = '^(?:(?:a|ab)b?)*$';

/** An input of `length` characters on which a backtracking engine tries exponentially many splits. */
function adversarial(length: number): string {
  return `${'ab'.repeat(Math.floor((length - 1) / 2))}${length % 2 === 0 ? 'a' : ''}c`;
}

function flagMatching(pattern: string): SnapshotFlag {
  return {
    key: 'f',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: 's',
    hashVersion: 1,
    enabled: true,
    rules: [{ id: 'r', when: { attr: 'name', op: 'matches', value: pattern }, serve: { variant: 'on' } }],
  };
}

describe('checkRegexPattern', () => {
  it.each([
    '^.*@acme\\.com$',
    'iPhone|iPad',
    '^https?://',
    '^[a-z0-9._%+-]+@example\\.org$',
    '^v\\d+\\.\\d+',
    '(a+)+b',
    '(a|a)*',
    '^(?<prefix>beta)-\\w+$',
    '(?i)^chrome',
    '\\x{e9}t\\x{e9}',
    '\\pL+',
    AMBIGUOUS,
  ])('accepts the RE2 pattern %s', (pattern) => {
    expect(checkRegexPattern(pattern)).toBeNull();
  });

  it.each([
    ['(.*)\\1', 'backreferences'],
    ['(?<n>x)\\k<n>', 'backreferences'],
    ['^(?!admin)', 'lookahead and lookbehind'],
    ['(?=a)b', 'lookahead and lookbehind'],
    ['(?<=a)b', 'lookahead and lookbehind'],
    ['(?<!a)b', 'lookahead and lookbehind'],
    ['\\u00e9', '\\x{hhhh}'],
    ['a++', 'possessive'],
    ['(', 'RE2 syntax (missing closing )'],
  ])('refuses %s and says why', (pattern, fragment) => {
    expect(checkRegexPattern(pattern)).toContain(fragment);
  });

  it('bounds the pattern length and the compiled program size', () => {
    expect(checkRegexPattern('a'.repeat(MAX_REGEX_LENGTH + 1))).toContain(
      `at most ${MAX_REGEX_LENGTH} characters`,
    );
    expect(checkRegexPattern('[a-z]{1,100}')).toContain(`at most ${MAX_REGEX_PROGRAM_SIZE} RE2 instructions`);
  });

  it('names the condition path when a segment uses an unsupported pattern', () => {
    const result = validateSegment({
      key: 's',
      when: { any: [{ attr: 'ua', op: 'matches', value: '(?=x)' }] },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.path).toBe('when.any[0].value');
    expect(result.issues[0]?.message).toContain('expected a regular expression in RE2 syntax');
  });
});

describe('the ambiguous pattern that blocked the server', () => {
  it('is accepted and answers correctly on adversarial inputs of 53 and 512 characters', () => {
    const compiled = compileConfig({
      environment: 'e',
      version: 1,
      flags: [flagMatching(AMBIGUOUS)],
      segments: [],
    });
    expect(compiled.issues).toEqual([]);
    for (const length of [53, MAX_REGEX_INPUT_LENGTH]) {
      const input = adversarial(length);
      expect(input).toHaveLength(length);
      expect(evaluate(compiled, 'f', { name: input }).value).toBe(false);
      expect(evaluate(compiled, 'f', { name: `${input.slice(0, -1)}b` }).value).toBe(true);
    }
  });

  it('costs at most its program size times the input length, within the evaluation budget', () => {
    const result = compilePattern(AMBIGUOUS);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // The engine visits each (instruction, position) pair at most once: the work is linear in the input.
    const steps = result.pattern.programSize * (MAX_REGEX_INPUT_LENGTH + 1);
    expect(steps).toBeLessThanOrEqual(MAX_EVALUATION_REGEX_PROGRAM * (MAX_REGEX_INPUT_LENGTH + 1));
    expect(result.pattern.test(adversarial(MAX_REGEX_INPUT_LENGTH))).toBe(false);
  });

  it('does not run on inputs longer than the input limit', () => {
    const result = compilePattern('x');
    if (!result.ok) throw new Error(result.problem);
    expect(result.pattern.test(`${'a'.repeat(MAX_REGEX_INPUT_LENGTH)}x`)).toBe(false);
    expect(result.pattern.test(`${'a'.repeat(MAX_REGEX_INPUT_LENGTH - 1)}x`)).toBe(true);
  });
});
