import type { AttributeCondition, Condition } from './model.ts';
import { compilePattern } from './regex.ts';
import { compareSemver, parseIsoTimestamp, parseSemver } from './semver.ts';

/** A context as seen by compiled conditions: any object; attributes are read as own properties only. */
export type ContextRecord = Readonly<Record<string, unknown>>;

/**
 * A compiled condition: true when the context matches. `epoch` identifies the evaluation (see SegmentMemo):
 * segment results computed under the same epoch are reused. Never throws on plain JSON contexts.
 */
export type Predicate = (context: ContextRecord, epoch: number) => boolean;

/** Resolves a segment key to its compiled condition, or null when the segment is unknown or broken. */
export type SegmentResolver = (key: string) => Predicate | null;

/** Thrown while compiling a condition that references an unusable segment; caught by compileConfig. */
export class ConditionCompileError extends Error {}

/**
 * Remembers each segment's result for one evaluation, so a segment referenced many times (directly or
 * through other segments) is evaluated at most once. A slot is valid while its stamp equals the epoch of
 * the evaluation that reads it; a new evaluation takes a new epoch, which makes every slot stale at once.
 * Nothing is allocated per evaluation. A nested evaluation (a context getter that evaluates again) takes its
 * own epoch; the outer one then finds stale slots and recomputes them, so results stay correct.
 */
export class SegmentMemo {
  private readonly stamps: Float64Array;
  private readonly values: Uint8Array;
  private epoch = 0;

  /** `size`: the number of segments, one slot each. */
  constructor(size: number) {
    this.stamps = new Float64Array(size);
    this.values = new Uint8Array(size);
  }

  /** The epoch of a new evaluation; results remembered for earlier epochs are no longer used. */
  nextEpoch(): number {
    return ++this.epoch;
  }

  /** Wraps a segment's predicate so that it runs at most once per epoch, remembering its result in `slot`. */
  remember(slot: number, predicate: Predicate): Predicate {
    const stamps = this.stamps;
    const values = this.values;
    return (ctx, epoch) => {
      if (stamps[slot] === epoch) return values[slot] === 1;
      const result = predicate(ctx, epoch);
      stamps[slot] = epoch;
      values[slot] = result ? 1 : 0;
      return result;
    };
  }
}

/** A getter for a dotted attribute path, split once; reads own properties only (never the prototype chain). */
export function compilePath(path: string): (context: ContextRecord) => unknown {
  const parts = path.split('.');
  if (parts.length === 1) {
    const key = parts[0] as string;
    return (context) => {
      const v = context[key];
      return v !== undefined && Object.hasOwn(context, key) ? v : undefined;
    };
  }
  return (context) => {
    let current: unknown = context;
    for (let i = 0; i < parts.length; i++) {
      if (typeof current !== 'object' || current === null) return undefined;
      const key = parts[i] as string;
      const next: unknown = (current as Record<string, unknown>)[key];
      if (next === undefined || !Object.hasOwn(current, key)) return undefined;
      current = next;
    }
    return current;
  };
}

function toTimestamp(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return parseIsoTimestamp(value);
  return null;
}

const isPresent = (v: unknown): boolean => v !== undefined && v !== null;

