/**
 * OFREP: `POST /ofrep/v1/evaluate/flags/{key}` and `POST /ofrep/v1/evaluate/flags`, exactly as the
 * OpenFeature Remote Evaluation Protocol describes them, for both client key kinds.
 */
import { ROUTES } from '@dimmer/api';
import { type EvaluationContext, type EvaluationResult, evaluate, evaluateAll } from '@dimmer/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientPrincipal, ConfigState, SdkDeps } from '../client-deps.ts';
import { ERROR_STATUS } from '../errors.ts';
import {
  acceptJsonOnly,
  authenticateRequest,
  ifNoneMatchMatches,
  registerPreflight,
  SDK_BODY_LIMIT_BYTES,
} from '../http/client-auth.ts';
import {
  type ErrorAnswer,
  type ErrorLogTarget,
  errorHeaders,
  fastifyErrorCode,
  internalErrorMessage,
  logInternalError,
  sendErrorAnswer,
  toAppError,
} from '../http/error-handler.ts';
import { exactPath, type FastAnswer, type FastRoute, pathWithParam } from '../http/fast-path.ts';
import { sdkRateLimit } from '../http/rate-limit.ts';
import { routeSchema } from '../http/route-schema.ts';
import { reportExposuresSafely } from '../resolve/index.ts';
import { bulkEtag, resultStatus, singleFlagStatus, toOfrepBulk, toOfrepEvaluation } from './ofrep.service.ts';
import { ofrepBulkJson, ofrepEntryJson } from './ofrep-json.ts';
import { OfrepError, parseOfrepRequest } from './ofrep-request.ts';

export const OFREP_FLAG_URL = '/ofrep/v1/evaluate/flags/:key';
export const OFREP_BULK_URL = '/ofrep/v1/evaluate/flags';
/** The single-flag URL before its `:key`. */
const OFREP_FLAG_PREFIX = `${OFREP_BULK_URL}/`;

const OK = 200;
const NOT_MODIFIED = 304;

/** Where exposure failures are logged. */
type ExposureLog = Parameters<typeof reportExposuresSafely>[0];

interface FlagParams {
  key: string;
}

/** Registers the OFREP routes, their CORS preflights and OFREP-shaped error replies in an encapsulated scope. */
export async function registerOfrepRoutes(app: FastifyInstance, deps: SdkDeps): Promise<void> {
  await app.register(async (scope) => {
    // Opt in to the app's rate limit (http/rate-limit.ts): per client key, per minute.
    const routeConfig = sdkRateLimit;
    scope.setErrorHandler(replyWithOfrepError);
    acceptJsonOnly(scope);
    registerPreflight(scope, [OFREP_FLAG_URL, OFREP_BULK_URL], 'POST, OPTIONS');

    scope.post<{ Params: FlagParams }>(
      OFREP_FLAG_URL,
      {
        bodyLimit: SDK_BODY_LIMIT_BYTES,
        config: routeConfig,
        schema: routeSchema(ROUTES.ofrepEvaluateFlag),
      },
      // Not async: with the key cached the whole answer is synchronous (no promise per request).
      (request, reply) => {
        const principal = authenticateRequest(request, reply, deps);
        if (principal instanceof Promise) {
          return principal.then((found) => answerSingleFlag(request, reply, deps, found));
        }
        answerSingleFlag(request, reply, deps, principal);
        return undefined;
      },
    );

    scope.post(
      OFREP_BULK_URL,
      {
        bodyLimit: SDK_BODY_LIMIT_BYTES,
        config: routeConfig,
        schema: routeSchema(ROUTES.ofrepEvaluateFlags),
      },
      async (request, reply) => {
        const principal = await authenticateRequest(request, reply, deps);
        const { state, context, etag } = prepareBulk(deps, principal, request.body);
        reply.header('etag', etag);
        reply.header('cache-control', 'no-cache');
        if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
        const results = evaluateAll(state.compiled, context);
        reportExposuresSafely(request.log, deps.exposures, principal, context, results);
        return reply.send(toOfrepBulk(state, results));
      },
    );
  });
}

/** Evaluates the single flag of `request` for `principal` and sends the OFREP answer. */
function answerSingleFlag(
  request: FastifyRequest<{ Params: FlagParams }>,
  reply: FastifyReply,
  deps: SdkDeps,
  principal: ClientPrincipal,
): FastifyReply {
  const key = request.params.key;
  const { result } = evaluateSingle(deps, principal, key, request.body, request.log);
  const entry = toOfrepEvaluation(result);
  return reply.code(singleFlagStatus(entry)).send(entry);
}

/** The single-flag evaluation of `body` for `principal`, exposures reported; throws OfrepError for a bad request. */
function evaluateSingle(
  deps: SdkDeps,
  principal: ClientPrincipal,
  key: string,
  body: unknown,
  log: ExposureLog,
): { state: ConfigState; result: EvaluationResult } {
  const context = parseOfrepRequest(body, key);
  const state = currentConfig(deps, principal, key);
  const result = evaluate(state.compiled, key, context);
  reportExposuresSafely(log, deps.exposures, principal, context, [result]);
  return { state, result };
}

