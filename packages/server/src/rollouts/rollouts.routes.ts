/** Admin routes of rollouts that issue 04 needs: the evidence of a rollout's current attempt. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY } from '../http/schemas.ts';
import type { RolloutsService } from './rollouts.service.ts';

const Stats = Type.Object({
  n: Type.Number(),
  sumY: Type.Number(),
  sumY2: Type.Number(),
  sumD: Type.Optional(Type.Number()),
  sumD2: Type.Optional(Type.Number()),
  sumYD: Type.Optional(Type.Number()),
});
const Arm = Type.Union([
  Type.Object({ n: Type.Number(), mean: Type.Number(), variance: Type.Number() }),
  Type.Null(),
]);

const EvidenceReply = Type.Object({
  rollout: Type.String(),
  attempt: Type.Integer(),
  stage: Type.Integer(),
  state: Type.String(),
  evidence: Type.Object(
    {
      attempt: Type.Integer(),
      units: Type.Object({ treatment: Type.Integer(), control: Type.Integer() }),
      assignments: Type.Array(
        Type.Object({ stage: Type.Integer(), treatment: Type.Integer(), control: Type.Integer() }),
      ),
      metrics: Type.Record(
        Type.String(),
        Type.Object({
          hasData: Type.Boolean(),
          cohorts: Type.Array(Type.Object({ stage: Type.Integer(), treatment: Stats, control: Stats })),
        }),
      ),
    },
    { description: "packages/rollout's RolloutEvidence: what decide(plan, state, evidence, now) reads" },
  ),
  estimates: Type.Array(
    Type.Object({
      metric: Type.String(),
      kind: Type.String(),
      direction: Type.String(),
      hasData: Type.Boolean(),
      arms: Type.Object({ treatment: Arm, control: Arm }),
      combined: Type.Union([
        Type.Object({
          delta: Type.Number(),
          variance: Type.Number(),
          se: Type.Number(),
          information: Type.Number(),
          meanControl: Type.Number(),
          meanTreatment: Type.Number(),
          varianceControl: Type.Number(),
          varianceTreatment: Type.Number(),
          nTreatment: Type.Number(),
          nControl: Type.Number(),
          cohortsUsed: Type.Number(),
        }),
        Type.Null(),
      ]),
      relativeLift: Type.Union([Type.Object({ lift: Type.Number(), se: Type.Number() }), Type.Null()]),
    }),
  ),
});

/** Registers GET /rollouts/{id}/evidence on an admin-authenticated scope. */
export async function registerRolloutRoutes(
  scope: FastifyInstance,
  rollouts: RolloutsService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/rollouts/:id/evidence',
    {
      schema: {
        tags: ['rollouts'],
        security: ADMIN_SECURITY,
        summary:
          'Sufficient statistics per metric, cohort and arm of the current attempt, units per arm, and estimates',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: EvidenceReply, ...ADMIN_ERRORS },
      },
    },
    async (request) => rollouts.evidence(request.params.id),
  );
}
