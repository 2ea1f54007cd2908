/**
 * In-browser evaluation with @dimmer/core: the playground's result and the edit page's preview of units
 * that would change variant, computed by the same code the SDKs run.
 */
import {
  compileConfig,
  type EvaluationContext,
  type EvaluationResult,
  evaluate,
  type FlagConfig,
  flattenFlag,
  previewSplitChange,
  type Segment,
  type SplitChangePreview,
  type ValidationIssue,
} from '@dimmer/core';

/** Units in the in-browser preview sample (the server samples 100,000; 20,000 keeps typing responsive). */
export const LOCAL_PREVIEW_SAMPLE_SIZE = 20_000;

/** The playground's answer: the evaluation and any problem the compiler found in the flag or segments. */
export interface PlaygroundResult {
  result: EvaluationResult;
  issues: ValidationIssue[];
}

function segmentsOnly(segments: readonly Segment[]): Segment[] {
  return segments.map((s) => ({
    key: s.key,
    when: s.when,
    ...(s.description !== undefined ? { description: s.description } : {}),
  }));
}

/** Evaluates one flag for one context in one environment, exactly as a server-mode SDK would. */
export function evaluateLocally(
  flag: FlagConfig,
  segments: readonly Segment[],
  environment: string,
  context: EvaluationContext,
): PlaygroundResult {
  const compiled = compileConfig({
    environment,
    version: 0,
    flags: [flattenFlag(flag, environment)],
    segments: segmentsOnly(segments),
  });
  return { result: { ...evaluate(compiled, flag.key, context) }, issues: [...compiled.issues] };
}

/** Parses the playground's context text: a JSON object, or the reason it is not one. */
export function parseContext(
  text: string,
): { ok: true; value: EvaluationContext } | { ok: false; issues: ValidationIssue[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      issues: [{ path: '$', message: `not JSON: ${error instanceof Error ? error.message : 'parse error'}` }],
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return {
      ok: false,
      issues: [{ path: '$', message: 'expected a JSON object, e.g. {"targetingKey": "user-1"}' }],
    };
  return { ok: true, value: value as EvaluationContext };
}

let sample: string[] | undefined;

/** The same synthetic unit ids the server samples (`unit-0`, `unit-1`, …), first `size` of them. */
export function previewUnits(size: number = LOCAL_PREVIEW_SAMPLE_SIZE): readonly string[] {
  if (sample?.length !== size) sample = Array.from({ length: size }, (_, i) => `unit-${i}`);
  return sample;
}

/**
 * Per environment whose flattened flag differs between `before` and `after`: how many sampled units
 * (each with `attributes` added to its context) would get another variant. Computed before saving, so a
 * person sees the blast radius first.
 */
export function previewLocally(
  before: FlagConfig,
  after: FlagConfig,
  segments: readonly Segment[],
  size: number = LOCAL_PREVIEW_SAMPLE_SIZE,
  attributes: EvaluationContext = {},
): Record<string, SplitChangePreview> {
  const units = previewUnits(size);
  // Without attributes a targeted rule (country, email…) never matches a sampled unit; with them it can.
  const samples =
    Object.keys(attributes).length === 0 ? units : units.map((u) => ({ ...attributes, targetingKey: u }));
  const out: Record<string, SplitChangePreview> = {};
  const environments = new Set([...Object.keys(before.environments), ...Object.keys(after.environments)]);
  for (const env of environments) {
    const a = flattenFlag(before, env);
    const b = flattenFlag(after, env);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    out[env] = previewSplitChange(a, b, samples, segmentsOnly(segments));
  }
  return out;
}
