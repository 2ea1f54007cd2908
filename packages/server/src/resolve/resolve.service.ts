/**
 * Remote resolution: evaluates flags of an environment's in-memory config for one context and
 * reports the exposures that rollout and experiment rules served.
 */
import type { ResolvedFlag, ResolveResponse } from '@dimmer/api';
import { type EvaluationContext, type EvaluationResult, evaluate, evaluateAll } from '@dimmer/core';
import type { ClientPrincipal, ConfigState, ExposureSink } from '../client-deps.ts';

export type { ResolvedFlag, ResolveResponse };

/** Evaluates `flagKeys` (every flag when undefined) against the config; never throws for unknown flags. */
export function evaluateFlags(
  state: ConfigState,
  context: EvaluationContext,
  flagKeys: readonly string[] | undefined,
): EvaluationResult[] {
  if (flagKeys === undefined) return evaluateAll(state.compiled, context);
  return flagKeys.map((key) => evaluate(state.compiled, key, context));
}

/** Shapes evaluation results as the resolve answer: one entry per flag key. */
export function toResolveResponse(state: ConfigState, results: readonly EvaluationResult[]): ResolveResponse {
  const flags: Record<string, ResolvedFlag> = {};
  for (const result of results) {
    const entry: ResolvedFlag = { reason: result.reason };
    if (result.value !== undefined) entry.value = result.value;
    if (result.variant !== undefined) entry.variant = result.variant;
    if (result.errorCode !== undefined) entry.errorCode = result.errorCode;
    if (result.errorMessage !== undefined) entry.errorMessage = result.errorMessage;
    flags[result.flagKey] = entry;
  }
  return { environment: state.environment, version: state.version, flags };
}

/**
 * Reports the results a rollout or experiment rule served (inExperiment) to the exposure sink, with the
 * context's targetingKey as the unit; does nothing without a sink or without such results.
 */
export function reportExposures(
  sink: ExposureSink | undefined,
  principal: ClientPrincipal,
  context: EvaluationContext,
  results: readonly EvaluationResult[],
): void {
  if (sink === undefined) return;
  const exposed = results.filter((result) => result.inExperiment === true);
  if (exposed.length === 0) return;
  const unit = context.targetingKey;
  sink(principal, typeof unit === 'string' ? { unit } : {}, exposed);
}

/** Reports exposures as reportExposures does; a failing sink is logged to `log` and does not fail the request. */
export function reportExposuresSafely(
  log: { error(object: object, message: string): void },
  sink: ExposureSink | undefined,
  principal: ClientPrincipal,
  context: EvaluationContext,
  results: readonly EvaluationResult[],
): void {
  try {
    reportExposures(sink, principal, context, results);
  } catch (error) {
    log.error({ err: error }, 'exposure logging failed');
  }
}
