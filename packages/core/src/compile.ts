import { type ConditionCost, checkRulesBudget, checkSegmentBudget, measureCondition } from './budget.ts';
import { bucketFromPrefix, type HashState, saltPrefixState } from './hash.ts';
import type {
  Arm,
  EnvironmentSnapshot,
  EvaluationResult,
  FlagConfig,
  FlagKind,
  FlagValue,
  JsonValue,
  Segment,
  SnapshotFlag,
  SnapshotHoldback,
  ValidationIssue,
  ValidationResult,
} from './model.ts';
import {
  ConditionCompileError,
  type ContextRecord,
  compileCondition,
  compilePath,
  type Predicate,
  SegmentMemo,
} from './targeting.ts';
import { segmentReferences, validateSegment, validateSnapshotFlag } from './validate.ts';

/** One slice of a compiled split: buckets `[start, end)` serve `variant`. */
export interface CompiledSlice {
  readonly start: number;
  readonly end: number;
  readonly variant: string;
  readonly value: FlagValue;
  readonly arm: Arm | undefined;
  /** The frozen result served for buckets of this slice. */
  readonly result: Readonly<EvaluationResult>;
}

/** A rule ready to evaluate. `unit` reads the bucketing unit; `unitAttribute` names it for messages. */
export interface CompiledRule {
  readonly id: string;
  readonly when: Predicate | null;
  readonly unitAttribute: string;
  readonly unit: (context: ContextRecord) => unknown;
  readonly variant: string | null;
  readonly value: FlagValue | undefined;
  readonly slices: readonly CompiledSlice[];
  readonly rollout: string | undefined;
  readonly experiment: string | undefined;
  /** The frozen result when this rule serves a single variant; null for splits. */
  readonly result: Readonly<EvaluationResult> | null;
  /** The frozen DEFAULT result explaining that this split rule was skipped for want of a unit. */
  readonly skippedResult: Readonly<EvaluationResult>;
  /** The frozen result for units in the surface holdback when the holdback applies to this rule; else null. */
  readonly holdbackResult: Readonly<EvaluationResult> | null;
}

/** A flag's surface holdback ready to evaluate: units whose bucket under `prefix` is below `buckets`. */
export interface CompiledHoldback {
  readonly surface: string;
  readonly prefix: HashState;
  readonly buckets: number;
}

/**
 * A flag ready to evaluate. `error` is set for a flag that failed validation or compilation: it then
 * evaluates to reason ERROR with errorCode PARSE_ERROR and this message.
 */
export interface CompiledFlag {
  readonly key: string;
  readonly kind: FlagKind;
  readonly error: string | null;
  readonly enabled: boolean;
  readonly defaultVariant: string;
  readonly defaultValue: FlagValue | undefined;
  readonly variants: ReadonlyMap<string, FlagValue>;
  readonly prefix: HashState;
  /** unit id → frozen override result. */
  readonly overrides: ReadonlyMap<string, Readonly<EvaluationResult>> | null;
  readonly rules: readonly CompiledRule[];
  /**
   * The frozen result that does not depend on the context, if there is one: ERROR for a broken flag,
   * DISABLED, or STATIC (no overrides and no rules, or a first rule serving one variant unconditionally).
   */
  readonly fixedResult: Readonly<EvaluationResult> | null;
  /** The frozen DEFAULT result, served when no rule matches. */
  readonly defaultResult: Readonly<EvaluationResult>;
  /** The surface holdback, when the flag's surface keeps one. */
  readonly holdback: CompiledHoldback | null;
}

/** Whether `unit` is in the flag's surface holdback (always false without one). */
export function inHoldback(flag: CompiledFlag, unit: string): boolean {
  const h = flag.holdback;
  return h !== null && h.buckets > 0 && bucketFromPrefix(h.prefix, unit) < h.buckets;
}

/** One environment's config prepared once per config version for fast, total evaluation. */
export interface CompiledConfig {
  readonly environment: string;
  readonly version: number;
  /** Problems found while compiling: broken flags and segments, duplicates, a malformed snapshot. */
  readonly issues: readonly ValidationIssue[];
  readonly flags: ReadonlyMap<string, CompiledFlag>;
  /** The flags in snapshot order, for evaluateAll. */
  readonly flagList: readonly CompiledFlag[];
  /** Segment results of the evaluation in progress: each segment is evaluated at most once per evaluation. */
  readonly segmentMemo: SegmentMemo;
}