/** The bulk request checked and matched to its config, with its ETag; throws OfrepError for a bad request. */
function prepareBulk(
  deps: SdkDeps,
  principal: ClientPrincipal,
  body: unknown,
): { state: ConfigState; context: EvaluationContext; etag: string } {
  const context = parseOfrepRequest(body, undefined);
  const state = currentConfig(deps, principal, undefined);
  return { state, context, etag: bulkEtag(state, context) };
}

function currentConfig(deps: SdkDeps, principal: ClientPrincipal, key: string | undefined): ConfigState {
  const state = deps.hub.get(principal.environment);
  if (state !== undefined) return state;
  const errorDetails = `Environment "${principal.environment}" of this key does not exist`;
  throw key === undefined
    ? new OfrepError('NOT_FOUND', { errorCode: 'GENERAL', errorDetails })
    : new OfrepError('NOT_FOUND', { key, errorCode: 'FLAG_NOT_FOUND', errorDetails });
}

/**
 * The OFREP routes on the fast path (http/fast-path.ts): the same answers as the routes above, written as JSON
 * text (ofrep-json.ts), errors in OFREP's shapes.
 */
export function ofrepFastRoutes(deps: SdkDeps): FastRoute[] {
  return [
    {
      url: OFREP_FLAG_URL,
      match: pathWithParam(OFREP_FLAG_PREFIX),
      answer(request, body) {
        const { state, result } = evaluateSingle(
          deps,
          request.principal,
          request.param,
          body,
          request.log.log,
        );
        return { status: resultStatus(result), body: ofrepEntryJson(state, result) };
      },
      fail: (error, request) => fastOfrepError(error, request.param, request.log),
    },
    {
      url: OFREP_BULK_URL,
      match: exactPath(OFREP_BULK_URL),
      answer(request, body) {
        const { principal } = request;
        const { state, context, etag } = prepareBulk(deps, principal, body);
        const headers = ['etag', etag, 'cache-control', 'no-cache'];
        if (ifNoneMatchMatches(request.headers['if-none-match'], etag))
          return { status: NOT_MODIFIED, headers };
        const results = evaluateAll(state.compiled, context);
        reportExposuresSafely(request.log.log, deps.exposures, principal, context, results);
        return { status: OK, body: ofrepBulkJson(state, results), headers };
      },
      fail: (error, request) => fastOfrepError(error, undefined, request.log),
    },
  ];
}

function fastOfrepError(error: unknown, key: string | undefined, log: ErrorLogTarget): FastAnswer {
  const answer = ofrepErrorAnswer(error, key, log);
  return { status: answer.status, body: JSON.stringify(answer.body), headers: answer.headers.flat() };
}

/** Fastify's body errors, all of which OFREP calls a parse error of the request. */
const BODY_ERROR_CODES = new Set([
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
  'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
  'FST_ERR_CTP_BODY_TOO_LARGE',
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
]);

/**
 * Errors on the OFREP routes in OFREP's shapes: failures `{ key?, errorCode, errorDetails }` for bad requests,
 * `{ errorDetails }` for 401/403/429/500, with Retry-After on 429 (set by the rate limiter).
 */
export function replyWithOfrepError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const key = (request.params as Partial<FlagParams> | undefined)?.key;
  return sendErrorAnswer(reply, ofrepErrorAnswer(error, key, request));
}

/**
 * The OFREP answer to an error of the single-flag route (`key`, echoed in failures) or of the bulk route (`key`
 * undefined); an unknown error is logged under an id through `request`.
 */
export function ofrepErrorAnswer(
  error: unknown,
  key: string | undefined,
  request: ErrorLogTarget,
): ErrorAnswer {
  if (error instanceof OfrepError) return { status: error.status, body: error.body, headers: [] };
  const code = fastifyErrorCode(error);
  if ((code !== undefined && BODY_ERROR_CODES.has(code)) || error instanceof SyntaxError) {
    const body = {
      errorCode: 'PARSE_ERROR',
      errorDetails: `Invalid request body: ${(error as Error).message}`,
    };
    return {
      status: ERROR_STATUS.BAD_REQUEST,
      body: key === undefined ? body : { key, ...body },
      headers: [],
    };
  }
  const known = toAppError(error);
  if (known !== undefined)
    return { status: known.status, body: { errorDetails: known.message }, headers: errorHeaders(known) };
  const errorDetails = internalErrorMessage(logInternalError(error, request));
  return {
    status: ERROR_STATUS.INTERNAL,
    body: key === undefined ? { errorDetails } : { key, errorCode: 'GENERAL', errorDetails },
    headers: [],
  };
}
