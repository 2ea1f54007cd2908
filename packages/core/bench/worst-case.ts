/**
 * The worst config the documented limits allow, for one flag evaluation: MAX_RULES rules whose conditions,
 * with a segment chain MAX_SEGMENT_DEPTH deep and MAX_SEGMENT_REFERENCES wide, fill MAX_EVALUATION_NODES;
 * `matches` patterns chosen to make a regex engine work hard fill MAX_EVALUATION_REGEX_PROGRAM; the context
 * gives every pattern an adversarial input of MAX_REGEX_INPUT_LENGTH characters, and nothing matches, so
 * every rule is evaluated to the end. Used by the property test (work counts) and by the benchmark (time).
 *
 * `npx tsx packages/core/bench/worst-case.ts [--json]` prints the p99 evaluation time of the config at the
 * limits; with --json the last line is the figure in the repo's benchmark format.
 */
import { compileConfig } from '../src/compile.ts';
import { evaluate } from '../src/evaluate.ts';
import {
  MAX_CONDITION_NODES,
  MAX_EVALUATION_NODES,
  MAX_EVALUATION_REGEX_PROGRAM,
  MAX_REGEX_INPUT_LENGTH,
  MAX_RULES,
  MAX_SEGMENT_DEPTH,
  MAX_SEGMENT_REFERENCES,
} from '../src/limits.ts';
import type { Condition, EnvironmentSnapshot, Rule, Segment } from '../src/model.ts';
import { compilePattern } from '../src/regex.ts';

/** Patterns with much ambiguity for a backtracking engine, and large programs for RE2. */
export const ADVERSARIAL_PATTERNS: readonly string[] = [
  '(?:[ab]{1,10}a[ab]{1,10}){2}c',
  '(?:.*a){6}$',
  '(?:.*a.*b){2}$',
  '^(?:(?:a|ab)b?)*$',
  '(a|b)*a(a|b){20}c',
  '[ab]*a[ab]{20}c',
  '(?:.*a.*b){4}$',
  '(x+x+)+y',
  '^(a|aa)+$',
];

/** The shape of a generated config; every field at its maximum gives the config at the limits. */
export interface WorstCaseShape {
  /** Number of rules, 1 … MAX_RULES. */
  rules: number;
  /** Segments in the chain the first rule refers to, 0 … MAX_SEGMENT_DEPTH. */
  segmentDepth: number;
  /** References from each segment level to the one below, 1 … MAX_SEGMENT_REFERENCES. */
  fanOut: number;
  /** Indexes into ADVERSARIAL_PATTERNS, used in order while they fit MAX_EVALUATION_REGEX_PROGRAM. */
  patterns: readonly number[];
  /** Seed of the adversarial inputs. */
  seed: number;
}

/** The shape at every limit. */
export const LIMIT_SHAPE: WorstCaseShape = {
  rules: MAX_RULES,
  segmentDepth: MAX_SEGMENT_DEPTH,
  fanOut: MAX_SEGMENT_REFERENCES,
  patterns: [1, 1, 1, 1, 2],
  seed: 1,
};

/** A generated config with its context and, per regex attribute, the program size of its pattern. */
export interface WorstCase {
  snapshot: EnvironmentSnapshot;
  context: Record<string, unknown>;
  regexAttributes: ReadonlyMap<string, number>;
}

const NO_MATCH = -1;
/** Longer than any counted repeat in ADVERSARIAL_PATTERNS, so no `a` is close enough to the final `c`. */
const NO_MATCH_RUN = 21;

/**
 * A deterministic string of MAX_REGEX_INPUT_LENGTH characters: random over `alphabet`, then `tail`. The tail
 * keeps the patterns from matching (a run of b before the final c), so the engine explores every start.
 */
function adversarialInput(seed: number, alphabet: string, tail: string): string {
  let x = seed >>> 0 || 1;
  let out = '';
  for (let i = 0; i < MAX_REGEX_INPUT_LENGTH - tail.length; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out += alphabet[(x >>> 16) % alphabet.length];
  }
  return out + tail;
}

