/**
 * OFREP: `POST /ofrep/v1/evaluate/flags/{key}` and `POST /ofrep/v1/evaluate/flags`, exactly as the
 * OpenFeature Remote Evaluation Protocol describes them, for both client key kinds.
 */
import { ROUTES } from '@dimmer/api';
import { evaluate, evaluateAll } from '@dimmer/core';
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
  fastifyErrorCode,
  internalErrorMessage,
  logInternalError,
  setRetryAfter,
  toAppError,
} from '../http/error-handler.ts';
import { sdkRateLimit } from '../http/rate-limit.ts';
import { routeSchema } from '../http/route-schema.ts';
import { reportExposures } from '../resolve/index.ts';
import { bulkEtag, singleFlagStatus, toOfrepBulk, toOfrepEvaluation } from './ofrep.service.ts';
import { OfrepError, parseOfrepRequest } from './ofrep-request.ts';

export const OFREP_FLAG_URL = '/ofrep/v1/evaluate/flags/:key';
export const OFREP_BULK_URL = '/ofrep/v1/evaluate/flags';

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
        const context = parseOfrepRequest(request.body, undefined);
        const state = currentConfig(deps, principal, undefined);
        const etag = bulkEtag(state, context);
        reply.header('etag', etag);
        reply.header('cache-control', 'no-cache');
        if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
        const results = evaluateAll(state.compiled, context);
        reportSafely(request, deps, principal, context, results);
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
  const context = parseOfrepRequest(request.body, key);
  const state = currentConfig(deps, principal, key);
  const result = evaluate(state.compiled, key, context);
  reportSafely(request, deps, principal, context, [result]);
  const entry = toOfrepEvaluation(result);
  return reply.code(singleFlagStatus(entry)).send(entry);
}

function currentConfig(deps: SdkDeps, principal: ClientPrincipal, key: string | undefined): ConfigState {
  const state = deps.hub.get(principal.environment);
  if (state !== undefined) return state;
  const errorDetails = `Environment "${principal.environment}" of this key does not exist`;
  throw key === undefined
    ? new OfrepError('NOT_FOUND', { errorCode: 'GENERAL', errorDetails })
    : new OfrepError('NOT_FOUND', { key, errorCode: 'FLAG_NOT_FOUND', errorDetails });
}

/** Remote evaluation served by rollout and experiment rules is an exposure; a failing sink must not fail the request. */
function reportSafely(
  request: FastifyRequest,
  deps: SdkDeps,
  principal: ClientPrincipal,
  context: Parameters<typeof reportExposures>[2],
  results: Parameters<typeof reportExposures>[3],
): void {
  try {
    reportExposures(deps.exposures, principal, context, results);
  } catch (error) {
    request.log.error({ err: error }, 'exposure logging failed');
  }
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
  if (error instanceof OfrepError) return reply.code(error.status).send(error.body);
  const code = fastifyErrorCode(error);
  if ((code !== undefined && BODY_ERROR_CODES.has(code)) || error instanceof SyntaxError) {
    const body = { errorCode: 'PARSE_ERROR', errorDetails: `Invalid request body: ${error.message}` };
    return reply.code(ERROR_STATUS.BAD_REQUEST).send(key === undefined ? body : { key, ...body });
  }
  const known = toAppError(error);
  if (known !== undefined) {
    if (known.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
    setRetryAfter(reply, known);
    return reply.code(known.status).send({ errorDetails: known.message });
  }
  const errorDetails = internalErrorMessage(logInternalError(error, request));
  return reply
    .code(ERROR_STATUS.INTERNAL)
    .send(key === undefined ? { errorDetails } : { key, errorCode: 'GENERAL', errorDetails });
}
