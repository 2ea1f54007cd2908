/** Admin routes for environments. */
import { ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import type { EnvironmentsService } from './environments.service.ts';

/** Registers /environments routes on an admin-authenticated scope. */
export async function registerEnvironmentRoutes(
  scope: FastifyInstance,
  environments: EnvironmentsService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/environments', { schema: routeSchema(ROUTES.listEnvironments) }, async () => ({
    environments: await environments.list(),
  }));

  app.post('/environments', { schema: routeSchema(ROUTES.createEnvironment) }, async (request, reply) => {
    const { key, name } = request.body;
    const created = await environments.create(
      name === undefined ? { key } : { key, name },
      request.adminActor,
    );
    return reply.status(201).send(created);
  });

  app.put('/environments/:key', { schema: routeSchema(ROUTES.replaceEnvironment) }, async (request) =>
    environments.rename(request.params.key, request.body.name, request.adminActor),
  );

  app.delete(
    '/environments/:key',
    { schema: routeSchema(ROUTES.deleteEnvironment) },
    async (request, reply) => {
      await environments.remove(request.params.key, request.adminActor);
      return reply.status(204).send(null);
    },
  );
}
