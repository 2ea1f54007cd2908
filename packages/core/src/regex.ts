/**
 * `matches` patterns run on RE2 (the re2js port): a linear-time engine with no backtracking, the same in
 * the server, the SDKs and the browser bundle. RE2 syntax has no backreferences and no lookaround, which is
 * what makes linear time possible. The work of one match is bounded by the pattern's compiled program size
 * times the input length (at most MAX_REGEX_INPUT_LENGTH characters), so validation bounds the program size
 * of each pattern and, through the evaluation budget, of all the patterns one flag evaluation may run.
 */
import { RE2JS } from 're2js';
import { MAX_REGEX_INPUT_LENGTH, MAX_REGEX_LENGTH, MAX_REGEX_PROGRAM_SIZE } from './limits.ts';

/** A pattern compiled once; `test` searches anywhere in the input (anchor with `^` and `$`). */
export interface CompiledPattern {
  /** Instructions in the compiled RE2 program: a match costs at most this times the input length in steps. */
  readonly programSize: number;
  /** True when the pattern matches somewhere in `input`; inputs longer than MAX_REGEX_INPUT_LENGTH do not match. */
  test(input: string): boolean;
}

/** A compiled pattern, or why it is refused (a phrase to follow "expected"). */
export type PatternResult = { ok: true; pattern: CompiledPattern } | { ok: false; problem: string };

/** Compiled patterns by source; a config compiles the same pattern for validation, budget and evaluation. */
const cache = new Map<string, PatternResult>();
/** Most patterns kept compiled; past it the cache starts again (a config rarely has this many). */
const MAX_CACHED_PATTERNS = 2_048;

/** RE2-unsupported syntax people often bring from JavaScript or PCRE, with what to write instead. */
const HINTS: readonly { test: RegExp; hint: string }[] = [
  { test: /\(\?<?[=!]/, hint: 'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not supported' },
  { test: /\\[1-9]|\\k</, hint: 'backreferences (\\1, \\k<name>) are not supported' },
  { test: /\\u/, hint: 'write a code point as \\x{hhhh}, not \\uhhhh' },
  { test: /\\c/, hint: 'control escapes (\\cX) are not supported; write \\x{hh}' },
  { test: /\(\?>|[*+?}][+]/, hint: 'atomic groups and possessive quantifiers are not supported' },
];

function refuse(problem: string): PatternResult {
  return { ok: false, problem };
}

function compileUncached(source: string): PatternResult {
  if (source.length > MAX_REGEX_LENGTH)
    return refuse(`a pattern of at most ${MAX_REGEX_LENGTH} characters (got ${source.length})`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : 'invalid';
    const hint = HINTS.find((h) => h.test.test(source));
    return refuse(
      `a regular expression in RE2 syntax (${reason}${hint === undefined ? '' : `; ${hint.hint}`})`,
    );
  }
  const programSize = compiled.programSize();
  if (programSize > MAX_REGEX_PROGRAM_SIZE)
    return refuse(
      `a pattern that compiles to at most ${MAX_REGEX_PROGRAM_SIZE} RE2 instructions (got ${programSize}; counted repeats such as {1,50} are expanded, so prefer + or * or a shorter count)`,
    );
  const re2 = compiled.re2();
  // The last input and its answer: flags that share a pattern (the same rule copied across flags) are
  // evaluated one after another for the same context, and the answer depends on the input alone.
  let lastInput: string | undefined;
  let lastAnswer = false;
  return {
    ok: true,
    pattern: {
      programSize,
      test: (input) => {
        if (input === lastInput) return lastAnswer;
        // findIndex asks for the match position, which runs the one-pass matcher or the bit-state
        // backtracker (each step visited once) and never the lazy DFA, whose state cache can thrash on
        // adversarial input: the cost stays within programSize × input length.
        const answer = input.length <= MAX_REGEX_INPUT_LENGTH && re2.findIndex(input) !== null;
        lastInput = input;
        lastAnswer = answer;
        return answer;
      },
    },
  };
}

/** Compiles a `matches` pattern with RE2 (cached by source), or says why it is refused. Never throws. */
export function compilePattern(source: string): PatternResult {
  const known = cache.get(source);
  if (known !== undefined) return known;
  const result = compileUncached(source);
  if (cache.size >= MAX_CACHED_PATTERNS) cache.clear();
  cache.set(source, result);
  return result;
}

/**
 * Checks a `matches` pattern: at most MAX_REGEX_LENGTH characters, valid RE2 syntax, and a compiled program
 * of at most MAX_REGEX_PROGRAM_SIZE instructions. Returns null when accepted, otherwise what was expected.
 */
export function checkRegexPattern(source: string): string | null {
  const result = compilePattern(source);
  return result.ok ? null : result.problem;
}
