/**
 * Turns every error into the standard body `{ error: { code, message, details } }`: our AppError as is,
 * Fastify's schema validation errors as VALIDATION_FAILED with the offending paths, framework errors by
 * status, and anything else as INTERNAL with an id that is also logged.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode, errorBody } from '../errors.ts';

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

/** Installs the error and not-found handlers on the root instance. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      if (error.code === 'RATE_LIMITED' && error.details && typeof error.details === 'object') {
        const retry = (error.details as { retryAfterSeconds?: unknown }).retryAfterSeconds;
        if (typeof retry === 'number') reply.header('retry-after', String(retry));
      }
      return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      const issues = validationIssues(
        fastifyError.validation as AjvLikeError[],
        fastifyError.validationContext,
      );
      const message = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
      return reply
        .status(ERROR_STATUS.VALIDATION_FAILED)
        .send(errorBody('VALIDATION_FAILED', message, { issues }));
    }
    const status = fastifyError.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const code = STATUS_CODES[status] ?? 'BAD_REQUEST';
      return reply.status(ERROR_STATUS[code]).send(errorBody(code, fastifyError.message));
    }
    const errorId = randomUUID();
    request.log.error({ err: error, errorId }, 'unhandled error');
    return reply
      .status(ERROR_STATUS.INTERNAL)
      .send(errorBody('INTERNAL', `internal error (id ${errorId})`, { errorId }));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