const DEFAULT_UNIT_ATTRIBUTE = 'targetingKey';
/** The rule id reported when a per-unit override served the value. */
export const OVERRIDE_RULE_ID = 'override';
const MAX_REPORTED_ISSUES = 3;

function deepFreezeCopy(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return Object.freeze(value.map(deepFreezeCopy)) as JsonValue[];
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(value)) out[key] = deepFreezeCopy(value[key] as JsonValue);
  return Object.freeze(out);
}

function summarize(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, MAX_REPORTED_ISSUES).map((i) => `${i.path}: ${i.message}`);
  const more = issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

/**
 * The flag for one environment, as shipped to SDKs: the document's variants and salt with that
 * environment's state, and its surface's holdback when given. A flag without that environment is disabled
 * with no rules.
 */
export function flattenFlag(
  flag: FlagConfig,
  environment: string,
  holdback?: SnapshotHoldback,
): SnapshotFlag {
  const env = Object.hasOwn(flag.environments, environment) ? flag.environments[environment] : undefined;
  const out: SnapshotFlag = {
    key: flag.key,
    kind: flag.kind,
    variants: flag.variants,
    defaultVariant: flag.defaultVariant,
    salt: flag.salt,
    hashVersion: flag.hashVersion,
    enabled: env?.enabled ?? false,
    rules: env?.rules ?? [],
  };
  if (env?.overrides !== undefined) out.overrides = env.overrides;
  if (holdback !== undefined) out.holdback = holdback;
  return out;
}

function brokenFlag(key: string, kind: FlagKind, error: string): CompiledFlag {
  const result = Object.freeze<EvaluationResult>({
    flagKey: key,
    reason: 'ERROR',
    errorCode: 'PARSE_ERROR',
    errorMessage: error,
  });
  return {
    key,
    kind,
    error,
    enabled: false,
    defaultVariant: '',
    defaultValue: undefined,
    variants: new Map(),
    prefix: saltPrefixState(''),
    overrides: null,
    rules: [],
    fixedResult: result,
    defaultResult: result,
    holdback: null,
  };
}

/** A frozen result; exposure fields are added for rules managed by a rollout or an experiment. */
function frozenResult(
  base: EvaluationResult,
  rule: { rollout?: string | undefined; experiment?: string | undefined } | null,
  arm: Arm | undefined,
): Readonly<EvaluationResult> {
  const out: EvaluationResult = { ...base };
  if (rule !== null && (rule.rollout !== undefined || rule.experiment !== undefined)) {
    out.inExperiment = true;
    if (rule.rollout !== undefined) out.rollout = rule.rollout;
    if (rule.experiment !== undefined) out.experiment = rule.experiment;
    if (arm !== undefined) out.arm = arm;
  }
  return Object.freeze(out);
}

function guessKind(raw: unknown): FlagKind {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  return kind === 'boolean' || kind === 'string' || kind === 'number' || kind === 'object' ? kind : 'boolean';
}

