/**
 * Admin routes of rollouts: create (with the plan forecast), list, read with the latest decision and the
 * pending recommendation, the plan forecast, the decision log, the evidence, and the lifecycle actions.
 */
import { ROLLOUT_ACTIONS, ROUTES, type RolloutAction, type RolloutView } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import { tagVersion, versioned } from '../http/versions.ts';
import type { RolloutAlarm } from './alarms.ts';
import {
  DEFAULT_DECISION_PAGE,
  decisionView,
  type LastAction,
  MAX_DECISION_PAGE,
  planOf,
  type Recommendation,
  type RolloutHealth,
  type RolloutsService,
  stateOf,
} from './rollouts.service.ts';
import type { DecisionRecord, RolloutRecord } from './rollouts.store.ts';

const ACTION_ROUTES = {
  start: ROUTES.startRollout,
  advance: ROUTES.advanceRollout,
  pause: ROUTES.pauseRollout,
  resume: ROUTES.resumeRollout,
  rollback: ROUTES.rollbackRollout,
  complete: ROUTES.completeRollout,
} as const satisfies Record<RolloutAction, unknown>;

/** A rollout as the API returns it: identity, state, plan fields, the latest decision and the recommendation. */
export function rolloutView(
  record: RolloutRecord,
  latest: DecisionRecord | undefined,
  recommendation: Recommendation | null,
  condition: { health: RolloutHealth; alarm: RolloutAlarm | null; lastAction: LastAction | null },
): RolloutView {
  const plan = planOf(record);
  const state = stateOf(record);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    flag: record.flag,
    environment: record.environment,
    treatment: record.treatment,
    control: record.control,
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
    latestDecision: latest === undefined ? null : decisionView(latest),
    recommendation,
    lastAction: condition.lastAction,
  } as RolloutView;
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

  app.get('/rollouts', { schema: routeSchema(ROUTES.listRollouts) }, async (request) => {
    const { flag, environment, status } = request.query;
    const rows = await rollouts.list({
      ...(flag !== undefined ? { flag } : {}),
      ...(environment !== undefined ? { environment } : {}),
      ...(status !== undefined ? { status } : {}),
    });
    return { rollouts: await Promise.all(rows.map(({ record }) => view(record))) };
  });

  app.post('/rollouts', { schema: routeSchema(ROUTES.createRollout) }, async (request, reply) => {
    const { record, forecast } = await rollouts.create(request.body, request.adminActor);
    reply.code(201);
    return { ...(await view(record)), forecast };
  });

  app.post('/rollouts/plan', { schema: routeSchema(ROUTES.planRollout) }, async (request) =>
    rollouts.planPreview(request.body),
  );

  app.get('/rollouts/:id', { schema: routeSchema(ROUTES.getRollout) }, async (request, reply) =>
    tagVersion(reply, await view(await rollouts.get(request.params.id))),
  );

  app.get('/rollouts/:id/plan', { schema: routeSchema(ROUTES.getRolloutPlan) }, async (request) =>
    rollouts.forecast(await rollouts.get(request.params.id)),
  );

  app.get(
    '/rollouts/:id/decisions',
    { schema: routeSchema(ROUTES.listRolloutDecisions) },
    async (request) => {
      const { query } = request;
      const limit = Math.min(MAX_DECISION_PAGE, Number(query.limit ?? DEFAULT_DECISION_PAGE));
      const actions = query.action?.split(',') as DecisionRecord['action'][] | undefined;
      const { decisions, cursor } = await rollouts.decisions(request.params.id, {
        limit,
        ...(query.before !== undefined ? { beforeId: Number(query.before) } : {}),
        ...(query.after !== undefined ? { afterSeq: Number(query.after) } : {}),
        ...(actions !== undefined ? { actions } : {}),
      });
      const last = decisions[decisions.length - 1];
      return {
        decisions: decisions.map((d) => decisionView(d)),
        next:
          query.after === undefined && decisions.length === limit && last !== undefined
            ? String(last.id)
            : null,
        cursor: String(cursor),
      };
    },
  );

  app.get('/rollouts/:id/chart', { schema: routeSchema(ROUTES.getRolloutChart) }, async (request) => {
    const { after, points } = request.query;
    return rollouts.chart(request.params.id, {
      ...(after !== undefined ? { after: Number(after) } : {}),
      ...(points !== undefined ? { points: Number(points) } : {}),
    });
  });

  app.get('/rollouts/:id/evidence', { schema: routeSchema(ROUTES.getRolloutEvidence) }, async (request) =>
    rollouts.evidence(request.params.id),
  );

  for (const action of ROLLOUT_ACTIONS) {
    app.post(
      `/rollouts/:id/${action}`,
      { schema: routeSchema(ACTION_ROUTES[action]) },
      async (request, reply) => {
        const { options } = versioned(request);
        return tagVersion(
          reply,
          await view(await rollouts.act(request.params.id, action, request.adminActor, options)),
        );
      },
    );
  }
}
