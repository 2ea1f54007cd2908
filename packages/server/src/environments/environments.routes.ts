/** Admin routes for environments. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY, EnvironmentKey } from '../http/schemas.ts';
import type { EnvironmentsService } from './environments.service.ts';

const tags = ['environments'];
const EnvironmentView = Type.Object({
  key: Type.String(),
  name: Type.String(),
  configVersion: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  committedAt: Type.String({ format: 'date-time' }),
});

/** Registers /environments routes on an admin-authenticated scope. */
export async function registerEnvironmentRoutes(
  scope: FastifyInstance,
  environments: EnvironmentsService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/environments',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'List environments with their config versions',
        response: { 200: Type.Object({ environments: Type.Array(EnvironmentView) }), ...ADMIN_ERRORS },
      },
    },
    async () => ({ environments: await environments.list() }),
  );

  app.post(
    '/environments',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Create an environment',
        body: Type.Object(
          { key: EnvironmentKey, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 201: EnvironmentView, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => {
      const { key, name } = request.body;
      const created = await environments.create(
        name === undefined ? { key } : { key, name },
        request.adminActor,
      );
      return reply.status(201).send(created);
    },
  );
}
