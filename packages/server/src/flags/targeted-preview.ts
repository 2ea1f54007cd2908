/**
 * The preview of a flag edit for its targeted rules. The split preview's synthetic units (`unit-0` …) carry no
 * attributes, so a rule with a condition matches none of them: widening a targeted 25% split to 50% would
 * preview as nobody changing. Here each rule with a condition gets its own sample: the same unit ids, each with
 * attributes made to satisfy the rule's condition (its segments followed), bucketed by the attribute the rule
 * names. The share is then that of the units the rule targets.
 */
import {
  type Condition,
  type EvaluationContext,
  type FlagConfig,
  flattenFlag,
  type JsonValue,
  previewSplitChange,
  type Segment,
  type SplitChangePreview,
} from '@dimmer/core';
import { previewSample } from './split-preview.ts';

/** Most segment references followed while making a context (a cycle is refused on save; this bounds depth). */
const MAX_SEGMENT_DEPTH = 8;
/** A time before and after any timestamp a rule compares with (`before` / `after`). */
const EARLIEST = '1970-01-01T00:00:00.000Z';
const LATEST = '2999-12-31T00:00:00.000Z';

type Attributes = Record<string, JsonValue>;

/** The preview of one targeted rule: the attributes its sample carried and how many units change variant. */
export interface TargetedRulePreview extends SplitChangePreview {
  rule: string;
  /** The attributes every sampled unit carried (made to satisfy the rule's condition). */
  attributes: Attributes;
}

/** A value that satisfies `op` against `value`, or undefined when none can be made (e.g. a regex). */
function valueFor(op: string, value: JsonValue | undefined): JsonValue | undefined {
  const text = typeof value === 'string' ? value : undefined;
  const num = typeof value === 'number' ? value : undefined;
  switch (op) {
    case 'eq':
    case 'semver_eq':
    case 'lte':
    case 'gte':
      return value;
    case 'neq':
      return num !== undefined ? num + 1 : `${String(value)}-other`;
    case 'in':
      return Array.isArray(value) ? value[0] : undefined;
    case 'not_in':
      return `not-${JSON.stringify(value ?? '')}`;
    case 'contains':
      return text !== undefined ? `x${text}x` : undefined;
    case 'starts_with':
      return text !== undefined ? `${text}x` : undefined;
    case 'ends_with':
      return text !== undefined ? `x${text}` : undefined;
    case 'lt':
      return num !== undefined ? num - 1 : undefined;
    case 'gt':
      return num !== undefined ? num + 1 : undefined;
    case 'semver_lt':
      return '0.0.0';
    case 'semver_gt':
      return '999999.0.0';
    case 'before':
      return EARLIEST;
    case 'after':
      return LATEST;
    case 'exists':
      return 'x';
    default:
      return undefined;
  }
}

/** Merges `b` into `a`; null when they set one attribute to different values. */
function merge(a: Attributes, b: Attributes): Attributes | null {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (k in out && JSON.stringify(out[k]) !== JSON.stringify(v)) return null;
    out[k] = v;
  }
  return out;
}

/**
 * Attributes (dotted paths to values) that satisfy `condition`, or null when none can be made: a regular
 * expression, a negation of anything but one attribute test, or contradictory requirements.
 */
export function attributesFor(
  condition: Condition,
  segments: ReadonlyMap<string, Segment>,
  depth = 0,
): Attributes | null {
  if ('attr' in condition) {
    const v = valueFor(condition.op, condition.value);
    return v === undefined ? null : { [condition.attr]: v };
  }
  if ('all' in condition) {
    let out: Attributes | null = {};
    for (const c of condition.all) {
      const part = attributesFor(c, segments, depth);
      out = part === null || out === null ? null : merge(out, part);
      if (out === null) return null;
    }
    return out;
  }
  if ('any' in condition) {
    for (const c of condition.any) {
      const part = attributesFor(c, segments, depth);
      if (part !== null) return part;
    }
    return null;
  }
  if ('not' in condition) {
    const inner = condition.not;
    if (!('attr' in inner)) return null;
    const negated: Record<string, string> = { eq: 'neq', neq: 'eq', in: 'not_in', lt: 'gte', gt: 'lte' };
    const op = negated[inner.op];
    if (op === undefined) return null;
    const v = valueFor(op, inner.op === 'in' ? inner.value : inner.value);
    return v === undefined ? null : { [inner.attr]: v };
  }
  if (depth >= MAX_SEGMENT_DEPTH) return null;
  const segment = segments.get(condition.segment);
  return segment === undefined ? null : attributesFor(segment.when, segments, depth + 1);
}

/** Sets a dotted path (`user.plan`) in a context, creating the objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

/** The sample of one rule: each unit id with the rule's attributes, bucketed by the rule's `bucketBy`. */
function contextsOf(attributes: Attributes, bucketBy: string | undefined, size: number): EvaluationContext[] {
  return previewSample(size).map((unit) => {
    const context: Record<string, unknown> = { targetingKey: unit };
    for (const [path, value] of Object.entries(attributes)) setPath(context, path, value);
    if (bucketBy !== undefined && bucketBy !== 'targetingKey') setPath(context, bucketBy, unit);
    return context as EvaluationContext;
  });
}

/**
 * Per environment whose state of the flag changed, per rule with a condition (in the flag before or after the
 * edit): how many of `size` units that rule targets would change variant. A rule whose condition cannot be
 * satisfied by made-up attributes (a regular expression) is left out.
 */
export function previewTargetedRules(
  before: FlagConfig,
  after: FlagConfig,
  environments: readonly string[],
  segments: readonly Segment[],
  size: number,
): Record<string, TargetedRulePreview[]> {
  const bySegment = new Map(segments.map((s) => [s.key, s]));
  const out: Record<string, TargetedRulePreview[]> = {};
  for (const env of environments) {
    const a = before.environments[env];
    const b = after.environments[env];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const rules = [...(a?.rules ?? []), ...(b?.rules ?? [])].filter((r) => r.when !== undefined);
    const seen = new Set<string>();
    const previews: TargetedRulePreview[] = [];
    for (const rule of rules) {
      if (seen.has(rule.id) || rule.when === undefined) continue;
      seen.add(rule.id);
      const attributes = attributesFor(rule.when, bySegment);
      if (attributes === null) continue;
      const sample = contextsOf(attributes, rule.bucketBy, size);
      const preview = previewSplitChange(flattenFlag(before, env), flattenFlag(after, env), sample, segments);
      previews.push({ rule: rule.id, attributes, ...preview });
    }
    if (previews.length > 0) out[env] = previews;
  }
  return out;
}
