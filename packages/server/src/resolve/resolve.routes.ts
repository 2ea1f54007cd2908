/**
 * `POST /sdk/v1/resolve`: remote evaluation for thin clients (both key kinds).
 */
import { ROUTES } from '@dimmer/api';
import type { FastifyInstance } from 'fastify';
import type { SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';
import {
  acceptJsonOnly,
  authenticateRequest,
  ifNoneMatchMatches,
  registerPreflight,
  SDK_BODY_LIMIT_BYTES,
} from '../http/client-auth.ts';
import { sdkRateLimit } from '../http/rate-limit.ts';
import { routeSchema } from '../http/route-schema.ts';
import { contextEtag } from './context-etag.ts';
import { evaluateFlags, reportExposures, toResolveResponse } from './resolve.service.ts';
import { parseResolveRequest } from './resolve-request.ts';

export const RESOLVE_URL = '/sdk/v1/resolve';

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
      const parsed = parseResolveRequest(request.body);
      if (!parsed.ok) {
        const message = parsed.issues
          .map((issue) => `${issue.path || '(root)'}: ${issue.message}`)
          .join('; ');
        throw new AppError('VALIDATION_FAILED', message, { issues: parsed.issues });
      }
      const state = deps.hub.get(principal.environment);
      if (state === undefined) {
        throw new AppError('NOT_FOUND', `Environment "${principal.environment}" of this key does not exist`);
      }
      const { context, flags, logExposures } = parsed.value;
      const etag = contextEtag(state, { context, flags });
      reply.header('etag', etag);
      reply.header('cache-control', 'no-cache');
      if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      const results = evaluateFlags(state, context, flags);
      if (logExposures) {
        try {
          reportExposures(deps.exposures, principal, context, results);
        } catch (error) {
          request.log.error({ err: error }, 'exposure logging failed');
        }
      }
      return toResolveResponse(state, results);
    },
  );
}
