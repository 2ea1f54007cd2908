/**
 * Turns every error into the standard body `{ error: { code, message, details } }`: our AppError as is,
 * Fastify's schema validation errors as VALIDATION_FAILED with the offending paths, framework errors by
 * code and status, and anything else as INTERNAL with an id that is also logged. Statuses come only from
 * the one code → status table (errors.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode, errorBody } from '../errors.ts';
import { StoreUnavailableError } from '../storage/write.ts';

/** Seconds a client is told to wait when the storage is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

interface AjvLikeError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/environments/production/rules/0` → `environments.production.rules[0]`. */
export function jsonPointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function join(base: string, field: string): string {
  return base === '' ? field : `${base}.${field}`;
}

/** The issue list for a schema validation error; body paths are bare, others are prefixed (`querystring.limit`). */
export function validationIssues(
  errors: readonly AjvLikeError[],
  context: string | undefined,
): { path: string; message: string }[] {
  const prefix = context === undefined || context === 'body' ? '' : context;
  const seen = new Set<string>();
  const issues: { path: string; message: string }[] = [];
  for (const error of errors) {
    let path = jsonPointerToPath(error.instancePath ?? '');
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties' && typeof error.params?.additionalProperty === 'string') {
      path = join(path, error.params.additionalProperty);
      message = 'unknown field';
    } else if (error.keyword === 'required' && typeof error.params?.missingProperty === 'string') {
      path = join(path, error.params.missingProperty);
      message = 'is required';
    }
    if (prefix !== '') path = join(prefix, path);
    const id = `${path}\u0000${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    issues.push({ path, message });
  }
  return issues;
}

/** HTTP status of a framework error → our code (the code's own status then comes from ERROR_STATUS). */
const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/** Fastify's own request-body errors → our code, whatever status Fastify gave them. */
const FASTIFY_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/** The message of every internal error reply: the same on every route, naming the id that is logged with it. */
export function internalErrorMessage(errorId: string): string {
  return `internal error (id ${errorId})`;
}

/** The Fastify error code of an error (`FST_ERR_…`), if it has one. */
export function fastifyErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/**
 * Any error as an AppError: ours as is, schema validation as VALIDATION_FAILED with the offending paths, Fastify's
 * body errors and 4xx errors by code and status. Undefined for everything else (an internal error).
 */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof StoreUnavailableError)
    return new AppError('UNAVAILABLE', 'the database is unavailable; retry later', {
      retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
    });
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    const issues = validationIssues(
      fastifyError.validation as AjvLikeError[],
      fastifyError.validationContext,
    );
    const message = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    return new AppError('VALIDATION_FAILED', message, { issues });
  }
  const message = error instanceof Error ? error.message : String(error);
  const fastifyCode = fastifyErrorCode(error);
  const byCode = fastifyCode === undefined ? undefined : FASTIFY_ERROR_CODES[fastifyCode];
  if (byCode !== undefined) return new AppError(byCode, message);
  if (error instanceof SyntaxError) return new AppError('BAD_REQUEST', message);
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return new AppError(STATUS_CODES[status] ?? 'BAD_REQUEST', message);
  return undefined;
}

/** Where an internal error is logged: the request's logger and id (a fast path has no request id). */
export interface ErrorLogTarget {
  log: Pick<FastifyBaseLogger, 'error'>;
  id?: string;
}

/** Logs an internal error under a new id and returns the id. */
export function logInternalError(error: unknown, request: ErrorLogTarget): string {
  const errorId = randomUUID();
  request.log.error(
    request.id === undefined ? { err: error, errorId } : { err: error, errorId, reqId: request.id },
    'unhandled error',
  );
  return errorId;
}

/** An error answer before it is sent: status, body and the headers that go with it (lower-case names). */
export interface ErrorAnswer {
  status: number;
  body: unknown;
  headers: [name: string, value: string][];
}

/** `WWW-Authenticate: Bearer` on 401, and `Retry-After` on a 429 or 503 whose details say how long to wait. */
export function errorHeaders(known: AppError): [name: string, value: string][] {
  const headers: [string, string][] = [];
  if (known.code === 'UNAUTHORIZED') headers.push(['www-authenticate', 'Bearer']);
  const retry = (known.details as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  if ((known.code === 'RATE_LIMITED' || known.code === 'UNAVAILABLE') && typeof retry === 'number')
    headers.push(['retry-after', String(retry)]);
  return headers;
}

/**
 * The standard error answer: the body `{ error: { code, message, details } }`, the status from ERROR_STATUS and
 * the headers of errorHeaders; an unknown error is logged under an id and answered INTERNAL naming it.
 */
export function errorAnswer(error: unknown, request: ErrorLogTarget): ErrorAnswer {
  const known = toAppError(error);
  if (known === undefined) {
    const errorId = logInternalError(error, request);
    return {
      status: ERROR_STATUS.INTERNAL,
      body: errorBody('INTERNAL', internalErrorMessage(errorId), { errorId }),
      headers: [],
    };
  }
  return {
    status: known.status,
    body: errorBody(known.code, known.message, known.details),
    headers: errorHeaders(known),
  };
}

/** Sends `answer` on `reply`. */
export function sendErrorAnswer(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  for (const [name, value] of answer.headers) reply.header(name, value);
  return reply.status(answer.status).send(answer.body);
}

/**
 * The one error renderer of every route family (admin, SDK, events): the body `{ error: { code, message,
 * details } }`, the status from ERROR_STATUS, `WWW-Authenticate: Bearer` on 401 and `Retry-After` on 429 and 503 when
 * the error says how long to wait.
 */
export function renderError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendErrorAnswer(reply, errorAnswer(error, request));
}

/** Installs the error renderer and the not-found handler on the root instance (every scope inherits them). */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(renderError);
  app.setNotFoundHandler((request, reply) => {
    reply
      .status(ERROR_STATUS.NOT_FOUND)
      .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
