import {
  type ConditionCost,
  checkRulesBudget,
  checkSegmentBudget,
  measureCondition,
  type SegmentCostLookup,
} from './budget.ts';
import {
  MAX_ATTRIBUTE_PATH_LENGTH,
  MAX_CONDITION_DEPTH,
  MAX_CONDITION_NODES,
  MAX_DESCRIPTION_LENGTH,
  MAX_ENVIRONMENTS,
  MAX_JSON_DEPTH,
  MAX_KEY_LENGTH,
  MAX_LIST_LENGTH,
  MAX_OVERRIDES,
  MAX_RULES,
  MAX_SALT_LENGTH,
  MAX_SEGMENT_REFERENCES,
  MAX_SPLIT_SLICES,
  MAX_STRING_VALUE_LENGTH,
  MAX_UNIT_LENGTH,
  MAX_VARIANT_VALUE_LENGTH,
  MAX_VARIANTS,
} from './limits.ts';
import type {
  AttributeOperator,
  Condition,
  FlagConfig,
  FlagKind,
  Segment,
  SnapshotFlag,
  ValidationIssue,
  ValidationResult,
} from './model.ts';
import { BUCKET_COUNT, HASH_VERSION } from './model.ts';
import { checkRegexPattern } from './regex.ts';
import { parseIsoTimestamp, parseSemver } from './semver.ts';

/** Keys of flags, segments, environments, variants and rules: a letter or digit, then letters, digits, `_`, `-`, `.`. */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Every targeting operator, in documentation order. */
export const ATTRIBUTE_OPERATORS: readonly AttributeOperator[] = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'ends_with',
  'matches',
  'lt',
  'lte',
  'gt',
  'gte',
  'semver_eq',
  'semver_lt',
  'semver_gt',
  'before',
  'after',
  'exists',
];
const OPERATOR_SET: ReadonlySet<string> = new Set(ATTRIBUTE_OPERATORS);
const FLAG_KINDS: readonly FlagKind[] = ['boolean', 'string', 'number', 'object'];

type Record_ = Record<string, unknown>;

/** Collects issues with their JSON paths. */
class Issues {
  readonly list: ValidationIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path: path === '' ? '$' : path, message });
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40
      ? `a string of ${value.length} characters`
      : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record_ {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function expectObject(value: unknown, path: string, issues: Issues, what: string): value is Record_ {
  if (isPlainObject(value)) return true;
  issues.add(path, `expected ${what}, got ${describe(value)}`);
  return false;
}

function rejectUnknownFields(obj: Record_, allowed: readonly string[], path: string, issues: Issues): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      issues.add(
        child(path, key),
        `unknown field ${JSON.stringify(key)}; allowed fields: ${allowed.join(', ')}`,
      );
  }
}

function requireField(obj: Record_, key: string, path: string, issues: Issues): boolean {
  if (Object.hasOwn(obj, key)) return true;
  issues.add(child(path, key), 'required field is missing');
  return false;
}

function checkKey(value: unknown, path: string, issues: Issues, what = 'a key'): value is string {
  if (typeof value !== 'string') {
    issues.add(path, `expected ${what} (a string), got ${describe(value)}`);
    return false;
  }
  if (value.length > MAX_KEY_LENGTH) {
    issues.add(path, `expected ${what} of at most ${MAX_KEY_LENGTH} characters, got ${value.length}`);
    return false;
  }
  if (!KEY_PATTERN.test(value)) {
    issues.add(
      path,
      `expected ${what} of letters, digits, '_', '-' and '.', starting with a letter or digit; got ${describe(value)}`,
    );
    return false;
  }
  return true;
}

function checkString(
  value: unknown,
  path: string,
  issues: Issues,
  max: number,
  what = 'a string',
): value is string {
  if (typeof value !== 'string') {
    issues.add(path, `expected ${what}, got ${describe(value)}`);
    return false;
  }
  if (value.length > max) {
    issues.add(path, `expected ${what} of at most ${max} characters, got ${value.length}`);
    return false;
  }
  return true;
}

