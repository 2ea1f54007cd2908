/** Admin routes for client keys: create (secret shown once), list (no secrets), revoke. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY, EnvironmentKey } from '../http/schemas.ts';
import type { KeysService } from './keys.service.ts';

const tags = ['keys'];
const Kind = Type.Union([Type.Literal('server'), Type.Literal('browser')]);
const KeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  environment: Type.String(),
  kind: Kind,
  allowedOrigins: Type.Array(Type.String()),
  eventsPerMinute: Type.Union([Type.Integer(), Type.Null()]),
  prefix: Type.String({ description: 'The first characters of the secret' }),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/** Registers /keys routes on an admin-authenticated scope. */
export async function registerKeyRoutes(scope: FastifyInstance, keys: KeysService): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/keys',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'List client keys (never their secrets)',
        querystring: Type.Object(
          { environment: Type.Optional(EnvironmentKey) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ keys: Type.Array(KeyView) }), ...ADMIN_ERRORS },
      },
    },
    async (request) => ({ keys: await keys.listClientKeys(request.query.environment) }),
  );

  app.post(
    '/keys',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Create a client key for one environment; the secret is returned once',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            environment: EnvironmentKey,
            kind: Kind,
            allowedOrigins: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 })),
            eventsPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            key: KeyView,
            secret: Type.String({ description: 'Shown once; store it now' }),
          }),
          ...ADMIN_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const created = await keys.createClientKey(
        {
          name: body.name,
          environment: body.environment,
          kind: body.kind,
          ...(body.allowedOrigins !== undefined ? { allowedOrigins: body.allowedOrigins } : {}),
          ...(body.eventsPerMinute !== undefined ? { eventsPerMinute: body.eventsPerMinute } : {}),
        },
        request.adminActor,
      );
      return reply.status(201).send(created);
    },
  );

  app.post(
    '/keys/:id/revoke',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Revoke a client key (takes effect within a second on every node)',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: KeyView, ...ADMIN_ERRORS },
      },
    },
    async (request) => keys.revokeClientKey(request.params.id, request.adminActor),
  );
}
