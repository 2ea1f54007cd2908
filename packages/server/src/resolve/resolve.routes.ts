/**
 * `POST /sdk/v1/resolve`: remote evaluation for thin clients (both key kinds).
 */
import { ROUTES } from '@dimmer/api';
import type { FastifyInstance } from 'fastify';
import type { ClientPrincipal, ConfigState, SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';
import {
  acceptJsonOnly,
  authenticateRequest,
  ifNoneMatchMatches,
  registerPreflight,
  SDK_BODY_LIMIT_BYTES,
} from '../http/client-auth.ts';
import { errorAnswer } from '../http/error-handler.ts';
import { exactPath, type FastRoute } from '../http/fast-path.ts';
import { sdkRateLimit } from '../http/rate-limit.ts';
import { routeSchema } from '../http/route-schema.ts';
import { contextEtag } from './context-etag.ts';
import { evaluateFlags, reportExposuresSafely, toResolveResponse } from './resolve.service.ts';
import { resolveJson } from './resolve-json.ts';
import { parseResolveRequest, type ResolveRequest } from './resolve-request.ts';

export const RESOLVE_URL = '/sdk/v1/resolve';

const OK = 200;
const NOT_MODIFIED = 304;

/** Registers `POST /sdk/v1/resolve` and its CORS preflight in an encapsulated scope of `app`. */
export async function registerResolveRoutes(app: FastifyInstance, deps: SdkDeps): Promise<void> {
  await app.register(async (scope) => {
    acceptJsonOnly(scope);
    registerPreflight(scope, [RESOLVE_URL], 'POST, OPTIONS');
    registerResolveRoute(scope, deps);
  });
}

function registerResolveRoute(scope: FastifyInstance, deps: SdkDeps): void {
  scope.post(
    RESOLVE_URL,
    // Opt in to the app's rate limit (http/rate-limit.ts): per client key, per minute.
    { bodyLimit: SDK_BODY_LIMIT_BYTES, config: sdkRateLimit, schema: routeSchema(ROUTES.resolve) },
    async (request, reply) => {
      const principal = await authenticateRequest(request, reply, deps);
      const { state, context, flags, logExposures, etag } = prepareResolve(deps, principal, request.body);
      reply.header('etag', etag);
      reply.header('cache-control', 'no-cache');
      if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      const results = evaluateFlags(state, context, flags);
      if (logExposures) reportExposuresSafely(request.log, deps.exposures, principal, context, results);
      return toResolveResponse(state, results);
    },
  );
}

/** A resolve request checked and matched to its config: what to evaluate, and the answer's ETag. */
interface PreparedResolve extends ResolveRequest {
  state: ConfigState;
  etag: string;
}

/** Parses a resolve body for `principal`; throws AppError VALIDATION_FAILED or NOT_FOUND (no environment). */
function prepareResolve(deps: SdkDeps, principal: ClientPrincipal, body: unknown): PreparedResolve {
  const parsed = parseResolveRequest(body);
  if (!parsed.ok) {
    const message = parsed.issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
    throw new AppError('VALIDATION_FAILED', message, { issues: parsed.issues });
  }
  const state = deps.hub.get(principal.environment);
  if (state === undefined) {
    throw new AppError('NOT_FOUND', `Environment "${principal.environment}" of this key does not exist`);
  }
  const { context, flags } = parsed.value;
  return { ...parsed.value, state, etag: contextEtag(state, { context, flags }) };
}

/**
 * `POST /sdk/v1/resolve` on the fast path (http/fast-path.ts): the same answers as the route above, errors in the
 * standard error shape.
 */
export function resolveFastRoute(deps: SdkDeps): FastRoute {
  return {
    url: RESOLVE_URL,
    match: exactPath(RESOLVE_URL),
    answer(request, body) {
      const { principal } = request;
      const { state, context, flags, logExposures, etag } = prepareResolve(deps, principal, body);
      const headers = ['etag', etag, 'cache-control', 'no-cache'];
      if (ifNoneMatchMatches(request.headers['if-none-match'], etag))
        return { status: NOT_MODIFIED, headers };
      const results = evaluateFlags(state, context, flags);
      if (logExposures) reportExposuresSafely(request.log.log, deps.exposures, principal, context, results);
      return { status: OK, body: resolveJson(state, results), headers };
    },
    fail(error, request) {
      const answer = errorAnswer(error, request.log);
      return { status: answer.status, body: JSON.stringify(answer.body), headers: answer.headers.flat() };
    },
  };
}
