/**
 * Admin calls beyond the list views of api.ts: create and edit metrics, surfaces, segments and environments;
 * the rollout with its history, recommendation and plan; the plan forecast; the evidence; and the decision
 * log fetched incrementally; experiments with their results and actions. Every request and reply is a type of `@dimmer/api`; the only views declared
 * here are mappings of those types for the rollout page.
 */
import type {
  CreatedExperiment,
  CreatedRollout,
  DecisionMetricLook,
  DecisionPage,
  DecisionView,
  EnvironmentInput,
  EnvironmentView,
  EvidenceReport,
  ExperimentInput,
  ExperimentList,
  ExperimentResults,
  ExperimentSimpleAction,
  ExperimentView,
  MetricInput,
  MetricView,
  PlanReply,
  RolloutInput,
  RolloutView,
  SegmentInput,
  SegmentReplace,
  SegmentView,
  ShippedExperiment,
  SurfaceInput,
  SurfaceView,
} from '@dimmer/api';
import { type Api, PATHS, type RolloutDecision, toDecision } from './api.ts';

// ---------------------------------------------------------------- views of the rollout page

/** A decision as the rollout page reads it: the charts' view plus the stored decision's own fields. */
export type DecisionDetail = RolloutDecision &
  Pick<DecisionView, 'attempt' | 'applied' | 'toStage'> & {
    /** Every guardrail of the look, in the order the controller wrote them. */
    looks: DecisionMetricLook[];
  };

/** Reads a decision of `GET /rollouts/{id}/decisions` (or a rollout's `latestDecision`). */
export function toDecisionDetail(view: DecisionView): DecisionDetail {
  return {
    ...toDecision(view),
    attempt: view.attempt,
    applied: view.applied,
    toStage: view.toStage,
    looks: Object.values(view.metrics),
  };
}

/** Units per arm of the current attempt (from the evidence route). */
export type LiveUnits = EvidenceReport['evidence']['units'];

// ---------------------------------------------------------------- calls

const enc = encodeURIComponent;
/**
 * First page of an incremental fetch: the controller looks about once a minute and the page refreshes every
 * few seconds, so one new decision (plus the known one that ends the walk) is the usual case.
 */
export const DECISION_FIRST_REFRESH_PAGE = 2;
/** Later pages of an incremental fetch (after a pause of the tab or a server outage). */
export const DECISION_REFRESH_PAGE = 50;
/** Page size of the first, full fetch of the decision log (the server's largest page). */
export const DECISION_FULL_PAGE = 500;
/** Most pages one full fetch reads (500 × 40 = 20,000 looks, about two weeks of one look a minute). */
const MAX_DECISION_PAGES = 40;

/** GET /rollouts/{id}: the rollout with its history (actors included), recommendation and latest decision. */
export function getRolloutDetail(api: Api, id: string): Promise<RolloutView> {
  return api.send('GET', PATHS.rollout(id));
}

/**
 * The decisions newer than `afterId` (all of them when null), newest first. The route pages newest first
 * with `before`, so this reads pages until it meets a decision it already has; a refresh with one new look
 * downloads one small page instead of the whole log.
 */
export async function fetchDecisionsAfter(
  api: Api,
  id: string,
  afterId: string | null,
): Promise<DecisionDetail[]> {
  const out: DecisionDetail[] = [];
  let before: string | null = null;
  for (let page = 0; page < MAX_DECISION_PAGES; page++) {
    const limit =
      afterId === null
        ? DECISION_FULL_PAGE
        : page === 0
          ? DECISION_FIRST_REFRESH_PAGE
          : DECISION_REFRESH_PAGE;
    const query: string = `?limit=${limit}${before === null ? '' : `&before=${enc(before)}`}`;
    const reply = await api.send<DecisionPage>('GET', PATHS.rolloutDecisions(id) + query);
    for (const view of reply.decisions) {
      if (afterId !== null && view.id <= Number(afterId)) return out;
      out.push(toDecisionDetail(view));
    }
    before = reply.next;
    if (before === null) break;
  }
  return out;
}

/** GET /rollouts/{id}/plan: the forecast at observed or stated traffic. */
export function getPlanForecast(api: Api, id: string): Promise<PlanReply> {
  return api.send('GET', `${PATHS.rollout(id)}/plan`);
}

/** GET /rollouts/{id}/evidence, reduced to units per arm of the current attempt. */
export async function getLiveUnits(api: Api, id: string): Promise<LiveUnits> {
  return (await api.send<EvidenceReport>('GET', `${PATHS.rollout(id)}/evidence`)).evidence.units;
}

/** POST /rollouts: the created rollout (a draft) with the forecast the server made for it. */
export function createRolloutPlan(api: Api, input: RolloutInput): Promise<CreatedRollout> {
  return api.send('POST', PATHS.rollouts, input);
}

