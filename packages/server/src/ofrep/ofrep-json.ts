/**
 * OFREP answers written as JSON text, byte for byte as Fastify's serializer writes the contract's schemas
 * (required properties first, then the optional ones, absent ones left out), for the fast paths (http/fast-path.ts). Success entries
 * are kept per config version (resolve/outcome-cache.ts).
 */
import type { EvaluationResult } from '@dimmer/core';
import type { ConfigState } from '../client-deps.ts';
import { OutcomeJsonCache } from '../resolve/index.ts';
import { type OfrepFailure, type OfrepSuccess, toOfrepEvaluation } from './ofrep.service.ts';

const entries = new OutcomeJsonCache();

/**
 * One OFREP flag entry (success or failure) as JSON, in the order Fastify's serializer writes OfrepSuccess and
 * OfrepFailure: the required properties first, then the optional ones, each in schema order.
 */
export function writeOfrepEntry(result: EvaluationResult): string {
  const entry = toOfrepEvaluation(result);
  if ('errorCode' in entry) return writeFailure(entry);
  return writeSuccess(entry);
}

function writeSuccess(entry: OfrepSuccess): string {
  let text = `{"key":${JSON.stringify(entry.key)},"reason":${JSON.stringify(entry.reason)}`;
  if (entry.value !== undefined) text += `,"value":${JSON.stringify(entry.value)}`;
  if (entry.variant !== undefined) text += `,"variant":${JSON.stringify(entry.variant)}`;
  if (entry.metadata !== undefined) text += `,"metadata":${JSON.stringify(entry.metadata)}`;
  return `${text}}`;
}

function writeFailure(entry: OfrepFailure): string {
  let text = `{"key":${JSON.stringify(entry.key)},"errorCode":${JSON.stringify(entry.errorCode)}`;
  if (entry.errorDetails !== undefined) text += `,"errorDetails":${JSON.stringify(entry.errorDetails)}`;
  if (entry.metadata !== undefined) text += `,"metadata":${JSON.stringify(entry.metadata)}`;
  return `${text}}`;
}

/** The single-flag answer's body for `result` of `state`, from the cache when the outcome was written before. */
export function ofrepEntryJson(state: ConfigState, result: EvaluationResult): string {
  return entries.text(state, result, writeOfrepEntry);
}

/** The bulk answer `{ flags, metadata: { environment, version } }` as JSON. */
export function ofrepBulkJson(state: ConfigState, results: readonly EvaluationResult[]): string {
  let text = '{"flags":[';
  for (let i = 0; i < results.length; i++) {
    if (i > 0) text += ',';
    text += entries.text(state, results[i] as EvaluationResult, writeOfrepEntry);
  }
  return `${text}],"metadata":{"environment":${JSON.stringify(state.environment)},"version":${state.version}}}`;
}