function checkDescription(obj: Record_, path: string, issues: Issues): void {
  if (Object.hasOwn(obj, 'description'))
    checkString(obj.description, child(path, 'description'), issues, MAX_DESCRIPTION_LENGTH);
}

/** Checks a JSON value: finite numbers, plain objects, bounded depth. Returns false and adds an issue otherwise. */
function checkJson(value: unknown, path: string, issues: Issues, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return true;
    issues.add(path, `expected a finite number, got ${describe(value)}`);
    return false;
  }
  if (depth >= MAX_JSON_DEPTH) {
    issues.add(path, `expected JSON nested at most ${MAX_JSON_DEPTH} levels deep`);
    return false;
  }
  if (Array.isArray(value)) return value.every((v, i) => checkJson(v, child(path, i), issues, depth + 1));
  if (isPlainObject(value))
    return Object.keys(value).every((k) => checkJson(value[k], child(path, k), issues, depth + 1));
  issues.add(path, `expected a JSON value, got ${describe(value)}`);
  return false;
}

function checkVariantValue(kind: FlagKind, value: unknown, path: string, issues: Issues): void {
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean')
        issues.add(path, `expected a boolean (the flag kind), got ${describe(value)}`);
      return;
    case 'string':
      if (typeof value !== 'string')
        issues.add(path, `expected a string (the flag kind), got ${describe(value)}`);
      else if (value.length > MAX_VARIANT_VALUE_LENGTH)
        issues.add(
          path,
          `expected a string of at most ${MAX_VARIANT_VALUE_LENGTH} characters, got ${value.length}`,
        );
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value))
        issues.add(path, `expected a finite number (the flag kind), got ${describe(value)}`);
      return;
    case 'object':
      if (!isPlainObject(value)) {
        issues.add(path, `expected a JSON object (the flag kind), got ${describe(value)}`);
        return;
      }
      if (!checkJson(value, path, issues, 0)) return;
      if (JSON.stringify(value).length > MAX_VARIANT_VALUE_LENGTH)
        issues.add(path, `expected an object of at most ${MAX_VARIANT_VALUE_LENGTH} characters as JSON`);
      return;
  }
}

function checkAttributePath(value: unknown, path: string, issues: Issues): boolean {
  if (!checkString(value, path, issues, MAX_ATTRIBUTE_PATH_LENGTH, 'an attribute path')) return false;
  if (value === '' || value.split('.').some((part) => part === '')) {
    issues.add(
      path,
      `expected a dotted attribute path like "user.plan" with no empty parts, got ${describe(value)}`,
    );
    return false;
  }
  return true;
}

interface ConditionContext {
  issues: Issues;
  /** Known segment keys; references to others are issues. Undefined: any key is accepted. */
  segments: ReadonlySet<string> | undefined;
  /** Segment keys referenced, filled while walking. */
  references: Set<string>;
  nodes: number;
  /** Segment references seen so far, repeats included. */
  referenceCount: number;
}

function isScalar(value: unknown): value is string | number | boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function checkScalar(value: unknown, path: string, issues: Issues): void {
  if (!isScalar(value))
    issues.add(path, `expected a string, a finite number or a boolean, got ${describe(value)}`);
  else if (typeof value === 'string' && value.length > MAX_STRING_VALUE_LENGTH)
    issues.add(
      path,
      `expected a string of at most ${MAX_STRING_VALUE_LENGTH} characters, got ${value.length}`,
    );
}

