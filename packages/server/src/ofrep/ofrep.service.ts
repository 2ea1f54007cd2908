/**
 * Translation between Dimmer evaluations and the OpenFeature Remote Evaluation Protocol (OFREP) wire
 * format: success and failure bodies, HTTP statuses, reasons, flag metadata and the bulk ETag.
 */
import type {
  OfrepFailure as ContractOfrepFailure,
  OfrepBulkSuccess,
  OfrepFlagNotFound,
  OfrepMetadata,
  OfrepReason,
  OfrepSuccess,
} from '@dimmer/api';
import type { EvaluationContext, EvaluationResult } from '@dimmer/core';
import type { ConfigState } from '../client-deps.ts';
import { contextEtag } from '../resolve/index.ts';

export type { OfrepBulkSuccess, OfrepMetadata, OfrepReason, OfrepSuccess };
/** An evaluation failure: the contract's failure, or the single-flag route's FLAG_NOT_FOUND. */
export type OfrepFailure = ContractOfrepFailure | OfrepFlagNotFound;
/** The error codes an OFREP failure may carry (FLAG_NOT_FOUND only for the single-flag 404). */
export type OfrepErrorCode = OfrepFailure['errorCode'];

/** A request-level OFREP failure (bulk: no key) and its HTTP status. */
export interface OfrepRequestFailure {
  status: number;
  body: { key?: string; errorCode?: OfrepErrorCode; errorDetails: string };
}

/** Statuses of the single-flag endpoint per failure code (TYPE_MISMATCH never reaches OFREP: providers check types). */
const FAILURE_STATUS: Record<OfrepErrorCode, number> = {
  FLAG_NOT_FOUND: 404,
  TARGETING_KEY_MISSING: 400,
  INVALID_CONTEXT: 400,
  PARSE_ERROR: 400,
  GENERAL: 500,
};

/** A Dimmer reason as an OFREP reason; DEFAULT (no rule matched) has no OFREP name and becomes UNKNOWN. */
function toOfrepReason(reason: EvaluationResult['reason']): OfrepReason {
  switch (reason) {
    case 'STATIC':
    case 'TARGETING_MATCH':
    case 'SPLIT':
    case 'DISABLED':
      return reason;
    default:
      return 'UNKNOWN';
  }
}

function toOfrepErrorCode(code: EvaluationResult['errorCode']): OfrepErrorCode {
  switch (code) {
    case 'FLAG_NOT_FOUND':
    case 'TARGETING_KEY_MISSING':
    case 'INVALID_CONTEXT':
    case 'PARSE_ERROR':
      return code;
    default:
      return 'GENERAL';
  }
}

/** Flag metadata: the matched rule, and Dimmer's own reason where OFREP has no name for it. */
function flagMetadata(result: EvaluationResult, reason: OfrepReason): OfrepMetadata | undefined {
  let metadata: OfrepMetadata | undefined;
  if (result.ruleId !== undefined) metadata = { ruleId: result.ruleId };
  if (reason !== result.reason) metadata = { ...metadata, dimmerReason: result.reason };
  return metadata;
}

/**
 * One evaluation as an OFREP flag entry: a success when a value was served, otherwise a failure
 * (the provider then falls back to the code default).
 */
export function toOfrepEvaluation(result: EvaluationResult): OfrepSuccess | OfrepFailure {
  if (result.errorCode !== undefined || result.value === undefined) {
    const failure: OfrepFailure = { key: result.flagKey, errorCode: toOfrepErrorCode(result.errorCode) };
    failure.errorDetails = result.errorMessage ?? `Flag "${result.flagKey}" could not be evaluated`;
    return failure;
  }
  const reason = toOfrepReason(result.reason);
  const success: OfrepSuccess = { key: result.flagKey, value: result.value, reason };
  if (result.variant !== undefined) success.variant = result.variant;
  const metadata = flagMetadata(result, reason);
  if (metadata !== undefined) success.metadata = metadata;
  return success;
}

/** The HTTP status of a single-flag answer: 200 for a success, else per the failure code. */
export function singleFlagStatus(entry: OfrepSuccess | OfrepFailure): number {
  return 'errorCode' in entry ? FAILURE_STATUS[entry.errorCode] : 200;
}

/** The HTTP status of the single-flag answer to `result` (singleFlagStatus without building the entry). */
export function resultStatus(result: EvaluationResult): number {
  return result.errorCode !== undefined || result.value === undefined
    ? FAILURE_STATUS[toOfrepErrorCode(result.errorCode)]
    : 200;
}

/** The bulk answer: every flag of the environment, with the config version as flag-set metadata. */
export function toOfrepBulk(state: ConfigState, results: readonly EvaluationResult[]): OfrepBulkSuccess {
  return {
    // Every flag of the environment exists, so no entry is FLAG_NOT_FOUND.
    flags: results.map(toOfrepEvaluation) as OfrepBulkSuccess['flags'],
    metadata: { environment: state.environment, version: state.version },
  };
}

/**
 * The bulk ETag: a hash of environment, config version and the canonical context, so it changes when
 * either the config or the context changes.
 */
export function bulkEtag(
  state: Pick<ConfigState, 'environment' | 'version'>,
  context: EvaluationContext,
): string {
  return contextEtag(state, context);
}
