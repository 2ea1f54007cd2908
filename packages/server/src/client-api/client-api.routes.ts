/**
 * The Dimmer SDK routes (client key, scoped to one environment):
 * `GET /sdk/v1/config`, `GET /sdk/v1/stream` and `POST /sdk/v1/resolve`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, errorBody } from '../errors.ts';
import { sdkRateLimit } from '../http/rate-limit.ts';
import { RESOLVE_URL, registerResolveRoute } from '../resolve/resolve.routes.ts';
import type { ConfigState, SdkDeps } from '../sdk-deps.ts';
import { acceptJsonOnly, authenticateRequest, ifNoneMatchMatches, registerPreflight } from './client-http.ts';
import { openConfigStream, StreamRegistry } from './config-stream.ts';

export const CONFIG_URL = '/sdk/v1/config';
export const STREAM_URL = '/sdk/v1/stream';

/** The JSON text of each config version, serialized once and shared by every request. */
const snapshotJson = new WeakMap<ConfigState, string>();

function serializeSnapshot(state: ConfigState): string {
  let json = snapshotJson.get(state);
  if (json === undefined) {
    json = JSON.stringify(state.snapshot);
    snapshotJson.set(state, json);
  }
  return json;
}

/** Registers the SDK routes, their CORS preflights and their error replies in an encapsulated scope of `app`. */
export async function registerSdkRoutes(app: FastifyInstance, deps: SdkDeps): Promise<void> {
  await app.register(async (scope) => {
    // Opt in to the app's rate limit (http/rate-limit.ts): per client key, per minute.
    const routeConfig = sdkRateLimit;
    const streams = new StreamRegistry();
    scope.setErrorHandler(replyWithSdkError);
    acceptJsonOnly(scope);
    scope.addHook('preClose', (done) => {
      streams.endAll();
      done();
    });
    registerPreflight(scope, [CONFIG_URL, STREAM_URL], 'GET, OPTIONS');
    registerPreflight(scope, [RESOLVE_URL], 'POST, OPTIONS');

    scope.get(CONFIG_URL, { config: routeConfig }, async (request, reply) => {
      const principal = await authenticateRequest(request, reply, deps);
      if (principal.kind !== 'server') {
        throw new AppError(
          'FORBIDDEN',
          'Browser keys cannot read the flag configuration (it holds rules and segments); ' +
            'use POST /sdk/v1/resolve or OFREP (POST /ofrep/v1/evaluate/flags) instead',
        );
      }
      const state = deps.hub.get(principal.environment);
      if (state === undefined) {
        throw new AppError('NOT_FOUND', `Environment "${principal.environment}" of this key does not exist`);
      }
      reply.header('etag', state.etag);
      reply.header('cache-control', 'no-cache');
      if (ifNoneMatchMatches(request.headers['if-none-match'], state.etag)) {
        return reply.code(304).send();
      }
      reply.header('content-type', 'application/json; charset=utf-8');
      return reply.send(serializeSnapshot(state));
    });

    scope.get(STREAM_URL, { config: routeConfig, exposeHeadRoute: false }, async (request, reply) => {
      const principal = await authenticateRequest(request, reply, deps);
      openConfigStream(reply, principal, deps, streams);
    });

    registerResolveRoute(scope, deps, routeConfig);
  });
}

/** Fastify's own request errors on these routes, as our error codes. */
const FASTIFY_ERROR_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Turns any error on the SDK routes into the standard error body `{ error: { code, message, details } }`. */
export function replyWithSdkError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    if (error.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
    return reply.code(error.status).send(errorBody(error.code, error.message, error.details));
  }
  const fastifyCode =
    'code' in error && typeof error.code === 'string' ? FASTIFY_ERROR_CODES[error.code] : undefined;
  if (fastifyCode !== undefined) {
    return reply
      .code(new AppError(fastifyCode, error.message).status)
      .send(errorBody(fastifyCode, error.message));
  }
  if (error instanceof SyntaxError) {
    return reply.code(400).send(errorBody('BAD_REQUEST', `Malformed JSON body: ${error.message}`));
  }
  request.log.error({ err: error, reqId: request.id }, 'unexpected error on an SDK route');
  return reply.code(500).send(errorBody('INTERNAL', 'Internal error', { id: request.id }));
}
