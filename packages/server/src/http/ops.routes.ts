/** Operations routes: liveness, readiness, Prometheus metrics and the OpenAPI document. */
import { ROUTES } from '@dimmer/api';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { AppError, errorBody } from '../errors.ts';
import { routeSchema } from './route-schema.ts';

export interface OpsDeps {
  /** Resolves when storage answers. */
  ping(): Promise<void>;
  /** True once the config hub loaded every environment. */
  hubLoaded(): boolean;
  registry: Registry;
  /** Why this node does not follow other nodes' config changes now (undefined: it does, or it is alone). */
  notFollowingReason?: () => string | undefined;
}

/** Registers /healthz, /readyz, /metrics and /api/openapi.json. */
export async function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): Promise<void> {
  const tags = ['operations'];
  app.get('/healthz', { schema: routeSchema(ROUTES.health) }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: routeSchema(ROUTES.ready) }, async (request, reply) => {
    try {
      await deps.ping();
    } catch (error) {
      request.log.warn({ err: error }, 'storage not ready');
      const reason = error instanceof AppError ? error.message : 'storage is unreachable';
      return reply.status(503).send(errorBody('UNAVAILABLE', reason));
    }
    if (!deps.hubLoaded()) return reply.status(503).send(errorBody('UNAVAILABLE', 'config not loaded yet'));
    const following = deps.notFollowingReason?.();
    if (following !== undefined) return reply.status(503).send(errorBody('UNAVAILABLE', following));
    return { status: 'ready' as const };
  });

  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics' } }, async (_request, reply) => {
    const text = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(text);
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