function compileFlag(flag: SnapshotFlag, resolveSegment: (key: string) => Predicate | null): CompiledFlag {
  const flagKey = flag.key;
  const variants = new Map<string, FlagValue>();
  for (const name of Object.keys(flag.variants))
    variants.set(name, deepFreezeCopy(flag.variants[name] as JsonValue) as FlagValue);
  const variantValue = (variant: string): FlagValue => variants.get(variant) as FlagValue;
  const defaultValue = variantValue(flag.defaultVariant);
  const defaultResult = frozenResult(
    { flagKey, value: defaultValue, variant: flag.defaultVariant, reason: 'DEFAULT' },
    null,
    undefined,
  );
  const heldBack = new Set(flag.holdback?.rules ?? []);
  const rules: CompiledRule[] = flag.rules.map((rule) => {
    const unitAttribute = rule.bucketBy ?? DEFAULT_UNIT_ATTRIBUTE;
    const serve = rule.serve;
    const slices: CompiledSlice[] =
      'split' in serve
        ? serve.split
            .map((s) => ({
              start: s.range[0],
              end: s.range[1],
              variant: s.variant,
              value: variantValue(s.variant),
              arm: s.arm,
              result: frozenResult(
                {
                  flagKey,
                  value: variantValue(s.variant),
                  variant: s.variant,
                  reason: 'SPLIT',
                  ruleId: rule.id,
                },
                rule,
                s.arm,
              ),
            }))
            .sort((a, b) => a.start - b.start)
        : [];
    return {
      id: rule.id,
      when: rule.when === undefined ? null : compileCondition(rule.when, resolveSegment),
      unitAttribute,
      unit: compilePath(unitAttribute),
      variant: 'variant' in serve ? serve.variant : null,
      value: 'variant' in serve ? variantValue(serve.variant) : undefined,
      slices,
      rollout: rule.rollout,
      experiment: rule.experiment,
      result:
        'variant' in serve
          ? frozenResult(
              {
                flagKey,
                value: variantValue(serve.variant),
                variant: serve.variant,
                reason: 'TARGETING_MATCH',
                ruleId: rule.id,
              },
              rule,
              undefined,
            )
          : null,
      skippedResult: frozenResult(
        {
          flagKey,
          value: defaultValue,
          variant: flag.defaultVariant,
          reason: 'DEFAULT',
          errorMessage: `rule "${rule.id}" was skipped: the context has no unit in "${unitAttribute}" (a non-empty string or an integer) to split by`,
        },
        null,
        undefined,
      ),
      holdbackResult:
        flag.holdback !== undefined && heldBack.has(rule.id)
          ? Object.freeze<EvaluationResult>({
              flagKey,
              value: defaultValue,
              variant: flag.defaultVariant,
              reason: 'DEFAULT',
              ruleId: rule.id,
              inExperiment: true,
              holdback: flag.holdback.surface,
            })
          : null,
    };
  });
  const overrideEntries = flag.overrides === undefined ? [] : Object.entries(flag.overrides);
  const first = rules[0];
  let fixedResult: Readonly<EvaluationResult> | null = null;
  if (!flag.enabled) {
    fixedResult = frozenResult(
      { flagKey, value: defaultValue, variant: flag.defaultVariant, reason: 'DISABLED' },
      null,
      undefined,
    );
  } else if (overrideEntries.length === 0) {
    if (first === undefined)
      fixedResult = frozenResult(
        { flagKey, value: defaultValue, variant: flag.defaultVariant, reason: 'STATIC' },
        null,
        undefined,
      );
    else if (
      first.when === null &&
      first.variant !== null &&
      first.rollout === undefined &&
      first.experiment === undefined &&
      first.holdbackResult === null
    )
      fixedResult = frozenResult(
        {
          flagKey,
          value: variantValue(first.variant),
          variant: first.variant,
          reason: 'STATIC',
          ruleId: first.id,
        },
        null,
        undefined,
      );
  }
  const overrideResults = new Map<string, Readonly<EvaluationResult>>();
  for (const [unit, variant] of overrideEntries)
    overrideResults.set(
      unit,
      frozenResult(
        {
          flagKey,
          value: variantValue(variant),
          variant,
          reason: 'TARGETING_MATCH',
          ruleId: OVERRIDE_RULE_ID,
        },
        null,
        undefined,
      ),
    );
  return {
    key: flagKey,
    kind: flag.kind,
    error: null,
    enabled: flag.enabled,
    defaultVariant: flag.defaultVariant,
    defaultValue,
    variants,
    prefix: saltPrefixState(flag.salt),
    overrides: overrideResults.size > 0 ? overrideResults : null,
    rules,
    fixedResult,
    defaultResult,
    holdback:
      flag.holdback === undefined
        ? null
        : {
            surface: flag.holdback.surface,
            prefix: saltPrefixState(flag.holdback.salt),
            buckets: flag.holdback.buckets,
          },
  };
}

function emptyConfig(issues: ValidationIssue[]): CompiledConfig {
  return {
    environment: '',
    version: 0,
    issues,
    flags: new Map(),
    flagList: [],
    segmentMemo: new SegmentMemo(0),
  };
}

/**
 * Prepares one environment snapshot for evaluation, once per config version: validates every flag and
 * segment, resolves segment references, compiles regexes and lookups. Total: a flag or segment that
 * fails keeps an entry that evaluates to ERROR / PARSE_ERROR, and every problem is listed in `issues`.
 * With `previous` (the compiled config of an earlier snapshot), entries the new snapshot shares with the earlier
 * one (the same objects, as a patched snapshot keeps them) are not compiled again: when every segment is the
 * same object as before, the segments and every unchanged flag that compiled cleanly are taken over.
 */
