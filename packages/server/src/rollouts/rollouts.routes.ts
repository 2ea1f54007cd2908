/**
 * Admin routes of rollouts: create (with the plan forecast), list, read with the latest decision and the
 * pending recommendation, the plan forecast, the decision log, the evidence, and the lifecycle actions.
 */
import { ROLLOUT_ACTIONS, type RolloutAction } from '@dimmer/rollout';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { ADMIN_ERRORS, ADMIN_SECURITY } from '../http/schemas.ts';
import { tagVersion, writeVersion } from '../http/versions.ts';
import type { RolloutAlarm } from './alarms.ts';
import {
  DEFAULT_DECISION_PAGE,
  decisionView,
  MAX_DECISION_PAGE,
  planOf,
  type Recommendation,
  type RolloutHealth,
  type RolloutsService,
  stateOf,
} from './rollouts.service.ts';
import type { DecisionRecord, RolloutRecord } from './rollouts.store.ts';

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

const Status = Type.Union([
  Type.Literal('draft'),
  Type.Literal('running'),
  Type.Literal('paused'),
  Type.Literal('holding'),
  Type.Literal('rolled_back'),
  Type.Literal('completed'),
]);

const Decision = Type.Object(
  {
    id: Type.Integer(),
    rollout: Type.String(),
    attempt: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    action: Type.String({ description: 'rollback, advance, hold or complete' }),
    rule: Type.String({
      description: 'the rule that fired, e.g. deterioration, srm, min_duration, all_clear',
    }),
    reason: Type.String(),
    applied: Type.Boolean(),
    actor: Type.String(),
  },
  {
    additionalProperties: true,
    description:
      "packages/rollout's Decision: status, stageIndex, reach and toStage, metrics (per guardrail: status, summary with delta, relativeLift, interval, boundaries, z, n per arm), srm, checks",
  },
);

