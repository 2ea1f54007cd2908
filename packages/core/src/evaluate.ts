import {
  type CompiledConfig,
  type CompiledFlag,
  type CompiledRule,
  type CompiledSlice,
  inHoldback,
} from './compile.ts';
import { bucketFromPrefix } from './hash.ts';
import type { EvaluationContext, EvaluationResult, FlagKind } from './model.ts';
import type { ContextRecord } from './targeting.ts';

/** Options for one evaluation: `kind` is the type the caller expects; another kind gives TYPE_MISMATCH. */
export interface EvaluateOptions {
  kind?: FlagKind;
}

function errorResult(
  flagKey: string,
  errorCode: NonNullable<EvaluationResult['errorCode']>,
  errorMessage: string,
): Readonly<EvaluationResult> {
  return Object.freeze<EvaluationResult>({ flagKey, reason: 'ERROR', errorCode, errorMessage });
}

/** Why a context is unusable, or null when it is fine. */
function contextProblem(context: unknown): string | null {
  if (typeof context !== 'object' || context === null || Array.isArray(context))
    return 'the evaluation context must be an object';
  const key = (context as EvaluationContext).targetingKey;
  if (key !== undefined && typeof key !== 'string') return 'targetingKey must be a string when present';
  return null;
}

/** A unit id from an attribute: a non-empty string or a safe integer (as its decimal digits). */
function toUnit(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function evaluateFlag(flag: CompiledFlag, context: ContextRecord, epoch: number): Readonly<EvaluationResult> {
  if (flag.fixedResult !== null) return flag.fixedResult;
  if (flag.overrides !== null) {
    const key = context.targetingKey;
    if (typeof key === 'string') {
      const result = flag.overrides.get(key);
      if (result !== undefined) return result;
    }
  }
  let skipped: Readonly<EvaluationResult> | null = null;
  let lastUnit: string | undefined;
  let lastBucket = -1;
  const rules = flag.rules;
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r] as CompiledRule;
    if (rule.when !== null && !rule.when(context, epoch)) continue;
    if (rule.holdbackResult !== null) {
      // The surface holdback: its units get the default from every rollout and experiment on the flag.
      const held = toUnit(rule.unit(context));
      if (held !== undefined && inHoldback(flag, held)) return rule.holdbackResult;
    }
    if (rule.result !== null) return rule.result;
    const unit = toUnit(rule.unit(context));
    if (unit === undefined) {
      skipped ??= rule.skippedResult;
      continue;
    }
    let b: number;
    if (unit === lastUnit) b = lastBucket;
    else {
      b = bucketFromPrefix(flag.prefix, unit);
      lastUnit = unit;
      lastBucket = b;
    }
    const slices = rule.slices;
    for (let i = 0; i < slices.length; i++) {
      const slice = slices[i] as CompiledSlice;
      if (b < slice.start) break;
      if (b < slice.end) return slice.result;
    }
  }
  return skipped ?? flag.defaultResult;
}

function generalError(flagKey: string, error: unknown): Readonly<EvaluationResult> {
  return errorResult(
    flagKey,
    'GENERAL',
    `evaluation failed: ${error instanceof Error ? error.message : 'unknown error'}`,
  );
}

/**
 * Evaluates one flag for one context. The result is frozen and may be shared between calls (copy it to
 * change it), so evaluation allocates nothing on the success path. Total: never throws; problems come back as reason ERROR with an
 * OpenFeature error code (FLAG_NOT_FOUND, TYPE_MISMATCH when `options.kind` differs from the flag's kind,
 * INVALID_CONTEXT, PARSE_ERROR for a flag that failed validation, GENERAL for anything unexpected).
 */
export function evaluate(
  compiled: CompiledConfig,
  flagKey: string,
  context: EvaluationContext,
  options?: EvaluateOptions,
): Readonly<EvaluationResult> {
  const key = typeof flagKey === 'string' ? flagKey : '';
  try {
    if (typeof flagKey !== 'string')
      return errorResult(key, 'FLAG_NOT_FOUND', 'the flag key must be a string');
    const flag = compiled.flags.get(key);
    if (flag === undefined)
      return errorResult(key, 'FLAG_NOT_FOUND', `flag ${JSON.stringify(key)} is not in this config`);
    const kind = options?.kind;
    if (kind !== undefined && kind !== flag.kind)
      return errorResult(
        key,
        'TYPE_MISMATCH',
        `flag ${JSON.stringify(key)} is a ${flag.kind} flag, not ${kind}`,
      );
    const problem = contextProblem(context);
    if (problem !== null) return errorResult(key, 'INVALID_CONTEXT', problem);
    return evaluateFlag(flag, context, compiled.segmentMemo.nextEpoch());
  } catch (error) {
    return generalError(key, error);
  }
}

/**
 * Evaluates every flag of the config for one context, in snapshot order, with the same semantics as
 * `evaluate`. Total: never throws; one failing flag does not affect the others.
 */
export function evaluateAll(
  compiled: CompiledConfig,
  context: EvaluationContext,
): Readonly<EvaluationResult>[] {
  let list: CompiledConfig['flagList'];
  try {
    list = compiled.flagList;
    if (!Array.isArray(list)) return [];
  } catch {
    return [];
  }
  const out: Readonly<EvaluationResult>[] = new Array(list.length);
  let problem: string | null;
  // One epoch for the whole call: a segment used by several flags is evaluated once for all of them.
  let epoch: number;
  try {
    epoch = compiled.segmentMemo.nextEpoch();
  } catch {
    return list.map((flag) => generalError(flag.key, new Error('the compiled config has no segment memo')));
  }
  try {
    problem = contextProblem(context);
  } catch {
    problem = 'the evaluation context could not be read';
  }
  for (let i = 0; i < list.length; i++) {
    const flag = list[i] as CompiledFlag;
    if (problem !== null) {
      out[i] = errorResult(flag.key, 'INVALID_CONTEXT', problem);
      continue;
    }
    try {
      out[i] = evaluateFlag(flag, context, epoch);
    } catch (error) {
      out[i] = generalError(flag.key, error);
    }
  }
  return out;
}