export function compileConfig(snapshot: EnvironmentSnapshot, previous?: CompiledConfig): CompiledConfig {
  try {
    return compileSnapshot(snapshot, previous === undefined ? undefined : reusable.get(previous));
  } catch (error) {
    return emptyConfig([
      {
        path: '$',
        message: `could not compile the snapshot: ${error instanceof Error ? error.message : 'unknown error'}`,
      },
    ]);
  }
}

/** What a compile keeps so that compiling a later snapshot can take over the entries that did not change. */
interface Reusable {
  rawSegments: readonly unknown[];
  /** The issues the segments gave, in the order they were found. */
  segmentIssues: readonly ValidationIssue[];
  segmentKeys: ReadonlySet<string>;
  costOf: (key: string) => ConditionCost | undefined;
  resolveSegment: (key: string) => Predicate | null;
  memo: SegmentMemo;
  /** Each flag (the snapshot's object) that compiled without an issue, and what it compiled to. */
  flags: WeakMap<object, CompiledFlag>;
  /** Each segment (the snapshot's object) with its validation and own cost, which depend on it alone. */
  segmentChecks: WeakMap<object, SegmentCheck>;
}

/** A segment's validation and, when valid, the cost of its own condition. */
interface SegmentCheck {
  result: ValidationResult<Segment>;
  cost: ConditionCost | null;
}

const reusable = new WeakMap<CompiledConfig, Reusable>();

function sameEntries(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry === b[i]);
}

function compileSnapshot(snapshot: EnvironmentSnapshot, previous?: Reusable): CompiledConfig {
  const issues: ValidationIssue[] = [];
  const raw = snapshot as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return emptyConfig([{ path: '$', message: 'expected an environment snapshot object' }]);
  const s = raw as Record<string, unknown>;
  const environment = typeof s.environment === 'string' ? s.environment : '';
  if (typeof s.environment !== 'string') issues.push({ path: 'environment', message: 'expected a string' });
  const version = typeof s.version === 'number' && Number.isFinite(s.version) ? s.version : 0;
  if (version !== s.version) issues.push({ path: 'version', message: 'expected a finite number' });
  const rawSegments = Array.isArray(s.segments) ? s.segments : [];
  if (!Array.isArray(s.segments)) issues.push({ path: 'segments', message: 'expected an array of segments' });
  const rawFlags = Array.isArray(s.flags) ? s.flags : [];
  if (!Array.isArray(s.flags)) issues.push({ path: 'flags', message: 'expected an array of flags' });

  const reused =
    previous !== undefined && sameEntries(rawSegments, previous.rawSegments) ? previous : undefined;
  const segmentState = reused ?? compileSegments(rawSegments, previous?.segmentChecks);
  issues.push(...segmentState.segmentIssues);
  const { segmentKeys, costOf, resolveSegment, memo } = segmentState;
  const compiledFlags = new WeakMap<object, CompiledFlag>();

  const flags = new Map<string, CompiledFlag>();
  const flagList: CompiledFlag[] = [];
  rawFlags.forEach((flag: unknown, i: number) => {
    const key = (flag as { key?: unknown } | null)?.key;
    if (typeof key !== 'string') {
      issues.push({ path: `flags[${i}].key`, message: 'expected a flag key; this flag cannot be evaluated' });
      return;
    }
    if (flags.has(key)) {
      issues.push({
        path: `flags[${i}].key`,
        message: `duplicate flag key ${JSON.stringify(key)}; the first one is used`,
      });
      return;
    }
    const earlier = reused?.flags.get(flag as object);
    if (earlier !== undefined) {
      compiledFlags.set(flag as object, earlier);
      flags.set(key, earlier);
      flagList.push(earlier);
      return;
    }
    let compiled: CompiledFlag;
    let clean = false;
    const checked = validateSnapshotFlag(flag, { segments: segmentKeys });
    const budget = checked.ok
      ? checkRulesBudget(
          checked.value.rules.map((rule) => rule.when),
          costOf,
          (r) => `rules[${r}].when`,
        )
      : [];
    const result = budget.length === 0 ? checked : { ok: false as const, issues: budget };
    if (!result.ok) {
      issues.push(...result.issues.map((x) => ({ path: `flags[${i}].${x.path}`, message: x.message })));
      compiled = brokenFlag(key, guessKind(flag), `invalid flag configuration: ${summarize(result.issues)}`);
    } else {
      try {
        compiled = compileFlag(result.value, resolveSegment);
        clean = true;
      } catch (error) {
        if (!(error instanceof ConditionCompileError)) throw error;
        issues.push({ path: `flags[${i}]`, message: error.message });
        compiled = brokenFlag(key, result.value.kind, `invalid flag configuration: ${error.message}`);
      }
    }
    if (clean) compiledFlags.set(flag as object, compiled);
    flags.set(key, compiled);
    flagList.push(compiled);
  });
  const config: CompiledConfig = { environment, version, issues, flags, flagList, segmentMemo: memo };
  reusable.set(config, { ...segmentState, rawSegments, flags: compiledFlags });
  return config;
}

