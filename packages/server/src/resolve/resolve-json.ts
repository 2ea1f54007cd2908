/**
 * The `POST /sdk/v1/resolve` answer written as JSON text, byte for byte as Fastify's serializer writes the
 * ResolveResponse schema (required properties first, then the optional ones, absent ones left out), for the fast paths
 * (http/fast-path.ts). Entries without an error are kept per config version (outcome-cache.ts).
 */
import type { EvaluationResult } from '@dimmer/core';
import type { ConfigState } from '../client-deps.ts';
import { OutcomeJsonCache } from './outcome-cache.ts';

const entries = new OutcomeJsonCache();

/**
 * One resolved flag as JSON, in the order Fastify's serializer writes ResolvedFlag: the required `reason`, then
 * value, variant, errorCode and errorMessage when present.
 */
function writeResolvedFlag(result: EvaluationResult): string {
  let text = `{"reason":${JSON.stringify(result.reason)}`;
  if (result.value !== undefined) text += `,"value":${JSON.stringify(result.value)}`;
  if (result.variant !== undefined) text += `,"variant":${JSON.stringify(result.variant)}`;
  if (result.errorCode !== undefined) text += `,"errorCode":${JSON.stringify(result.errorCode)}`;
  if (result.errorMessage !== undefined) text += `,"errorMessage":${JSON.stringify(result.errorMessage)}`;
  return `${text}}`;
}

/** The resolve answer `{ environment, version, flags: { <key>: entry } }` as JSON (a repeated key: its last entry). */
export function resolveJson(state: ConfigState, results: readonly EvaluationResult[]): string {
  // A plain object, as toResolveResponse builds: a repeated key keeps its first place and its last entry.
  const flags: Record<string, string> = {};
  for (const result of results) flags[result.flagKey] = entries.text(state, result, writeResolvedFlag);
  let text = `{"environment":${JSON.stringify(state.environment)},"version":${state.version},"flags":{`;
  let first = true;
  for (const key of Object.keys(flags)) {
    text += `${first ? '' : ','}${JSON.stringify(key)}:${flags[key]}`;
    first = false;
  }
  return `${text}}}`;
}
