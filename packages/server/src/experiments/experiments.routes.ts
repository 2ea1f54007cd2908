/**
 * Admin routes of experiments: create (with the sample plan), list, read with the latest results, the results of
 * a look now, and the lifecycle actions (start, stop, abort, coverage, ship).
 */
import { EXPERIMENT_SIMPLE_ACTIONS, type ExperimentView, ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { routeSchema } from '../http/route-schema.ts';
import { type RolloutsService, rolloutView } from '../rollouts/index.ts';
import {
  type ExperimentsService,
  experimentPlanOf,
  experimentStateOf,
  resultsView,
} from './experiments.service.ts';
import type { ExperimentRecord, ExperimentResultRecord } from './experiments.store.ts';

const ACTION_ROUTES = {
  start: ROUTES.startExperiment,
  stop: ROUTES.stopExperiment,
  abort: ROUTES.abortExperiment,
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An experiment as the API returns it, with its latest recorded look. */
export function experimentView(
  record: ExperimentRecord,
  latest: ExperimentResultRecord | undefined,
): ExperimentView {
  const plan = experimentPlanOf(record);
  const state = experimentStateOf(record);
  const decision = latest?.decision as Parameters<typeof resultsView>[1] | undefined;
  return {
    id: record.id,
    flag: record.flag,
    environment: record.environment,
    status: record.status,
    control: plan.control,
    variants: plan.variants,
    coverage: state.coverage,
    plannedCoverage: plan.coverage,
    successMetrics: plan.successMetrics,
    guardrails: plan.guardrails,
    mode: plan.mode,
    autoAbort: record.autoAbort,
    shippedVariant: state.shippedVariant,
    rollout: record.rollout,
    startedAt: iso(state.startedAt),
    endedAt: iso(state.endedAt),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    history: state.history.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
    latestResults:
      decision === undefined
        ? null
        : resultsView(record.id, decision, (decision as { units?: Record<string, number> }).units ?? {}),
  };
}

/** Registers the experiment routes on an admin-authenticated scope. */
export async function registerExperimentRoutes(
  scope: FastifyInstance,
  experiments: ExperimentsService,
  rollouts: RolloutsService,
): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const view = async (record: ExperimentRecord) => experimentView(record, await experiments.latest(record));

  app.get('/experiments', { schema: routeSchema(ROUTES.listExperiments) }, async (request) => {
    const { flag, environment, status } = request.query;
    const rows = await experiments.list({
      ...(flag !== undefined ? { flag } : {}),
      ...(environment !== undefined ? { environment } : {}),
      ...(status !== undefined ? { status } : {}),
    });
    return { experiments: await Promise.all(rows.map(view)) };
  });

  app.post('/experiments', { schema: routeSchema(ROUTES.createExperiment) }, async (request, reply) => {
    const { record, samplePlan } = await experiments.create(request.body, request.adminActor);
    reply.code(201);
    return { ...(await view(record)), samplePlan };
  });

  app.get('/experiments/:id', { schema: routeSchema(ROUTES.getExperiment) }, async (request) =>
    view(await experiments.get(request.params.id)),
  );

  app.put('/experiments/:id', { schema: routeSchema(ROUTES.replaceExperiment) }, async (request) =>
    view(await experiments.revise(request.params.id, request.body, request.adminActor)),
  );

  app.get('/experiments/:id/results', { schema: routeSchema(ROUTES.getExperimentResults) }, async (request) =>
    experiments.results(request.params.id),
  );

  for (const action of EXPERIMENT_SIMPLE_ACTIONS) {
    app.post(`/experiments/:id/${action}`, { schema: routeSchema(ACTION_ROUTES[action]) }, async (request) =>
      view(await experiments.act(request.params.id, action, request.adminActor)),
    );
  }

  app.post(
    '/experiments/:id/coverage',
    { schema: routeSchema(ROUTES.setExperimentCoverage) },
    async (request) =>
      view(
        await experiments.act(request.params.id, 'set_coverage', request.adminActor, request.body.coverage),
      ),
  );

  app.post('/experiments/:id/ship', { schema: routeSchema(ROUTES.shipExperiment) }, async (request) => {
    const { experiment, rollout } = await experiments.ship(
      request.params.id,
      {
        variant: request.body.variant,
        ...(request.body.rolloutId !== undefined ? { rolloutId: request.body.rolloutId } : {}),
        ...(request.body.stages !== undefined ? { stages: request.body.stages } : {}),
        ...(request.body.mode !== undefined ? { mode: request.body.mode } : {}),
      },
      request.adminActor,
    );
    const { latest, recommendation } = await rollouts.latest(rollout);
    return {
      experiment: await view(experiment),
      rollout: rolloutView(rollout, latest, recommendation, await rollouts.condition(rollout, latest)),
    };
  });
}