/** GET /metrics/{key}. */
export function getMetric(api: Api, key: string): Promise<MetricView> {
  return api.send('GET', `${PATHS.metrics}/${enc(key)}`);
}

/** POST /metrics: the stored metric; a validation error names each bad field. */
export function createMetric(api: Api, input: MetricInput): Promise<MetricView> {
  return api.send('POST', PATHS.metrics, input);
}

/** PUT /metrics/{key}: replaces the definition (the key cannot change). */
export function replaceMetric(api: Api, key: string, input: MetricInput): Promise<MetricView> {
  return api.send('PUT', `${PATHS.metrics}/${enc(key)}`, input);
}

/** GET /surfaces/{key}. */
export function getSurface(api: Api, key: string): Promise<SurfaceView> {
  return api.send('GET', `${PATHS.surfaces}/${enc(key)}`);
}

/** POST /surfaces: the stored surface. */
export function createSurface(api: Api, input: SurfaceInput): Promise<SurfaceView> {
  return api.send('POST', PATHS.surfaces, input);
}

/** PUT /surfaces/{key}: replaces the surface (the key cannot change). */
export function replaceSurface(api: Api, key: string, input: SurfaceInput): Promise<SurfaceView> {
  return api.send('PUT', `${PATHS.surfaces}/${enc(key)}`, input);
}

/** GET /segments/{key}. */
export function getSegment(api: Api, key: string): Promise<SegmentView> {
  return api.send('GET', `${PATHS.segments}/${enc(key)}`);
}

/** POST /segments: the stored segment. */
export function createSegment(api: Api, input: SegmentInput): Promise<SegmentView> {
  return api.send('POST', PATHS.segments, input);
}

/** PUT /segments/{key}: replaces the segment's condition and description (the key cannot change). */
export function replaceSegment(api: Api, key: string, input: SegmentReplace): Promise<SegmentView> {
  return api.send('PUT', `${PATHS.segments}/${enc(key)}`, input);
}

/** POST /environments: the new environment (the name defaults to the key). */
export function createEnvironment(api: Api, input: EnvironmentInput): Promise<EnvironmentView> {
  return api.send('POST', PATHS.environments, input);
}

// ---------------------------------------------------------------- experiments

/** GET /experiments?environment=…[&flag=…]: the experiments of one environment (and flag), oldest first. */
export async function listExperiments(
  api: Api,
  environment: string,
  flag?: string,
): Promise<ExperimentView[]> {
  const query = `?environment=${enc(environment)}${flag !== undefined ? `&flag=${enc(flag)}` : ''}`;
  const reply = await api.send<ExperimentList>('GET', PATHS.experiments + query);
  return reply.experiments;
}

/** The experiment whose winner this rollout ships, if any (null on a server without experiments). */
export async function shippedFrom(
  api: Api,
  rollout: { id: string; flag: string; environment: string },
): Promise<ExperimentView | null> {
  try {
    const list = await listExperiments(api, rollout.environment, rollout.flag);
    return list.find((e) => e.rollout === rollout.id) ?? null;
  } catch {
    return null;
  }
}

/** GET /experiments/{id}: the experiment with the latest results the controller recorded. */
export function getExperiment(api: Api, id: string): Promise<ExperimentView> {
  return api.send('GET', PATHS.experiment(id));
}

/** GET /experiments/{id}/results: a look now (not recorded): estimates, lifts, verdicts, recommendation. */
export function getExperimentResults(api: Api, id: string): Promise<ExperimentResults> {
  return api.send('GET', PATHS.experimentAction(id, 'results'));
}

/** POST /experiments: a draft with the server's sample plan; a validation error names each bad field. */
export function createExperiment(api: Api, input: ExperimentInput): Promise<CreatedExperiment> {
  return api.send('POST', PATHS.experiments, input);
}

/** POST /experiments/{id}/start|stop|abort: the experiment after the action. */
export function experimentAction(
  api: Api,
  id: string,
  action: ExperimentSimpleAction,
): Promise<ExperimentView> {
  return api.send('POST', PATHS.experimentAction(id, action), {});
}

/** POST /experiments/{id}/coverage: grows the coverage (a lower value is refused, naming `coverage`). */
export function setExperimentCoverage(api: Api, id: string, coverage: number): Promise<ExperimentView> {
  return api.send('POST', PATHS.experimentAction(id, 'coverage'), { coverage });
}

/** POST /experiments/{id}/ship: ends the experiment and starts a guarded rollout of the variant. */
export function shipExperiment(api: Api, id: string, variant: string): Promise<ShippedExperiment> {
  return api.send('POST', PATHS.experimentAction(id, 'ship'), { variant });
}
