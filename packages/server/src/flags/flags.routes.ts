/** Admin routes for flags: thin wrappers that parse, call the service and reply. */

import { FlagStateAction } from '@dimmer/api';
import type { FlagEnvironment } from '@dimmer/core';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY, EnvironmentKey } from '../http/schemas.ts';
import { tagVersion, writeVersion } from '../http/versions.ts';
import {
  FlagChangeSchema,
  FlagEnvironmentSchema,
  FlagEnvParams,
  FlagInputSchema,
  FlagKeyParams,
  FlagPatchSchema,
  FlagReplaceSchema,
  FlagViewSchema,
} from './flags.schemas.ts';
import type { FlagPatch, FlagsService } from './flags.service.ts';

/** The version a write names (If-Match or the body's `version`) as service options, and the body without it. */
function versioned<B>(request: Parameters<typeof writeVersion>[0]): {
  body: B;
  options: { version?: number };
} {
  const { version, body } = writeVersion<B>(request);
  return { body, options: version === undefined ? {} : { version } };
}

const tags = ['flags'];

/** Registers /flags routes on an admin-authenticated scope. */
export async function registerFlagRoutes(scope: FastifyInstance, flags: FlagsService): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/flags',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'List flags (optionally one environment’s state, a search, archived ones)',
        querystring: Type.Object(
          {
            environment: Type.Optional(EnvironmentKey),
            q: Type.Optional(Type.String({ maxLength: 200 })),
            archived: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ flags: Type.Array(FlagViewSchema) }), ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { environment, q, archived } = request.query;
      return {
        flags: await flags.list({
          ...(environment !== undefined ? { environment } : {}),
          ...(q !== undefined ? { q } : {}),
          includeArchived: archived === 'true',
        }),
      };
    },
  );

  app.post(
    '/flags',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Create a flag (the salt is generated when absent)',
        body: FlagInputSchema,
        response: { 201: FlagViewSchema, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => {
      const flag = await flags.create(request.body as Record<string, unknown>, request.adminActor);
      return reply.status(201).send(flag);
    },
  );

  app.get(
    '/flags/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Get a flag (archived flags stay readable)',
        params: FlagKeyParams,
        response: { 200: FlagViewSchema, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => tagVersion(reply, await flags.get(request.params.key)),
  );

  app.put(
    '/flags/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Replace a flag document; returns the flag and a preview of units changing variant',
        params: FlagKeyParams,
        body: FlagReplaceSchema,
        response: { 200: FlagChangeSchema, ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { body, options } = versioned<Record<string, unknown>>(request);
      return flags.replace(request.params.key, body, request.adminActor, options);
    },
  );

  app.patch(
    '/flags/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary:
          'Change some fields; environments merge per environment and field (null removes description/surface)',
        params: FlagKeyParams,
        body: FlagPatchSchema,
        response: { 200: FlagChangeSchema, ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { body, options } = versioned<FlagPatch>(request);
      return flags.patch(request.params.key, body, request.adminActor, options);
    },
  );

  app.put(
    '/flags/:key/environments/:env',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Replace one environment’s state (enabled, rules, overrides)',
        params: FlagEnvParams,
        body: FlagEnvironmentSchema,
        response: { 200: FlagChangeSchema, ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { body, options } = versioned<FlagEnvironment>(request);
      return flags.putEnvironment(request.params.key, request.params.env, body, request.adminActor, options);
    },
  );

  for (const action of ['enable', 'disable'] as const) {
    app.post(
      `/flags/:key/environments/:env/${action}`,
      {
        schema: {
          tags,
          security: ADMIN_SECURITY,
          summary: `${action === 'enable' ? 'Enable' : 'Disable'} a flag in one environment`,
          params: FlagEnvParams,
          body: FlagStateAction,
          response: { 200: FlagChangeSchema, ...ADMIN_ERRORS },
        },
      },
      async (request) => {
        const { body, options } = versioned<{ rollout?: 'pause' | 'rollback' } | null>(request);
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
      },
    );
  }

  for (const action of ['archive', 'unarchive'] as const) {
    app.post(
      `/flags/:key/${action}`,
      {
        schema: {
          tags,
          security: ADMIN_SECURITY,
          summary:
            action === 'archive'
              ? 'Archive a flag: it leaves every snapshot but stays readable'
              : 'Restore an archived flag',
          params: FlagKeyParams,
          body: FlagStateAction,
          response: { 200: FlagChangeSchema, ...ADMIN_ERRORS },
        },
      },
      async (request) => {
        const { body, options } = versioned<{ rollout?: 'pause' | 'rollback' } | null>(request);
        return flags.setArchived(request.params.key, action === 'archive', request.adminActor, {
          ...options,
          ...(body?.rollout !== undefined ? { rollout: body.rollout } : {}),
        });
      },
    );
  }
}
