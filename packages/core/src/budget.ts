/**
 * The evaluation budget: what one flag evaluation (or one segment) may cost, counted from the config alone.
 * A segment is evaluated at most once per evaluation, so the segments a flag reaches count once each, however
 * often they are referenced. Validation and compileConfig refuse what exceeds MAX_EVALUATION_NODES,
 * MAX_EVALUATION_REGEX_PROGRAM or MAX_SEGMENT_DEPTH, so evaluation time is bounded by the config's limits
 * and the input length, whatever a person saves.
 */
import {
  MAX_CONDITION_DEPTH,
  MAX_EVALUATION_NODES,
  MAX_EVALUATION_REGEX_PROGRAM,
  MAX_SEGMENT_DEPTH,
} from './limits.ts';
import type { ValidationIssue } from './model.ts';
import { compilePattern } from './regex.ts';

/** What evaluating one condition tree costs, not counting the segments it refers to. */
export interface ConditionCost {
  /** Condition nodes: attribute tests, combinators and segment references. */
  nodes: number;
  /** RE2 instructions summed over its `matches` patterns. */
  regexProgram: number;
  /** The segment keys it refers to directly. */
  segments: Set<string>;
}

/** The own cost of a segment by key; undefined for a segment that is unknown or unusable. */
export type SegmentCostLookup = (key: string) => ConditionCost | undefined;

/** A depth reported for a reference cycle, larger than any allowed depth. */
const CYCLE_DEPTH = Number.POSITIVE_INFINITY;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Measures a condition tree (its nodes, the program size of its patterns, its direct segment references).
 * Tolerant of malformed input, which validation reports on its own: unknown shapes and invalid patterns
 * count as plain nodes.
 */
export function measureCondition(condition: unknown): ConditionCost {
  const cost: ConditionCost = { nodes: 0, regexProgram: 0, segments: new Set() };
  const walk = (c: unknown, depth: number): void => {
    if (!isObject(c) || depth > MAX_CONDITION_DEPTH + 1) return;
    cost.nodes++;
    if (c.op === 'matches' && typeof c.value === 'string') {
      const compiled = compilePattern(c.value);
      if (compiled.ok) cost.regexProgram += compiled.pattern.programSize;
    }
    if (typeof c.segment === 'string') cost.segments.add(c.segment);
    if (Array.isArray(c.all)) for (const x of c.all) walk(x, depth + 1);
    if (Array.isArray(c.any)) for (const x of c.any) walk(x, depth + 1);
    if (c.not !== undefined) walk(c.not, depth + 1);
  };
  walk(condition, 1);
  return cost;
}

/**
 * Number of segments in the longest reference chain starting at `key` (1 for a segment that refers to no
 * other); Infinity on a cycle. `memo` caches results across calls with the same lookup.
 */
export function segmentDepth(key: string, lookup: SegmentCostLookup, memo: Map<string, number>): number {
  const known = memo.get(key);
  if (known !== undefined) return known;
  memo.set(key, CYCLE_DEPTH); // seen again before it is finished: a cycle
  let deepest = 0;
  for (const next of lookup(key)?.segments ?? []) {
    if (lookup(next) === undefined) continue;
    deepest = Math.max(deepest, segmentDepth(next, lookup, memo));
  }
  const depth = deepest + 1;
  memo.set(key, depth);
  return depth;
}

function describeChain(depth: number): string {
  return Number.isFinite(depth) ? `a chain of ${depth} segments` : 'an endless chain (a cycle)';
}

/** Adds to `reached` every segment reachable from `roots` (each once) and returns the cost they add. */
function reach(
  roots: Iterable<string>,
  lookup: SegmentCostLookup,
  reached: Set<string>,
): { nodes: number; regexProgram: number } {
  const added = { nodes: 0, regexProgram: 0 };
  const stack = [...roots];
  while (stack.length > 0) {
    const key = stack.pop() as string;
    if (reached.has(key)) continue;
    const cost = lookup(key);
    if (cost === undefined) continue;
    reached.add(key);
    added.nodes += cost.nodes;
    added.regexProgram += cost.regexProgram;
    stack.push(...cost.segments);
  }
  return added;
}

/** What exceeds the budget in a total, as a phrase following "expected", or null. */
function overBudget(nodes: number, regexProgram: number, what: string): string | null {
  if (nodes > MAX_EVALUATION_NODES)
    return `${what} to have at most ${MAX_EVALUATION_NODES} condition nodes, counting each segment they reach once (got ${nodes})`;
  if (regexProgram > MAX_EVALUATION_REGEX_PROGRAM)
    return `${what} to run regular expressions of at most ${MAX_EVALUATION_REGEX_PROGRAM} RE2 instructions in total, counting each segment they reach once (got ${regexProgram})`;
  return null;
}

/**
 * Checks the evaluation budget of one flag's rules in one environment: conditions in rule order, with the
 * segments they reach counted once each, and the depth of each segment chain. `whenPath(i)` names rule i's
 * condition; the issue is reported at the rule where the budget is first exceeded.
 */
export function checkRulesBudget(
  conditions: readonly (unknown | undefined)[],
  lookup: SegmentCostLookup,
  whenPath: (index: number) => string,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const reached = new Set<string>();
  const depths = new Map<string, number>();
  let nodes = 0;
  let regexProgram = 0;
  let overReported = false;
  conditions.forEach((when, i) => {
    if (when === undefined) return;
    const own = measureCondition(when);
    const added = reach(own.segments, lookup, reached);
    nodes += own.nodes + added.nodes;
    regexProgram += own.regexProgram + added.regexProgram;
    for (const key of own.segments) {
      if (lookup(key) === undefined) continue;
      const depth = segmentDepth(key, lookup, depths);
      if (depth > MAX_SEGMENT_DEPTH)
        issues.push({
          path: whenPath(i),
          message: `expected segments nested at most ${MAX_SEGMENT_DEPTH} deep; segment ${JSON.stringify(key)} starts ${describeChain(depth)}`,
        });
    }
    const problem = overReported ? null : overBudget(nodes, regexProgram, "the flag's rules");
    if (problem !== null) {
      overReported = true;
      issues.push({ path: whenPath(i), message: `expected ${problem}` });
    }
  });
  return issues;
}

/**
 * Checks one segment with the segments it reaches against the evaluation budget and the depth limit.
 * Returns what was expected, or null.
 */
export function checkSegmentBudget(key: string, lookup: SegmentCostLookup): string | null {
  const depth = segmentDepth(key, lookup, new Map());
  if (depth > MAX_SEGMENT_DEPTH)
    return `segments nested at most ${MAX_SEGMENT_DEPTH} deep; this segment starts ${describeChain(depth)}`;
  const total = reach([key], lookup, new Set());
  return overBudget(total.nodes, total.regexProgram, 'the segment and the segments it reaches');
}
