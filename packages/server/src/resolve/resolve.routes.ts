/**
 * `POST /sdk/v1/resolve`: remote evaluation for thin clients (both key kinds).
 */
import type { FastifyInstance } from 'fastify';
import { authenticateRequest, ifNoneMatchMatches, SDK_BODY_LIMIT_BYTES } from '../client-api/client-http.ts';
import { AppError } from '../errors.ts';
import type { SdkDeps } from '../sdk-deps.ts';
import { contextEtag } from './context-etag.ts';
import { evaluateFlags, reportExposures, toResolveResponse } from './resolve.service.ts';
import { parseResolveRequest } from './resolve-request.ts';

export const RESOLVE_URL = '/sdk/v1/resolve';

/** Registers `POST /sdk/v1/resolve` on `scope`; `routeConfig` carries the rate-limit settings. */
export function registerResolveRoute(scope: FastifyInstance, deps: SdkDeps, routeConfig: object): void {
  scope.post(
    RESOLVE_URL,
    { bodyLimit: SDK_BODY_LIMIT_BYTES, config: routeConfig },
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