/** Builds the config for `shape`; it satisfies every documented limit (compileConfig reports no issues). */
export function worstCaseConfig(shape: WorstCaseShape): WorstCase {
  const context: Record<string, unknown> = { targetingKey: 'unit-1' };
  let nodes = 0;
  const leaf = (attr: string, k: number): Condition => {
    context[attr] = NO_MATCH;
    return { attr, op: 'eq', value: k };
  };

  // A chain of segments: level 0 tests attributes; each level above refers to the one below fanOut times.
  const segments: Segment[] = [];
  for (let level = 0; level < shape.segmentDepth; level++) {
    const parts: Condition[] =
      level === 0
        ? Array.from({ length: shape.fanOut }, (_, i) => leaf(`s${i}`, i))
        : Array.from({ length: shape.fanOut }, () => ({ segment: `level${level - 1}` }));
    segments.push({ key: `level${level}`, when: { any: parts } });
    nodes += 1 + shape.fanOut;
  }

  // Regex conditions, each on its own attribute, while their programs fit the budget.
  const regexConditions: Condition[] = [];
  const regexAttributes = new Map<string, number>();
  let program = 0;
  shape.patterns.forEach((index, i) => {
    const source = ADVERSARIAL_PATTERNS[index % ADVERSARIAL_PATTERNS.length] as string;
    const compiled = compilePattern(source);
    if (!compiled.ok || program + compiled.pattern.programSize > MAX_EVALUATION_REGEX_PROGRAM) return;
    program += compiled.pattern.programSize;
    const attr = `re${i}`;
    regexAttributes.set(attr, compiled.pattern.programSize);
    context[attr] = source.includes('x')
      ? adversarialInput(shape.seed + i, 'x', '!')
      : adversarialInput(shape.seed + i, 'ab', `${'b'.repeat(NO_MATCH_RUN)}c`);
    regexConditions.push({ attr, op: 'matches', value: source });
  });
  nodes += regexConditions.length;

  // Rules: the first refers to the top segment and holds the regexes; the node budget left is shared out.
  const ruleCount = Math.max(1, shape.rules);
  const firstOwn = (shape.segmentDepth > 0 ? 1 : 0) + regexConditions.length;
  // Each rule is { any: [leaves…] } (1 + leaves nodes); the first one also holds firstOwn conditions.
  const left = MAX_EVALUATION_NODES - nodes - firstOwn - ruleCount;
  const perRule = Math.floor(left / ruleCount);
  const extra = left - perRule * ruleCount;
  let next = 0;
  const rules: Rule[] = [];
  for (let r = 0; r < ruleCount; r++) {
    // One condition tree holds at most MAX_CONDITION_NODES nodes: the `any` node and its parts.
    const room = MAX_CONDITION_NODES - 1 - (r === 0 ? firstOwn : 0);
    const count = Math.min(perRule + (r < extra ? 1 : 0), room);
    const parts: Condition[] = Array.from({ length: count }, () => {
      next++;
      return leaf(`a${next}`, next);
    });
    if (r === 0) {
      if (shape.segmentDepth > 0) parts.unshift({ segment: `level${shape.segmentDepth - 1}` });
      parts.push(...regexConditions);
    }
    if (parts.length === 0) {
      next++;
      parts.push(leaf(`a${next}`, next));
    }
    rules.push({ id: `r${r}`, when: { any: parts }, serve: { variant: 'on' } });
  }

  return {
    snapshot: {
      environment: 'bench',
      version: 1,
      segments,
      flags: [
        {
          key: 'worst',
          kind: 'boolean',
          variants: { off: false, on: true },
          defaultVariant: 'off',
          salt: 'worst-salt',
          hashVersion: 1,
          enabled: true,
          rules,
        },
      ],
    },
    context,
    regexAttributes,
  };
}

const SAMPLES = 2_000;
const WARMUP = 500;
const TARGET_P99_MS = 1;

/** p50 and p99 of one evaluation of the config at the limits, in milliseconds of the given clock. */
export function measureWorstCase(now: () => number): { p50: number; p99: number; samples: number } {
  const { snapshot, context } = worstCaseConfig(LIMIT_SHAPE);
  const compiled = compileConfig(snapshot);
  if (compiled.issues.length > 0) throw new Error(JSON.stringify(compiled.issues.slice(0, 3)));
  const times: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const start = now();
    const result = evaluate(compiled, 'worst', context);
    const elapsed = now() - start;
    if (result.reason !== 'DEFAULT') throw new Error(`unexpected ${JSON.stringify(result)}`);
    if (i >= WARMUP) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
  return { p50: at(0.5), p99: at(0.99), samples: SAMPLES };
}

/** Milliseconds of CPU time used by this process: unlike wall time, not inflated by other processes. */
function cpuMillis(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
}

/**
 * The benchmark figures for the config at the limits: p99 wall time of one evaluation, and p99 CPU time
 * (the same work, without the time the process waited for a core on a busy machine).
 */
export function worstCaseFigures(): Record<string, unknown>[] {
  const figure = (name: string, p99: number) => ({
    name,
    value: Number(p99.toFixed(3)),
    unit: 'ms',
    compare_to: null,
    ratio: null,
    target: TARGET_P99_MS,
    pass: p99 < TARGET_P99_MS,
  });
  const wall = measureWorstCase(() => performance.now());
  const cpu = measureWorstCase(cpuMillis);
  const log = `worst-case config at the limits: ${wall.samples} evaluations; wall p50 ${wall.p50.toFixed(3)} ms, p99 ${wall.p99.toFixed(3)} ms; CPU p50 ${cpu.p50.toFixed(3)} ms, p99 ${cpu.p99.toFixed(3)} ms (target p99 < ${TARGET_P99_MS} ms)`;
  console.error(log);
  return [
    figure('worst-case config at the limits, one evaluation p99', wall.p99),
    figure('worst-case config at the limits, one evaluation p99 CPU time', cpu.p99),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = worstCaseFigures();
  if (process.argv.includes('--json')) console.log(JSON.stringify({ bench: 'eval-worst-case', figures }));
}