function checkOperand(op: AttributeOperator, obj: Record_, path: string, issues: Issues): void {
  const vpath = child(path, 'value');
  const has = Object.hasOwn(obj, 'value');
  const value = obj.value;
  if (op === 'exists') {
    if (has) issues.add(vpath, `expected no value for operator "exists", got ${describe(value)}`);
    return;
  }
  if (!has) {
    issues.add(vpath, `required field is missing (operator ${JSON.stringify(op)} compares against a value)`);
    return;
  }
  switch (op) {
    case 'eq':
    case 'neq':
    case 'contains':
      checkScalar(value, vpath, issues);
      return;
    case 'in':
    case 'not_in':
      if (!Array.isArray(value) || value.length === 0) {
        issues.add(
          vpath,
          `expected a non-empty array of strings, numbers or booleans, got ${describe(value)}`,
        );
        return;
      }
      if (value.length > MAX_LIST_LENGTH) {
        issues.add(vpath, `expected at most ${MAX_LIST_LENGTH} values, got ${value.length}`);
        return;
      }
      value.forEach((v, i) => {
        checkScalar(v, child(vpath, i), issues);
      });
      return;
    case 'starts_with':
    case 'ends_with':
      checkString(value, vpath, issues, MAX_STRING_VALUE_LENGTH);
      return;
    case 'matches': {
      if (!checkString(value, vpath, issues, Number.POSITIVE_INFINITY, 'a regular expression (a string)'))
        return;
      const problem = checkRegexPattern(value);
      if (problem !== null) issues.add(vpath, `expected ${problem}`);
      return;
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      if (typeof value !== 'number' || !Number.isFinite(value))
        issues.add(vpath, `expected a finite number, got ${describe(value)}`);
      return;
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_gt':
      if (typeof value !== 'string' || parseSemver(value) === null)
        issues.add(
          vpath,
          `expected a semantic version like "1.4.0" or "2.0.0-beta.1", got ${describe(value)}`,
        );
      return;
    case 'before':
    case 'after':
      if (typeof value !== 'string' || parseIsoTimestamp(value) === null)
        issues.add(
          vpath,
          `expected an ISO 8601 timestamp like "2025-03-01T12:00:00Z" (a time needs a zone), got ${describe(value)}`,
        );
      return;
  }
}

const COMBINATORS = ['all', 'any', 'not', 'segment'] as const;

function checkCondition(value: unknown, path: string, ctx: ConditionContext, depth: number): void {
  const { issues } = ctx;
  if (++ctx.nodes > MAX_CONDITION_NODES) {
    if (ctx.nodes === MAX_CONDITION_NODES + 1)
      issues.add(path, `expected at most ${MAX_CONDITION_NODES} condition nodes in one condition`);
    return;
  }
  if (depth > MAX_CONDITION_DEPTH) {
    issues.add(path, `expected conditions nested at most ${MAX_CONDITION_DEPTH} levels deep`);
    return;
  }
  if (
    !expectObject(
      value,
      path,
      issues,
      'a condition object ({attr, op, value}, {all}, {any}, {not} or {segment})',
    )
  )
    return;
  if (Object.hasOwn(value, 'attr') || Object.hasOwn(value, 'op')) {
    rejectUnknownFields(value, ['attr', 'op', 'value'], path, issues);
    if (requireField(value, 'attr', path, issues))
      checkAttributePath(value.attr, child(path, 'attr'), issues);
    if (!requireField(value, 'op', path, issues)) return;
    const op = value.op;
    if (typeof op !== 'string' || !OPERATOR_SET.has(op)) {
      issues.add(child(path, 'op'), `expected one of ${ATTRIBUTE_OPERATORS.join(', ')}; got ${describe(op)}`);
      return;
    }
    checkOperand(op as AttributeOperator, value, path, issues);
    return;
  }
  const present = COMBINATORS.filter((k) => Object.hasOwn(value, k));
  if (present.length !== 1) {
    issues.add(
      path,
      present.length === 0
        ? `expected a condition: {attr, op, value}, {all: [...]}, {any: [...]}, {not: {...}} or {segment: "key"}; got fields ${Object.keys(value).join(', ') || 'none'}`
        : `expected exactly one of ${COMBINATORS.join(', ')}; got ${present.join(' and ')}`,
    );
    return;
  }
  const kind = present[0] as (typeof COMBINATORS)[number];
  rejectUnknownFields(value, [kind], path, issues);
  const inner = value[kind];
  const ipath = child(path, kind);
  if (kind === 'all' || kind === 'any') {
    if (!Array.isArray(inner) || inner.length === 0) {
      issues.add(ipath, `expected a non-empty array of conditions, got ${describe(inner)}`);
      return;
    }
    inner.forEach((c, i) => {
      checkCondition(c, child(ipath, i), ctx, depth + 1);
    });
  } else if (kind === 'not') {
    checkCondition(inner, ipath, ctx, depth + 1);
  } else if (checkKey(inner, ipath, issues, 'a segment key')) {
    if (++ctx.referenceCount === MAX_SEGMENT_REFERENCES + 1)
      issues.add(
        ipath,
        `expected at most ${MAX_SEGMENT_REFERENCES} segment references in one condition (this is reference ${ctx.referenceCount}); put shared parts in one segment`,
      );
    ctx.references.add(inner);
    if (ctx.segments !== undefined && !ctx.segments.has(inner))
      issues.add(ipath, `expected a known segment key, got unknown segment ${JSON.stringify(inner)}`);
  }
}

function checkRange(value: unknown, path: string, issues: Issues): [number, number] | null {
  const ok =
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isInteger(value[0]) &&
    Number.isInteger(value[1]) &&
    (value[0] as number) >= 0 &&
    (value[0] as number) < (value[1] as number) &&
    (value[1] as number) <= BUCKET_COUNT;
  if (!ok) {
    issues.add(
      path,
      `expected a bucket range [start, end) of integers with 0 <= start < end <= ${BUCKET_COUNT}, got ${Array.isArray(value) ? JSON.stringify(value) : describe(value)}`,
    );
    return null;
  }
  return value as [number, number];
}

function checkServe(
  value: unknown,
  path: string,
  issues: Issues,
  variants: ReadonlySet<string> | null,
): void {
  if (!expectObject(value, path, issues, 'a serve object ({variant} or {split})')) return;
  const hasVariant = Object.hasOwn(value, 'variant');
  const hasSplit = Object.hasOwn(value, 'split');
  if (hasVariant === hasSplit) {
    issues.add(path, 'expected exactly one of "variant" and "split"');
    return;
  }
  const checkVariantRef = (v: unknown, p: string): void => {
    if (typeof v !== 'string') issues.add(p, `expected a variant name, got ${describe(v)}`);
    else if (variants !== null && !variants.has(v))
      issues.add(
        p,
        `expected one of the flag's variants (${[...variants].join(', ')}), got unknown variant ${JSON.stringify(v)}`,
      );
  };
  if (hasVariant) {
    rejectUnknownFields(value, ['variant'], path, issues);
    checkVariantRef(value.variant, child(path, 'variant'));
    return;
  }
  rejectUnknownFields(value, ['split'], path, issues);
  const split = value.split;
  const spath = child(path, 'split');
  if (!Array.isArray(split) || split.length === 0 || split.length > MAX_SPLIT_SLICES) {
    issues.add(
      spath,
      `expected an array of 1 to ${MAX_SPLIT_SLICES} slices, got ${describe(split)}${Array.isArray(split) ? ` of ${split.length}` : ''}`,
    );
    return;
  }
  const ranges: { range: [number, number]; index: number }[] = [];
  split.forEach((slice, i) => {
    const p = child(spath, i);
    if (!expectObject(slice, p, issues, 'a slice {variant, range, arm?}')) return;
    rejectUnknownFields(slice, ['variant', 'range', 'arm'], p, issues);
    if (requireField(slice, 'variant', p, issues)) checkVariantRef(slice.variant, child(p, 'variant'));
    if (requireField(slice, 'range', p, issues)) {
      const range = checkRange(slice.range, child(p, 'range'), issues);
      if (range) ranges.push({ range, index: i });
    }
    if (Object.hasOwn(slice, 'arm') && slice.arm !== 'treatment' && slice.arm !== 'control')
      issues.add(child(p, 'arm'), `expected "treatment" or "control", got ${describe(slice.arm)}`);
  });
  ranges.sort((a, b) => a.range[0] - b.range[0]);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1] as (typeof ranges)[number];
    const cur = ranges[i] as (typeof ranges)[number];
    if (cur.range[0] < prev.range[1])
      issues.add(
        child(child(spath, cur.index), 'range'),
        `expected bucket ranges that do not overlap; [${cur.range.join(', ')}) overlaps split[${prev.index}] [${prev.range.join(', ')})`,
      );
  }
}

