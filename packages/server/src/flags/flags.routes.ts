/** Admin routes for flags: thin wrappers that parse, call the service and reply. */
import { type FlagStateAction, ROUTES } from '@dimmer/api';
import type { FlagEnvironment } from '@dimmer/core';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import { tagVersion, versioned } from '../http/versions.ts';
import type { FlagPatch, FlagsService } from './flags.service.ts';

const ENVIRONMENT_ACTIONS = {
  enable: ROUTES.enableFlagEnvironment,
  disable: ROUTES.disableFlagEnvironment,
} as const;
const ARCHIVE_ACTIONS = { archive: ROUTES.archiveFlag, unarchive: ROUTES.unarchiveFlag } as const;

/** Registers /flags routes on an admin-authenticated scope. */
export async function registerFlagRoutes(scope: FastifyInstance, flags: FlagsService): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/flags', { schema: routeSchema(ROUTES.listFlags) }, async (request) => {
    const { environment, q, archived } = request.query;
    return {
      flags: await flags.list({
        ...(environment !== undefined ? { environment } : {}),
        ...(q !== undefined ? { q } : {}),
        includeArchived: archived === 'true',
      }),
    };
  });

  app.post('/flags', { schema: routeSchema(ROUTES.createFlag) }, async (request, reply) => {
    const flag = await flags.create(request.body as Record<string, unknown>, request.adminActor);
    return reply.status(201).send(flag);
  });

  app.get('/flags/:key', { schema: routeSchema(ROUTES.getFlag) }, async (request, reply) =>
    tagVersion(reply, await flags.get(request.params.key)),
  );

  app.put('/flags/:key', { schema: routeSchema(ROUTES.replaceFlag) }, async (request) => {
    const { body, options } = versioned<Record<string, unknown>>(request);
    return flags.replace(request.params.key, body, request.adminActor, options);
  });

  app.post('/flags/:key/preview', { schema: routeSchema(ROUTES.previewFlag) }, async (request) =>
    flags.preview(request.params.key, request.body as Record<string, unknown>),
  );

  app.patch('/flags/:key', { schema: routeSchema(ROUTES.patchFlag) }, async (request) => {
    const { body, options } = versioned<FlagPatch>(request);
    return flags.patch(request.params.key, body, request.adminActor, options);
  });

  app.put(
    '/flags/:key/environments/:env',
    { schema: routeSchema(ROUTES.putFlagEnvironment) },
    async (request) => {
      const { body, options } = versioned<FlagEnvironment>(request);
      return flags.putEnvironment(request.params.key, request.params.env, body, request.adminActor, options);
    },
  );

  for (const [action, route] of Object.entries(ENVIRONMENT_ACTIONS)) {
    app.post(`/flags/:key/environments/:env/${action}`, { schema: routeSchema(route) }, async (request) => {
      const { body, options } = versioned<FlagStateAction>(request);
      return flags.setEnabled(
        request.params.key,
        request.params.env,
        action === 'enable',
        request.adminActor,
        {
          ...options,
          ...(body?.rollout !== undefined ? { rollout: body.rollout } : {}),
        },
      );
    });
  }

  for (const [action, route] of Object.entries(ARCHIVE_ACTIONS)) {
    app.post(`/flags/:key/${action}`, { schema: routeSchema(route) }, async (request) => {
      const { body, options } = versioned<FlagStateAction>(request);
      return flags.setArchived(request.params.key, action === 'archive', request.adminActor, {
        ...options,
        ...(body?.rollout !== undefined ? { rollout: body.rollout } : {}),
      });
    });
  }
}
