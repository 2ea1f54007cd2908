/**
 * Admin routes for client keys and admin tokens: create (secret shown once), list (no secrets), revoke, and
 * rotate (admin tokens).
 */
import { ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import type { KeysService } from './keys.service.ts';

/** Registers /keys and /tokens routes on an admin-authenticated scope. */
export async function registerKeyRoutes(scope: FastifyInstance, keys: KeysService): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/keys', { schema: routeSchema(ROUTES.listKeys) }, async (request) => ({
    keys: await keys.listClientKeys(request.query.environment),
  }));

  app.post('/keys', { schema: routeSchema(ROUTES.createKey) }, async (request, reply) => {
    const body = request.body;
    const created = await keys.createClientKey(
      {
        name: body.name,
        environment: body.environment,
        kind: body.kind,
        ...(body.allowedOrigins !== undefined ? { allowedOrigins: body.allowedOrigins } : {}),
        ...(body.eventsPerMinute !== undefined ? { eventsPerMinute: body.eventsPerMinute } : {}),
        ...(body.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: body.rateLimitPerMinute } : {}),
      },
      request.adminActor,
    );
    return reply.status(201).send(created);
  });

  app.post('/keys/:id/revoke', { schema: routeSchema(ROUTES.revokeKey) }, async (request) =>
    keys.revokeClientKey(request.params.id, request.adminActor),
  );

  app.get('/tokens', { schema: routeSchema(ROUTES.listTokens) }, async () => ({
    tokens: await keys.listAdminTokens(),
  }));

  app.post('/tokens', { schema: routeSchema(ROUTES.createToken) }, async (request, reply) =>
    reply.status(201).send(await keys.createAdminToken(request.body, request.adminActor)),
  );

  app.post('/tokens/:id/revoke', { schema: routeSchema(ROUTES.revokeToken) }, async (request) =>
    keys.revokeAdminToken(request.params.id, request.adminActor, {
      force: request.query.force === 'true',
    }),
  );

  app.post('/tokens/:id/rotate', { schema: routeSchema(ROUTES.rotateToken) }, async (request) =>
    keys.rotateAdminToken(request.params.id, request.adminActor),
  );
}