/** The segments known to a validation: their keys, and their own costs when their conditions were given. */
interface KnownSegments {
  keys: ReadonlySet<string> | undefined;
  cost: SegmentCostLookup;
}

const NO_SEGMENT_COSTS: SegmentCostLookup = () => undefined;

function checkRules(
  value: unknown,
  path: string,
  issues: Issues,
  variants: ReadonlySet<string> | null,
  known: KnownSegments,
): void {
  const segments = known.keys;
  if (!Array.isArray(value)) {
    issues.add(path, `expected an array of rules, got ${describe(value)}`);
    return;
  }
  if (value.length > MAX_RULES) {
    issues.add(path, `expected at most ${MAX_RULES} rules, got ${value.length}`);
    return;
  }
  const ids = new Map<string, number>();
  value.forEach((rule, i) => {
    const p = child(path, i);
    if (!expectObject(rule, p, issues, 'a rule {id, when?, bucketBy?, rollout?, experiment?, serve}')) return;
    rejectUnknownFields(
      rule,
      ['id', 'description', 'when', 'bucketBy', 'rollout', 'experiment', 'serve'],
      p,
      issues,
    );
    if (requireField(rule, 'id', p, issues) && checkKey(rule.id, child(p, 'id'), issues, 'a rule id')) {
      const earlier = ids.get(rule.id);
      if (earlier !== undefined)
        issues.add(
          child(p, 'id'),
          `expected a rule id unique in this environment; rules[${earlier}] has id ${JSON.stringify(rule.id)}`,
        );
      else ids.set(rule.id, i);
      if (rule.id === 'override')
        issues.add(child(p, 'id'), 'expected a rule id other than "override" (reserved for overrides)');
    }
    checkDescription(rule, p, issues);
    if (Object.hasOwn(rule, 'when'))
      checkCondition(
        rule.when,
        child(p, 'when'),
        { issues, segments, references: new Set(), nodes: 0, referenceCount: 0 },
        1,
      );
    if (Object.hasOwn(rule, 'bucketBy')) checkAttributePath(rule.bucketBy, child(p, 'bucketBy'), issues);
    if (Object.hasOwn(rule, 'rollout')) checkKey(rule.rollout, child(p, 'rollout'), issues, 'a rollout id');
    if (Object.hasOwn(rule, 'experiment'))
      checkKey(rule.experiment, child(p, 'experiment'), issues, 'an experiment id');
    if (Object.hasOwn(rule, 'rollout') && Object.hasOwn(rule, 'experiment'))
      issues.add(p, 'expected at most one of "rollout" and "experiment" on a rule');
    if (requireField(rule, 'serve', p, issues)) checkServe(rule.serve, child(p, 'serve'), issues, variants);
  });
  const conditions = value.map((rule: unknown) => (isPlainObject(rule) ? rule.when : undefined));
  for (const issue of checkRulesBudget(conditions, known.cost, (i) => child(child(path, i), 'when')))
    issues.add(issue.path, issue.message);
}

