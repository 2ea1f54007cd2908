/**
 * Parsing of OFREP request bodies `{ context }` and the OFREP layer's error type.
 */
import type { EvaluationContext } from '@dimmer/core';
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import { isJsonObject, parseEvaluationContext } from '../resolve/index.ts';
import type { OfrepRequestFailure } from './ofrep.service.ts';

/** A request the OFREP routes refuse, with its error code (the status comes from ERROR_STATUS) and OFREP body. */
export class OfrepError extends Error {
  readonly code: ErrorCode;
  readonly body: OfrepRequestFailure['body'];

  constructor(code: ErrorCode, body: OfrepRequestFailure['body']) {
    super(body.errorDetails);
    this.name = 'OfrepError';
    this.code = code;
    this.body = body;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/**
 * Returns the context of an OFREP evaluation request `{ context }`, or throws OfrepError 400:
 * PARSE_ERROR for a malformed body or unknown fields, INVALID_CONTEXT for a missing or ill-typed context.
 * `key` is the flag key of single-flag requests (echoed in the failure), undefined for bulk.
 */
export function parseOfrepRequest(body: unknown, key: string | undefined): EvaluationContext {
  if (!isJsonObject(body))
    throw badRequest(key, 'PARSE_ERROR', 'The request body must be a JSON object { "context": { ... } }');
  for (const field in body) {
    if (field !== 'context' && Object.hasOwn(body, field))
      throw badRequest(
        key,
        'PARSE_ERROR',
        `Unknown field "${field}": the request body is { "context": { ... } }`,
      );
  }
  const parsed = parseEvaluationContext(body.context, 'context');
  if (!parsed.ok) {
    const issue = parsed.issues[0];
    throw badRequest(
      key,
      'INVALID_CONTEXT',
      issue === undefined ? 'Invalid context' : `${issue.path}: ${issue.message}`,
    );
  }
  return parsed.value;
}

/** The 400 of a refused body (a module-level function: the parse above runs on every OFREP request). */
function badRequest(
  key: string | undefined,
  errorCode: 'PARSE_ERROR' | 'INVALID_CONTEXT',
  errorDetails: string,
): OfrepError {
  return new OfrepError(
    'BAD_REQUEST',
    key === undefined ? { errorCode, errorDetails } : { key, errorCode, errorDetails },
  );
}
