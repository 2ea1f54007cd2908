/** Admin routes for surfaces. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY, ResourceKey } from '../http/schemas.ts';
import { tagVersion, writeVersion } from '../http/versions.ts';
import type { SurfacesService } from './surfaces.service.ts';

const tags = ['surfaces'];
const SurfaceInput = Type.Record(Type.String(), Type.Unknown(), {
  description: '{ key, name? (defaults to the key), description?, guardrails: [{ metric, margin? }] }',
});
const SurfaceView = Type.Object({
  key: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  guardrails: Type.Array(Type.Object({ metric: Type.String(), margin: Type.Optional(Type.Number()) })),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Params = Type.Object({ key: ResourceKey });

/** Registers /surfaces routes on an admin-authenticated scope. */
export async function registerSurfaceRoutes(
  scope: FastifyInstance,
  surfaces: SurfacesService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/surfaces',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'List surfaces',
        response: { 200: Type.Object({ surfaces: Type.Array(SurfaceView) }), ...ADMIN_ERRORS },
      },
    },
    async () => ({ surfaces: await surfaces.list() }),
  );
  app.post(
    '/surfaces',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Create a surface with its required guardrail metrics',
        body: SurfaceInput,
        response: { 201: SurfaceView, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => reply.status(201).send(await surfaces.create(request.body, request.adminActor)),
  );
  app.get(
    '/surfaces/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Get a surface',
        params: Params,
        response: { 200: SurfaceView, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => tagVersion(reply, await surfaces.get(request.params.key)),
  );
  app.put(
    '/surfaces/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Replace a surface',
        params: Params,
        body: SurfaceInput,
        response: { 200: SurfaceView, ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { version, body } = writeVersion(request);
      return surfaces.replace(
        request.params.key,
        body,
        request.adminActor,
        version === undefined ? {} : { version },
      );
    },
  );
  app.delete(
    '/surfaces/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Delete a surface (CONFLICT while flags belong to it)',
        params: Params,
        response: { 204: Type.Null(), ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => {
      const { version } = writeVersion(request);
      await surfaces.delete(request.params.key, request.adminActor, version === undefined ? {} : { version });
      return reply.status(204).send(null);
    },
  );
}
