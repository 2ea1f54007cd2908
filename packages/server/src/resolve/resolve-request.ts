/**
 * Parsing of remote-resolution request bodies (`POST /sdk/v1/resolve` and the OFREP bodies share the
 * context rules). Unknown top-level fields are rejected; the context itself is free-form JSON.
 */
import type { EvaluationContext, ValidationIssue } from '@dimmer/core';

/** Most flag keys one resolve request may name. */
export const MAX_RESOLVE_FLAGS = 1000;
/** Longest accepted flag key, in characters. */
export const MAX_FLAG_KEY_LENGTH = 256;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** A parsed `POST /sdk/v1/resolve` body. */
export interface ResolveRequest {
  context: EvaluationContext;
  /** Flags to resolve; absent means every flag of the environment. */
  flags?: string[];
  /** False to resolve without logging exposures (e.g. when prefetching); default true. */
  logExposures: boolean;
}

const RESOLVE_FIELDS = new Set(['context', 'flags', 'logExposures']);

/** Whether a value is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks an evaluation context: a JSON object whose `targetingKey`, when present, is a string.
 * `path` names the context in issue messages (e.g. `context`).
 */
export function parseEvaluationContext(value: unknown, path: string): ParseResult<EvaluationContext> {
  if (!isJsonObject(value)) {
    return { ok: false, issues: [{ path, message: 'expected a JSON object' }] };
  }
  const targetingKey = value.targetingKey;
  if (targetingKey !== undefined && typeof targetingKey !== 'string') {
    return { ok: false, issues: [{ path: `${path}.targetingKey`, message: 'expected a string' }] };
  }
  return { ok: true, value: value as EvaluationContext };
}

/** Parses a `POST /sdk/v1/resolve` body `{ context, flags?, logExposures? }`. */
export function parseResolveRequest(body: unknown): ParseResult<ResolveRequest> {
  if (!isJsonObject(body)) {
    return { ok: false, issues: [{ path: '', message: 'expected a JSON object { context, flags? }' }] };
  }
  const issues: ValidationIssue[] = [];
  for (const field of Object.keys(body)) {
    if (!RESOLVE_FIELDS.has(field)) issues.push({ path: field, message: 'unknown field' });
  }
  let context: EvaluationContext = {};
  if (body.context === undefined) {
    issues.push({ path: 'context', message: 'required: the evaluation context object' });
  } else {
    const parsed = parseEvaluationContext(body.context, 'context');
    if (parsed.ok) context = parsed.value;
    else issues.push(...parsed.issues);
  }
  const flags = parseFlagList(body.flags, issues);
  let logExposures = true;
  if (body.logExposures !== undefined) {
    if (typeof body.logExposures === 'boolean') logExposures = body.logExposures;
    else issues.push({ path: 'logExposures', message: 'expected a boolean' });
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: flags === undefined ? { context, logExposures } : { context, flags, logExposures },
  };
}

function parseFlagList(value: unknown, issues: ValidationIssue[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    issues.push({ path: 'flags', message: 'expected an array of flag keys' });
    return undefined;
  }
  if (value.length > MAX_RESOLVE_FLAGS) {
    issues.push({ path: 'flags', message: `at most ${MAX_RESOLVE_FLAGS} flag keys per request` });
    return undefined;
  }
  const keys: string[] = [];
  value.forEach((key, index) => {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_FLAG_KEY_LENGTH) {
      issues.push({
        path: `flags[${index}]`,
        message: `expected a flag key (a string of 1 to ${MAX_FLAG_KEY_LENGTH} characters)`,
      });
    } else {
      keys.push(key);
    }
  });
  return keys;
}