/**
 * Validates the segments alone, then compiles them on demand following references, refusing cycles. A segment
 * object found in `earlier` (a previous compile's checks) is not validated or measured again.
 */
function compileSegments(
  rawSegments: readonly unknown[],
  earlier?: WeakMap<object, SegmentCheck>,
): Omit<Reusable, 'rawSegments' | 'flags'> {
  const issues: ValidationIssue[] = [];
  const segments = new Map<string, Segment>();
  const segmentErrors = new Map<string, string>();
  const segmentChecks = new WeakMap<object, SegmentCheck>();
  const segmentCosts = new Map<string, ConditionCost>();
  rawSegments.forEach((seg: unknown, i: number) => {
    const key = (seg as { key?: unknown } | null)?.key;
    const isObject = typeof seg === 'object' && seg !== null;
    let check = isObject ? earlier?.get(seg) : undefined;
    if (check === undefined) {
      const result = validateSegment(seg);
      check = { result, cost: result.ok ? measureCondition(result.value.when) : null };
    }
    if (isObject) segmentChecks.set(seg, check);
    const result = check.result;
    if (typeof key === 'string' && (segments.has(key) || segmentErrors.has(key))) {
      issues.push({
        path: `segments[${i}].key`,
        message: `duplicate segment key ${JSON.stringify(key)}; the first one is used`,
      });
      return;
    }
    if (!result.ok) {
      issues.push(...result.issues.map((x) => ({ path: `segments[${i}].${x.path}`, message: x.message })));
      if (typeof key === 'string') segmentErrors.set(key, summarize(result.issues));
      return;
    }
    segments.set(result.value.key, result.value);
    segmentCosts.set(result.value.key, check.cost as ConditionCost);
  });
  // The evaluation budget of each segment with the segments it reaches; one over it cannot be used.
  const costOf = (key: string): ConditionCost | undefined => segmentCosts.get(key);
  for (const key of segments.keys()) {
    const problem = checkSegmentBudget(key, costOf);
    if (problem !== null) segmentErrors.set(key, `expected ${problem}`);
  }
  const memo = new SegmentMemo(segments.size);
  const slots = new Map([...segments.keys()].map((key, slot) => [key, slot]));
  const compiledSegments = new Map<string, Predicate | null>();
  const inProgress = new Set<string>();
  const resolveSegment = (key: string): Predicate | null => {
    const known = compiledSegments.get(key);
    if (known !== undefined) return known;
    const seg = segments.get(key);
    if (seg === undefined || inProgress.has(key) || segmentErrors.has(key)) return null;
    inProgress.add(key);
    let predicate: Predicate | null = null;
    try {
      predicate = memo.remember(slots.get(key) as number, compileCondition(seg.when, resolveSegment));
    } catch (error) {
      if (!(error instanceof ConditionCompileError)) throw error;
      segmentErrors.set(key, error.message);
    }
    inProgress.delete(key);
    compiledSegments.set(key, predicate);
    return predicate;
  };
  for (const [key, seg] of segments) {
    if (segmentReferences(seg.when).has(key)) segmentErrors.set(key, 'the segment refers to itself');
    if (resolveSegment(key) === null) {
      const message = segmentErrors.get(key) ?? 'a segment cycle or an unusable reference';
      issues.push({
        path: `segments[${JSON.stringify(key)}]`,
        message: `segment cannot be used: ${message}`,
      });
    }
  }

  // Broken segments count as known to flags, so a reference to one reports why it is broken at compile time.
  const segmentKeys: ReadonlySet<string> = new Set([...segments.keys(), ...segmentErrors.keys()]);
  return { segmentIssues: issues, segmentKeys, costOf, resolveSegment, memo, segmentChecks };
}