function checkOverrides(
  value: unknown,
  path: string,
  issues: Issues,
  variants: ReadonlySet<string> | null,
): void {
  if (!expectObject(value, path, issues, 'an object of unit id → variant name')) return;
  const keys = Object.keys(value);
  if (keys.length > MAX_OVERRIDES) {
    issues.add(path, `expected at most ${MAX_OVERRIDES} overrides, got ${keys.length}`);
    return;
  }
  for (const unit of keys) {
    const p = child(path, unit);
    if (unit.length === 0 || unit.length > MAX_UNIT_LENGTH)
      issues.add(p, `expected a unit id of 1 to ${MAX_UNIT_LENGTH} characters`);
    const v = value[unit];
    if (typeof v !== 'string') issues.add(p, `expected a variant name, got ${describe(v)}`);
    else if (variants !== null && !variants.has(v))
      issues.add(
        p,
        `expected one of the flag's variants (${[...variants].join(', ')}), got unknown variant ${JSON.stringify(v)}`,
      );
  }
}

/** Checks the flag-level fields shared by documents and snapshot flags; returns the variant names when readable. */
function checkFlagHead(obj: Record_, issues: Issues): ReadonlySet<string> | null {
  if (requireField(obj, 'key', '', issues)) checkKey(obj.key, 'key', issues, 'a flag key');
  let kind: FlagKind | null = null;
  if (requireField(obj, 'kind', '', issues)) {
    if (typeof obj.kind === 'string' && (FLAG_KINDS as readonly string[]).includes(obj.kind))
      kind = obj.kind as FlagKind;
    else issues.add('kind', `expected one of ${FLAG_KINDS.join(', ')}; got ${describe(obj.kind)}`);
  }
  let variants: Set<string> | null = null;
  if (
    requireField(obj, 'variants', '', issues) &&
    expectObject(obj.variants, 'variants', issues, 'an object of variant name → value')
  ) {
    const names = Object.keys(obj.variants);
    if (names.length === 0 || names.length > MAX_VARIANTS)
      issues.add('variants', `expected 1 to ${MAX_VARIANTS} variants, got ${names.length}`);
    variants = new Set();
    for (const name of names) {
      const p = child('variants', name);
      if (checkKey(name, p, issues, 'a variant name')) variants.add(name);
      if (kind !== null) checkVariantValue(kind, obj.variants[name], p, issues);
    }
  }
  if (requireField(obj, 'defaultVariant', '', issues)) {
    const dv = obj.defaultVariant;
    if (typeof dv !== 'string') issues.add('defaultVariant', `expected a variant name, got ${describe(dv)}`);
    else if (variants !== null && !variants.has(dv))
      issues.add(
        'defaultVariant',
        `expected one of the flag's variants (${[...variants].join(', ')}), got unknown variant ${JSON.stringify(dv)}`,
      );
  }
  if (
    requireField(obj, 'salt', '', issues) &&
    checkString(obj.salt, 'salt', issues, MAX_SALT_LENGTH) &&
    obj.salt === ''
  )
    issues.add('salt', 'expected a non-empty salt');
  if (requireField(obj, 'hashVersion', '', issues) && obj.hashVersion !== HASH_VERSION)
    issues.add(
      'hashVersion',
      `expected ${HASH_VERSION} (the only assignment hash version), got ${describe(obj.hashVersion)}`,
    );
  return variants;
}

