/** Admin routes for metrics: thin wrappers that parse, call the service and reply. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY, ResourceKey } from '../http/schemas.ts';
import { tagVersion, writeVersion } from '../http/versions.ts';
import type { MetricsService } from './metrics.service.ts';

const tags = ['metrics'];

const Measure = Type.Object({
  event: Type.String(),
  aggregate: Type.Union([Type.Literal('count'), Type.Literal('sum')]),
});

/** The definition as sent; checked in depth by the metric validator, whose issues name the field. */
const MetricInput = Type.Record(Type.String(), Type.Unknown(), {
  description:
    '{ key, kind: proportion|mean|ratio, event (proportion, mean), aggregate: count|sum (mean), numerator and ' +
    'denominator { event, aggregate } (ratio), direction: higher_is_worse|lower_is_worse, margin > 0 (relative), ' +
    'window ("24h", "90s", "1d", milliseconds or "until_now"; default 24h), category: reliability|experience|business, ' +
    'cap? > 0, description? }',
});

const MetricView = Type.Object({
  key: Type.String(),
  kind: Type.Union([Type.Literal('proportion'), Type.Literal('mean'), Type.Literal('ratio')]),
  description: Type.Optional(Type.String()),
  event: Type.Optional(Type.String()),
  aggregate: Type.Optional(Type.Union([Type.Literal('count'), Type.Literal('sum')])),
  numerator: Type.Optional(Measure),
  denominator: Type.Optional(Measure),
  direction: Type.Union([Type.Literal('higher_is_worse'), Type.Literal('lower_is_worse')]),
  margin: Type.Number(),
  window: Type.String({
    description: 'Observation window after exposure, e.g. "1d", "1h30m", or "until_now"',
  }),
  category: Type.Union([Type.Literal('reliability'), Type.Literal('experience'), Type.Literal('business')]),
  cap: Type.Optional(Type.Number()),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Params = Type.Object({ key: ResourceKey });

/** Registers /metrics routes on an admin-authenticated scope. */
export async function registerMetricRoutes(scope: FastifyInstance, metrics: MetricsService): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/metrics',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'List metrics',
        response: { 200: Type.Object({ metrics: Type.Array(MetricView) }), ...ADMIN_ERRORS },
      },
    },
    async () => ({ metrics: await metrics.list() }),
  );
  app.post(
    '/metrics',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Create a metric over tracked events',
        body: MetricInput,
        response: { 201: MetricView, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => reply.status(201).send(await metrics.create(request.body, request.adminActor)),
  );
  app.get(
    '/metrics/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Get a metric',
        params: Params,
        response: { 200: MetricView, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => tagVersion(reply, await metrics.get(request.params.key)),
  );
  app.put(
    '/metrics/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Replace a metric definition (running rollouts keep the definition they started with)',
        params: Params,
        body: MetricInput,
        response: { 200: MetricView, ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { version, body } = writeVersion(request);
      return metrics.replace(
        request.params.key,
        body,
        request.adminActor,
        version === undefined ? {} : { version },
      );
    },
  );
  app.delete(
    '/metrics/:key',
    {
      schema: {
        tags,
        security: ADMIN_SECURITY,
        summary: 'Delete a metric (CONFLICT while a surface requires it)',
        params: Params,
        response: { 204: Type.Null(), ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => {
      const { version } = writeVersion(request);
      await metrics.delete(request.params.key, request.adminActor, version === undefined ? {} : { version });
      return reply.status(204).send(null);
    },
  );
}
