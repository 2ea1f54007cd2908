/** Admin routes for metrics: thin wrappers that call the service and reply. */
import { ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import { tagVersion, versioned } from '../http/versions.ts';
import type { MetricsService } from './metrics.service.ts';

/** Registers /metrics routes on an admin-authenticated scope. */
export async function registerMetricRoutes(scope: FastifyInstance, metrics: MetricsService): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/metrics', { schema: routeSchema(ROUTES.listMetrics) }, async () => ({
    metrics: await metrics.list(),
  }));
  app.post('/metrics', { schema: routeSchema(ROUTES.createMetric) }, async (request, reply) =>
    reply.status(201).send(await metrics.create(request.body, request.adminActor)),
  );
  app.get('/metrics/:key', { schema: routeSchema(ROUTES.getMetric) }, async (request, reply) =>
    tagVersion(reply, await metrics.get(request.params.key)),
  );
  app.put('/metrics/:key', { schema: routeSchema(ROUTES.replaceMetric) }, async (request) => {
    const { body, options } = versioned<Record<string, unknown>>(request);
    return metrics.replace(request.params.key, body, request.adminActor, options);
  });
  app.delete('/metrics/:key', { schema: routeSchema(ROUTES.deleteMetric) }, async (request, reply) => {
    await metrics.delete(request.params.key, request.adminActor, versioned(request).options);
    return reply.status(204).send(null);
  });
}