function checkEnvironmentBody(
  obj: Record_,
  path: string,
  issues: Issues,
  variants: ReadonlySet<string> | null,
  segments: KnownSegments,
): void {
  if (requireField(obj, 'enabled', path, issues) && typeof obj.enabled !== 'boolean')
    issues.add(child(path, 'enabled'), `expected true or false, got ${describe(obj.enabled)}`);
  if (Object.hasOwn(obj, 'overrides'))
    checkOverrides(obj.overrides, child(path, 'overrides'), issues, variants);
  if (requireField(obj, 'rules', path, issues))
    checkRules(obj.rules, child(path, 'rules'), issues, variants, segments);
}

/**
 * Options for flag validation. `segments`: the known segment keys, or the segments themselves by key;
 * references to others are issues. Given the segments themselves, the evaluation budget also counts the
 * segments each environment's rules reach (once each) and checks how deep their chains go.
 */
export interface FlagValidationOptions {
  segments?: Iterable<string> | Readonly<Record<string, Segment>>;
}

function knownSegments(segments: FlagValidationOptions['segments']): KnownSegments {
  if (segments === undefined) return { keys: undefined, cost: NO_SEGMENT_COSTS };
  // A Set is used as it is (compileConfig validates every flag against one); other iterables are copied.
  if (segments instanceof Set) return { keys: segments, cost: NO_SEGMENT_COSTS };
  if (Symbol.iterator in segments) return { keys: new Set(segments), cost: NO_SEGMENT_COSTS };
  const bodies = segments as Readonly<Record<string, Segment>>;
  const costs = new Map<string, ConditionCost>();
  for (const key of Object.keys(bodies)) {
    const seg = bodies[key];
    if (isPlainObject(seg)) costs.set(key, measureCondition(seg.when));
  }
  return { keys: new Set(Object.keys(bodies)), cost: (key) => costs.get(key) };
}

function done<T>(input: unknown, issues: Issues): ValidationResult<T> {
  return issues.list.length === 0 ? { ok: true, value: input as T } : { ok: false, issues: issues.list };
}

