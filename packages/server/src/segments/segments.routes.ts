/** Admin routes for segments. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY, ResourceKey } from '../http/schemas.ts';
import { tagVersion, writeVersion } from '../http/versions.ts';
import type { SegmentsService } from './segments.service.ts';

const tags = ['segments'];
const when = Type.Unknown({
  description: 'The condition (attribute tests, all/any/not, segment references)',
});

const SegmentInput = Type.Object(
  { key: ResourceKey, description: Type.Optional(Type.String()), when },
  { additionalProperties: false },
);
const SegmentReplace = Type.Object(
  {
    key: Type.Optional(ResourceKey),
    description: Type.Optional(Type.String()),
    when,
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
const SegmentView = Type.Object({
  key: Type.String(),
  description: Type.Optional(Type.String()),
  when: Type.Unknown(),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Params = Type.Object({ key: ResourceKey });

/** Registers /segments routes on an admin-authenticated scope. */
export async function registerSegmentRoutes(
  scope: FastifyInstance,
  segments: SegmentsService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/segments',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'List segments',
        response: { 200: Type.Object({ segments: Type.Array(SegmentView) }), ...ADMIN_ERRORS },
      },
    },
    async () => ({ segments: await segments.list() }),
  );

  app.post(
    '/segments',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Create a segment (unknown references and cycles are rejected)',
        body: SegmentInput,
        response: { 201: SegmentView, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await segments.create(request.body as Record<string, unknown>, request.adminActor)),
  );

  app.get(
    '/segments/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Get a segment',
        params: Params,
        response: { 200: SegmentView, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => tagVersion(reply, await segments.get(request.params.key)),
  );

  app.put(
    '/segments/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Replace a segment',
        params: Params,
        body: SegmentReplace,
        response: { 200: SegmentView, ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { version, body } = writeVersion<Record<string, unknown>>(request);
      return segments.replace(
        request.params.key,
        body,
        request.adminActor,
        version === undefined ? {} : { version },
      );
    },
  );

  app.delete(
    '/segments/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Delete a segment (CONFLICT while a flag or segment refers to it)',
        params: Params,
        response: { 204: Type.Null(), ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => {
      const { version } = writeVersion(request);
      await segments.delete(request.params.key, request.adminActor, version === undefined ? {} : { version });
      return reply.status(204).send(null);
    },
  );
}
