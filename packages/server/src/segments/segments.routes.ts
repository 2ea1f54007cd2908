/** Admin routes for segments: thin wrappers that call the service and reply. */
import { ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import { tagVersion, versioned } from '../http/versions.ts';
import type { SegmentsService } from './segments.service.ts';

/** Registers /segments routes on an admin-authenticated scope. */
export async function registerSegmentRoutes(
  scope: FastifyInstance,
  segments: SegmentsService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/segments', { schema: routeSchema(ROUTES.listSegments) }, async () => ({
    segments: await segments.list(),
  }));
  app.post('/segments', { schema: routeSchema(ROUTES.createSegment) }, async (request, reply) =>
    reply
      .status(201)
      .send(await segments.create(request.body as Record<string, unknown>, request.adminActor)),
  );
  app.get('/segments/:key', { schema: routeSchema(ROUTES.getSegment) }, async (request, reply) =>
    tagVersion(reply, await segments.get(request.params.key)),
  );
  app.put('/segments/:key', { schema: routeSchema(ROUTES.replaceSegment) }, async (request) => {
    const { body, options } = versioned<Record<string, unknown>>(request);
    return segments.replace(request.params.key, body, request.adminActor, options);
  });
  app.delete('/segments/:key', { schema: routeSchema(ROUTES.deleteSegment) }, async (request, reply) => {
    await segments.delete(request.params.key, request.adminActor, versioned(request).options);
    return reply.status(204).send(null);
  });
}