/**
 * Validates a flag document as stored and edited through the admin API. Rejects unknown fields, never
 * coerces, and reports every problem with its JSON path; when `options.segments` is given, references to
 * other segment keys are issues.
 */
export function validateFlagConfig(
  input: unknown,
  options?: FlagValidationOptions,
): ValidationResult<FlagConfig> {
  const issues = new Issues();
  if (!expectObject(input, '', issues, 'a flag object')) return done(input, issues);
  rejectUnknownFields(
    input,
    [
      'key',
      'kind',
      'surface',
      'description',
      'variants',
      'defaultVariant',
      'salt',
      'hashVersion',
      'environments',
    ],
    '',
    issues,
  );
  const segments = knownSegments(options?.segments);
  const variants = checkFlagHead(input, issues);
  if (Object.hasOwn(input, 'surface')) checkKey(input.surface, 'surface', issues, 'a surface key');
  checkDescription(input, '', issues);
  if (requireField(input, 'environments', '', issues)) {
    const envs = input.environments;
    if (expectObject(envs, 'environments', issues, 'an object of environment name → state')) {
      const names = Object.keys(envs);
      if (names.length > MAX_ENVIRONMENTS)
        issues.add('environments', `expected at most ${MAX_ENVIRONMENTS} environments, got ${names.length}`);
      for (const name of names) {
        const p = child('environments', name);
        checkKey(name, p, issues, 'an environment name');
        const env = envs[name];
        if (!expectObject(env, p, issues, 'an environment state {enabled, overrides?, rules}')) continue;
        rejectUnknownFields(env, ['enabled', 'overrides', 'rules'], p, issues);
        checkEnvironmentBody(env, p, issues, variants, segments);
      }
    }
  }
  return done(input, issues);
}

/**
 * Validates one flag as shipped in an environment snapshot (the document flattened to one environment),
 * with the same rules as `validateFlagConfig`.
 */
export function validateSnapshotFlag(
  input: unknown,
  options?: FlagValidationOptions,
): ValidationResult<SnapshotFlag> {
  const issues = new Issues();
  if (!expectObject(input, '', issues, 'a snapshot flag object')) return done(input, issues);
  rejectUnknownFields(
    input,
    [
      'key',
      'kind',
      'variants',
      'defaultVariant',
      'salt',
      'hashVersion',
      'enabled',
      'overrides',
      'rules',
      'holdback',
    ],
    '',
    issues,
  );
  const segments = knownSegments(options?.segments);
  const variants = checkFlagHead(input, issues);
  checkEnvironmentBody(input, '', issues, variants, segments);
  if (input.holdback !== undefined) checkHoldback(input.holdback, issues);
  return done(input, issues);
}

/** A snapshot flag's surface holdback: surface key, salt, buckets in [0, 1,000,000], rule ids. */
function checkHoldback(value: unknown, issues: Issues): void {
  const path = 'holdback';
  if (!expectObject(value, path, issues, 'a holdback object { surface, salt, buckets, rules }')) return;
  rejectUnknownFields(value, ['surface', 'salt', 'buckets', 'rules'], path, issues);
  if (typeof value.surface !== 'string' || value.surface === '')
    issues.add(`${path}.surface`, 'expected the key of the surface');
  if (typeof value.salt !== 'string' || value.salt === '' || value.salt.length > MAX_SALT_LENGTH)
    issues.add(`${path}.salt`, `expected a non-empty salt of at most ${MAX_SALT_LENGTH} characters`);
  if (
    !Number.isInteger(value.buckets) ||
    (value.buckets as number) < 0 ||
    (value.buckets as number) > BUCKET_COUNT
  )
    issues.add(`${path}.buckets`, `expected an integer number of buckets from 0 to ${BUCKET_COUNT}`);
  if (!Array.isArray(value.rules) || !value.rules.every((r) => typeof r === 'string'))
    issues.add(`${path}.rules`, 'expected an array of rule ids');
}