function compileAttribute(c: AttributeCondition): Predicate {
  const get = compilePath(c.attr);
  const v = c.value;
  switch (c.op) {
    case 'eq':
      return (ctx) => get(ctx) === v;
    case 'neq':
      return (ctx) => {
        const a = get(ctx);
        return isPresent(a) && a !== v;
      };
    case 'in':
    case 'not_in': {
      const set = new Set(v as unknown[]);
      const negate = c.op === 'not_in';
      return (ctx) => {
        const a = get(ctx);
        if (!isPresent(a)) return false;
        if (Array.isArray(a)) {
          for (const x of a) if (set.has(x)) return !negate;
          return negate;
        }
        return set.has(a) !== negate;
      };
    }
    case 'contains':
      return (ctx) => {
        const a = get(ctx);
        if (typeof a === 'string') return typeof v === 'string' && a.includes(v);
        return Array.isArray(a) && a.includes(v);
      };
    case 'starts_with': {
      const s = v as string;
      return (ctx) => {
        const a = get(ctx);
        return typeof a === 'string' && a.startsWith(s);
      };
    }
    case 'ends_with': {
      const s = v as string;
      return (ctx) => {
        const a = get(ctx);
        return typeof a === 'string' && a.endsWith(s);
      };
    }
    case 'matches': {
      const compiled = compilePattern(v as string);
      if (!compiled.ok) throw new ConditionCompileError(`expected ${compiled.problem}`);
      const pattern = compiled.pattern;
      return (ctx) => {
        const a = get(ctx);
        return typeof a === 'string' && pattern.test(a);
      };
    }
    case 'lt': {
      const n = v as number;
      return (ctx) => {
        const a = get(ctx);
        return typeof a === 'number' && a < n;
      };
    }
    case 'lte': {
      const n = v as number;
      return (ctx) => {
        const a = get(ctx);
        return typeof a === 'number' && a <= n;
      };
    }
    case 'gt': {
      const n = v as number;
      return (ctx) => {
        const a = get(ctx);
        return typeof a === 'number' && a > n;
      };
    }
    case 'gte': {
      const n = v as number;
      return (ctx) => {
        const a = get(ctx);
        return typeof a === 'number' && a >= n;
      };
    }
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_gt': {
      const target = parseSemver(v as string);
      if (target === null) throw new ConditionCompileError(`invalid semantic version ${JSON.stringify(v)}`);
      const sign = c.op === 'semver_eq' ? 0 : c.op === 'semver_lt' ? -1 : 1;
      // The last version string and its answer: an application's contexts carry few distinct versions.
      let lastText: string | undefined;
      let lastAnswer = false;
      return (ctx) => {
        const a = get(ctx);
        if (typeof a !== 'string') return false;
        if (a === lastText) return lastAnswer;
        const version = parseSemver(a);
        const answer = version !== null && Math.sign(compareSemver(version, target)) === sign;
        lastText = a;
        lastAnswer = answer;
        return answer;
      };
    }
    case 'before':
    case 'after': {
      const t = parseIsoTimestamp(v as string);
      if (t === null) throw new ConditionCompileError(`invalid timestamp ${JSON.stringify(v)}`);
      const before = c.op === 'before';
      return (ctx) => {
        const a = toTimestamp(get(ctx));
        return a !== null && (before ? a < t : a > t);
      };
    }
    case 'exists':
      return (ctx) => isPresent(get(ctx));
    default:
      throw new ConditionCompileError(`unknown operator ${JSON.stringify((c as { op: unknown }).op)}`);
  }
}

/**
 * Compiles a validated condition to a predicate: lists become Sets, paths are split, regexes and versions
 * are parsed once. Segment references are resolved through `resolveSegment`, which returns the segment's
 * memoised predicate (see SegmentMemo).
 */
export function compileCondition(condition: Condition, resolveSegment: SegmentResolver): Predicate {
  if ('attr' in condition) return compileAttribute(condition);
  if ('all' in condition) {
    const parts = condition.all.map((c) => compileCondition(c, resolveSegment));
    if (parts.length === 1) return parts[0] as Predicate;
    if (parts.length === 2) {
      const [a, b] = parts as [Predicate, Predicate];
      return (ctx, epoch) => a(ctx, epoch) && b(ctx, epoch);
    }
    return (ctx, epoch) => {
      for (let i = 0; i < parts.length; i++) if (!(parts[i] as Predicate)(ctx, epoch)) return false;
      return true;
    };
  }
  if ('any' in condition) {
    const parts = condition.any.map((c) => compileCondition(c, resolveSegment));
    if (parts.length === 1) return parts[0] as Predicate;
    return (ctx, epoch) => {
      for (let i = 0; i < parts.length; i++) if ((parts[i] as Predicate)(ctx, epoch)) return true;
      return false;
    };
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not, resolveSegment);
    return (ctx, epoch) => !inner(ctx, epoch);
  }
  const segment = resolveSegment(condition.segment);
  if (segment === null)
    throw new ConditionCompileError(`segment ${JSON.stringify(condition.segment)} is unknown or invalid`);
  return segment;
}