const Rollout = Type.Object(
  {
    id: Type.String(),
    flag: Type.String(),
    environment: Type.String(),
    treatment: Type.String(),
    control: Type.String(),
    status: Status,
    state: Status,
    stage: Type.Integer(),
    reach: Type.Number(),
    attempt: Type.Integer(),
    mode: Type.String(),
    health: Type.String({ description: 'healthy, warning, failing, unknown, or alarm (see `alarm`)' }),
    alarm: Type.Union([
      Type.Object({
        reasons: Type.Array(Type.Object({ cause: Type.String(), message: Type.String() })),
      }),
      Type.Null(),
    ]),
    version: Type.Integer({ description: 'The rollout document version (also its ETag)' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    latestDecision: Type.Union([Decision, Type.Null()]),
    recommendation: Type.Union([
      Type.Object({
        action: Type.String(),
        rule: Type.String(),
        reason: Type.String(),
        at: Type.String({ format: 'date-time' }),
        toStage: Type.Union([Type.Integer(), Type.Null()]),
        decision: Type.Integer(),
      }),
      Type.Null(),
    ]),
  },
  {
    additionalProperties: true,
    description:
      'The plan fields (stages, holdback, guardrails, canaryGuard, srmAction, finalGate), the state (startedAt, stageStartedAt, completedAt, history), plan (the validated RolloutPlan)',
  },
);

const PlanReply = Type.Object(
  {
    rollout: Type.String(),
    traffic: Type.Object(
      { unitsPerDay: Type.Number(), source: Type.String() },
      { additionalProperties: true },
    ),
    forecast: Type.Object(
      { warnings: Type.Array(Type.String()) },
      {
        additionalProperties: true,
        description:
          "packages/rollout's PlanForecast: stages (expected units per arm, MDE per metric at 80% power), maxInformation, powerPerMetric, allGuardrailsPass, warnings",
      },
    ),
  },
  { additionalProperties: true },
);

const CreateBody = Type.Object(
  {
    id: Type.Optional(Type.String()),
    flag: Type.String(),
    environment: Type.String(),
    treatment: Type.String(),
    control: Type.String(),
    stages: Type.Array(Type.Unknown()),
    guardrails: Type.Optional(Type.Array(Type.Unknown())),
    holdback: Type.Optional(Type.Number()),
    mode: Type.Optional(Type.String()),
    canaryGuard: Type.Optional(Type.Unknown()),
    srmAction: Type.Optional(Type.String()),
    finalGate: Type.Optional(Type.String()),
    expectedUnitsPerDay: Type.Optional(Type.Number()),
    expectedBaselines: Type.Optional(Type.Unknown()),
  },
  {
    additionalProperties: true,
    description:
      'A rollout plan (validated by packages/rollout: unknown fields and bad values are refused with their paths), plus optional traffic for the forecast',
  },
);

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

/** A rollout as the API returns it: identity, state, plan fields, the latest decision and the recommendation. */
export function rolloutView(
  record: RolloutRecord,
  latest: DecisionRecord | undefined,
  recommendation: Recommendation | null,
  condition: { health: RolloutHealth; alarm: RolloutAlarm | null },
): Static<typeof Rollout> {
  const plan = planOf(record);
  const state = stateOf(record);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    flag: record.flag,
    environment: record.environment,
    treatment: record.treatment,
    control: record.control,
    status: record.state,
    state: record.state,
    stage: record.stage,
    reach: record.reach,
    attempt: record.attempt,
    mode: plan.mode,
    stages: plan.stages,
    holdback: plan.holdback,
    guardrails: plan.guardrails,
    canaryGuard: plan.canaryGuard,
    srmAction: plan.srmAction,
    finalGate: plan.finalGate,
    health: condition.health,
    alarm: condition.alarm,
    version: record.revision,
    startedAt: iso(state.startedAt),
    stageStartedAt: iso(state.stageStartedAt),
    completedAt: iso(state.completedAt),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    history: state.history.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
    plan,
    latestDecision: latest === undefined ? null : (decisionView(latest) as Static<typeof Decision>),
    recommendation,
  } as Static<typeof Rollout>;
}

/** Registers the rollout routes on an admin-authenticated scope. */
export async function registerRolloutRoutes(
  scope: FastifyInstance,
  rollouts: RolloutsService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const view = async (record: RolloutRecord) => {
    const { latest, recommendation } = await rollouts.latest(record);
    return rolloutView(record, latest, recommendation, await rollouts.condition(record, latest));
  };

  app.get(
    '/rollouts',
    {
      schema: {
        tags: ['rollouts'],
        security: ADMIN_SECURITY,
        summary: 'Rollouts with flag, environment, status, stage, reach and health, oldest first',
        querystring: Type.Object({
          flag: Type.Optional(Type.String()),
          environment: Type.Optional(Type.String()),
          status: Type.Optional(Status),
        }),
        response: { 200: Type.Object({ rollouts: Type.Array(Rollout) }), ...ADMIN_ERRORS },
      },
    },
    async (request) => {
      const { flag, environment, status } = request.query;
      const rows = await rollouts.list({
        ...(flag !== undefined ? { flag } : {}),
        ...(environment !== undefined ? { environment } : {}),
        ...(status !== undefined ? { status } : {}),
      });
      return { rollouts: await Promise.all(rows.map(({ record }) => view(record))) };
    },
  );

  app.post(
    '/rollouts',
    {
      schema: {
        tags: ['rollouts'],
        security: ADMIN_SECURITY,
        summary: 'Create a draft rollout from a plan; the reply includes the plan forecast',
        body: CreateBody,
        response: {
          201: Rollout,
          ...ADMIN_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { record, forecast } = await rollouts.create(request.body, request.adminActor);
      reply.code(201);
      return { ...(await view(record)), forecast };
    },
  );

  app.get(
    '/rollouts/:id',
    {
      schema: {
        tags: ['rollouts'],
        security: ADMIN_SECURITY,
        summary: 'A rollout: plan, state, latest decision and the recommendation waiting for a person',
        params: Id,
        response: { 200: Rollout, ...ADMIN_ERRORS },
      },
    },
    async (request, reply) => tagVersion(reply, await view(await rollouts.get(request.params.id))),
  );

  app.get(
    '/rollouts/:id/plan',
    {
      schema: {
        tags: ['rollouts'],
        security: ADMIN_SECURITY,
        summary:
          'The plan forecast at the observed (or stated) traffic: units per arm and detectable regression per stage, power, warnings',
        params: Id,
        response: { 200: PlanReply, ...ADMIN_ERRORS },
      },
    },
    async (request) => rollouts.forecast(await rollouts.get(request.params.id)),
  );

  app.get(
    '/rollouts/:id/decisions',
    {
      schema: {
        tags: ['rollouts'],
        security: ADMIN_SECURITY,
        summary: 'Every decision of the controller with its evidence, newest first',
        params: Id,
        querystring: Type.Object({
          limit: Type.Optional(
            Type.String({
              pattern: '^[1-9][0-9]{0,3}$',
              description: `page size (default ${DEFAULT_DECISION_PAGE}, at most ${MAX_DECISION_PAGE})`,
            }),
          ),
          before: Type.Optional(
            Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'the `next` of the previous page' }),
          ),
        }),
        response: {
          200: Type.Object({
            decisions: Type.Array(Decision),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...ADMIN_ERRORS,
        },
      },
    },
    async (request) => {
      const limit = Math.min(MAX_DECISION_PAGE, Number(request.query.limit ?? DEFAULT_DECISION_PAGE));
      const before = request.query.before === undefined ? undefined : Number(request.query.before);
      const list = await rollouts.decisions(request.params.id, {
        limit,
        ...(before !== undefined ? { beforeId: before } : {}),
      });
      const last = list[list.length - 1];
      return {
        decisions: list.map((d) => decisionView(d) as Static<typeof Decision>),
        next: list.length === limit && last !== undefined ? String(last.id) : null,
      };
    },
  );

  app.get(
    '/rollouts/:id/evidence',
    {
      schema: {
        tags: ['rollouts'],
        security: ADMIN_SECURITY,
        summary:
          'Sufficient statistics per metric, cohort and arm of the current attempt, units per arm, and estimates',
        params: Id,
        response: { 200: EvidenceReply, ...ADMIN_ERRORS },
      },
    },
    async (request) => rollouts.evidence(request.params.id),
  );

  const summaries: Record<RolloutAction, string> = {
    start: 'Start a draft rollout at its first stage',
    advance: 'Move to the next stage (a person overriding or following the controller)',
    pause: 'Freeze reach; the controller keeps looking but applies nothing',
    resume:
      'Resume a paused rollout, or start a new attempt after a rollback (same salt: the same units return)',
    rollback: 'Set reach to 0 at once; every connected SDK serves control',
    complete: 'End the rollout: treatment for everyone, monitoring stops, the holdback is released',
  };
  for (const action of ROLLOUT_ACTIONS) {
    app.post(
      `/rollouts/:id/${action}`,
      {
        schema: {
          tags: ['rollouts'],
          security: ADMIN_SECURITY,
          summary: summaries[action],
          params: Id,
          body: Type.Union([
            Type.Null(),
            Type.Object(
              {
                version: Type.Optional(
                  Type.Integer({ minimum: 1, description: 'The version the action was chosen from' }),
                ),
              },
              { additionalProperties: false },
            ),
          ]),
          response: { 200: Rollout, ...ADMIN_ERRORS },
        },
      },
      async (request, reply) => {
        const { version } = writeVersion(request);
        const record = await rollouts.act(
          request.params.id,
          action,
          request.adminActor,
          version === undefined ? {} : { version },
        );
        return tagVersion(reply, await view(record));
      },
    );
  }
}