/** The segment keys a condition refers to, directly (not through other segments). */
export function segmentReferences(condition: Condition): Set<string> {
  const out = new Set<string>();
  const walk = (c: unknown, depth: number): void => {
    if (!isPlainObject(c) || depth > MAX_CONDITION_DEPTH + 1) return;
    if (typeof c.segment === 'string') out.add(c.segment);
    if (Array.isArray(c.all)) for (const x of c.all) walk(x, depth + 1);
    if (Array.isArray(c.any)) for (const x of c.any) walk(x, depth + 1);
    if (c.not !== undefined) walk(c.not, depth + 1);
  };
  walk(condition, 0);
  return out;
}

/** Options for segment validation: the other segments by key, for reference and cycle checks. */
export interface SegmentValidationOptions {
  segments?: Record<string, Segment>;
}

/**
 * Validates a segment. When `options.segments` is given (the other segments by key; the new one replaces
 * any of the same key), references to unknown segments and reference cycles are issues; a segment that
 * refers to itself is always an issue.
 */
export function validateSegment(
  input: unknown,
  options?: SegmentValidationOptions,
): ValidationResult<Segment> {
  const issues = new Issues();
  if (!expectObject(input, '', issues, 'a segment object {key, description?, when}'))
    return done(input, issues);
  rejectUnknownFields(input, ['key', 'description', 'when'], '', issues);
  const keyOk = requireField(input, 'key', '', issues) && checkKey(input.key, 'key', issues, 'a segment key');
  checkDescription(input, '', issues);
  if (!requireField(input, 'when', '', issues)) return done(input, issues);
  const others = options?.segments;
  const known = others === undefined ? undefined : new Set(Object.keys(others));
  if (known !== undefined && keyOk) known.add(input.key as string);
  const ctx: ConditionContext = {
    issues,
    segments: known,
    references: new Set(),
    nodes: 0,
    referenceCount: 0,
  };
  checkCondition(input.when, 'when', ctx, 1);
  if (!keyOk) return done(input, issues);
  const self = input.key as string;
  // Depth-first search from the new segment through the others, with the new one in place of its key.
  const edges = (key: string): Set<string> => {
    if (key === self) return ctx.references;
    const seg = others !== undefined && Object.hasOwn(others, key) ? others[key] : undefined;
    return seg !== undefined && isPlainObject(seg) ? segmentReferences(seg.when) : new Set();
  };
  const onPath: string[] = [];
  const visited = new Set<string>();
  const visit = (key: string): string[] | null => {
    if (onPath.includes(key)) return [...onPath.slice(onPath.indexOf(key)), key];
    if (visited.has(key)) return null;
    visited.add(key);
    onPath.push(key);
    for (const next of edges(key)) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    onPath.pop();
    return null;
  };
  const cycle = visit(self);
  if (cycle) issues.add('when', `expected no segment cycle; found ${cycle.join(' → ')}`);
  else checkSegmentGraphBudget(self, input.when, others, issues);
  return done(input, issues);
}

/**
 * With the other segments known: the new segment, and every segment that reaches it, must stay within the
 * evaluation budget and the nesting depth once the new one is saved.
 */
function checkSegmentGraphBudget(
  self: string,
  when: unknown,
  others: Record<string, Segment> | undefined,
  issues: Issues,
): void {
  const costs = new Map<string, ConditionCost>();
  if (others !== undefined)
    for (const key of Object.keys(others)) {
      const seg = others[key];
      if (key !== self && isPlainObject(seg)) costs.set(key, measureCondition(seg.when));
    }
  costs.set(self, measureCondition(when));
  const lookup: SegmentCostLookup = (key) => costs.get(key);
  const own = checkSegmentBudget(self, lookup);
  if (own !== null) {
    issues.add('when', `expected ${own}`);
    return;
  }
  // Only the segments that reach the new one change: walk the references backwards from it.
  const users = new Set<string>([self]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [key, cost] of costs)
      if (!users.has(key) && [...cost.segments].some((s) => users.has(s))) {
        users.add(key);
        grew = true;
      }
  }
  for (const key of users) {
    if (key === self) continue;
    const problem = checkSegmentBudget(key, lookup);
    if (problem !== null) {
      issues.add(
        'when',
        `expected a change that keeps segment ${JSON.stringify(key)}, which uses this one, within its limits: ${problem}`,
      );
      return;
    }
  }
}
