/** Admin routes for surfaces and their holdbacks: thin wrappers that call the service and reply. */
import { ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import { tagVersion, versioned } from '../http/versions.ts';
import type { SurfacesService } from './surfaces.service.ts';

/** Registers /surfaces routes on an admin-authenticated scope. */
export async function registerSurfaceRoutes(
  scope: FastifyInstance,
  surfaces: SurfacesService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/surfaces', { schema: routeSchema(ROUTES.listSurfaces) }, async () => ({
    surfaces: await surfaces.list(),
  }));
  app.post('/surfaces', { schema: routeSchema(ROUTES.createSurface) }, async (request, reply) =>
    reply.status(201).send(await surfaces.create(request.body, request.adminActor)),
  );
  app.get('/surfaces/:key', { schema: routeSchema(ROUTES.getSurface) }, async (request, reply) =>
    tagVersion(reply, await surfaces.get(request.params.key)),
  );
  app.put('/surfaces/:key', { schema: routeSchema(ROUTES.replaceSurface) }, async (request) => {
    const { body, options } = versioned<Record<string, unknown>>(request);
    return surfaces.replace(request.params.key, body, request.adminActor, options);
  });
  app.post(
    '/surfaces/:key/holdback',
    { schema: routeSchema(ROUTES.setSurfaceHoldback) },
    async (request, reply) =>
      reply
        .status(201)
        .send(await surfaces.setHoldback(request.params.key, request.body, request.adminActor)),
  );
  app.post(
    '/surfaces/:key/holdback/disable',
    { schema: routeSchema(ROUTES.disableSurfaceHoldback) },
    async (request) => surfaces.disableHoldback(request.params.key, request.adminActor),
  );
  app.get(
    '/surfaces/:key/holdback-report',
    { schema: routeSchema(ROUTES.getSurfaceHoldbackReport) },
    async (request) => surfaces.holdbackReport(request.params.key, request.query.environment),
  );
  app.delete('/surfaces/:key', { schema: routeSchema(ROUTES.deleteSurface) }, async (request, reply) => {
    await surfaces.delete(request.params.key, request.adminActor, versioned(request).options);
    return reply.status(204).send(null);
  });
}
