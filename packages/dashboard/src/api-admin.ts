/**
 * Admin calls beyond the list views of api.ts: create and edit metrics, surfaces, segments and environments;
 * the rollout with its history, recommendation and plan; the plan forecast; the evidence; and the decision
 * log fetched incrementally; experiments with their results and actions. Every request and reply is a type of `@dimmer/api`; the only views declared
 * here are mappings of those types for the rollout page.
 */

import type {
  ChartHistory,
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
  FlagPreview,
  MetricInput,
  MetricView,
  PlanReply,
  RolloutInput,
  RolloutPlanPreview,
  RolloutView,
  SegmentInput,
  SegmentReplace,
  SegmentView,
  ShippedExperiment,
  SurfaceInput,
  SurfaceView,
} from '@dimmer/api';
import type { FlagConfig } from '@dimmer/core';
import { type Api, PATHS, type RolloutDecision, toDecision } from './api.ts';

// ---------------------------------------------------------------- views of the rollout page

/** A decision as the rollout page reads it: the charts' view plus the stored decision's own fields. */
export type DecisionDetail = RolloutDecision &
  Pick<DecisionView, 'attempt' | 'applied' | 'toStage' | 'count' | 'firstAt' | 'lastAt'> & {
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
    count: view.count ?? 1,
    firstAt: view.firstAt ?? view.at,
    lastAt: view.lastAt ?? view.at,
    looks: Object.values(view.metrics),
  };
}

/** Units per arm of the current attempt (from the evidence route). */
export type LiveUnits = EvidenceReport['evidence']['units'];

// ---------------------------------------------------------------- calls

const enc = encodeURIComponent;
/** Page size of the decision log reads (the server's largest page). */
export const DECISION_FULL_PAGE = 500;
/** Most pages one read follows (500 × 40 = 20,000 entries; identical holds are one entry each run). */
const MAX_DECISION_PAGES = 40;

/** GET /rollouts/{id}: the rollout with its history (actors included), recommendation and latest decision. */
export function getRolloutDetail(api: Api, id: string): Promise<RolloutView> {
  return api.send('GET', PATHS.rollout(id));
}

/** Decision-log entries and the cursor the next incremental read starts from. */
export interface DecisionChanges {
  /** Entries written or updated since the cursor given (all of them on the first read), in no set order. */
  changed: DecisionDetail[];
  cursor: string;
}

/**
 * The whole decision log (cursor null) or only the entries written or updated after `cursor`: a refresh
 * downloads what changed (usually the one folded hold whose count grew), not the log.
 */
export async function fetchDecisionChanges(
  api: Api,
  id: string,
  cursor: string | null,
): Promise<DecisionChanges> {
  const changed: DecisionDetail[] = [];
  let next: string | null = null;
  let at = cursor;
  let first: string | null = null;
  for (let page = 0; page < MAX_DECISION_PAGES; page++) {
    const query: string =
      cursor === null
        ? `?limit=${DECISION_FULL_PAGE}${next === null ? '' : `&before=${enc(next)}`}`
        : `?limit=${DECISION_FULL_PAGE}&after=${enc(at ?? '0')}`;
    const reply = await api.send<DecisionPage>('GET', PATHS.rolloutDecisions(id) + query);
    for (const view of reply.decisions) changed.push(toDecisionDetail(view));
    first ??= reply.cursor;
    if (cursor === null) {
      next = reply.next;
      if (next === null) break;
    } else {
      if (reply.decisions.length < DECISION_FULL_PAGE) return { changed, cursor: reply.cursor };
      at = reply.cursor;
    }
  }
  return { changed, cursor: cursor === null ? (first ?? '0') : (at ?? '0') };
}

/** Merges changed entries into a log (newest first): an entry seen before is replaced, a new one added. */
export function mergeDecisions(
  log: readonly DecisionDetail[],
  changed: readonly DecisionDetail[],
): DecisionDetail[] {
  const byId = new Map(log.map((d) => [d.id, d]));
  for (const d of changed) byId.set(d.id, d);
  return [...byId.values()].sort((a, b) => Number(b.id) - Number(a.id));
}

/** GET /rollouts/{id}/chart: every look (downsampled when long), or only those after `cursor`. */
export function getRolloutChart(api: Api, id: string, cursor: string | null): Promise<ChartHistory> {
  return api.send('GET', `${PATHS.rollout(id)}/chart${cursor === null ? '' : `?after=${enc(cursor)}`}`);
}

/** POST /flags/{key}/preview: what saving `document` would change, per targeted rule too; nothing saved. */
export function previewFlagEdit(api: Api, key: string, document: FlagConfig): Promise<FlagPreview> {
  const { key: _key, salt: _salt, hashVersion: _hash, ...body } = document;
  return api.send('POST', `${PATHS.flags}/${enc(key)}/preview`, body);
}

/** POST /rollouts/plan: the dry run of a create (same errors), with the forecast and warnings. */
export function planRollout(api: Api, input: RolloutInput): Promise<RolloutPlanPreview> {
  return api.send('POST', `${PATHS.rollouts}/plan`, input);
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

/** PUT /environments/{key}: renames an environment (the key never changes). */
export function renameEnvironment(api: Api, key: string, name: string): Promise<EnvironmentView> {
  return api.send('PUT', `${PATHS.environments}/${enc(key)}`, { name });
}

/** DELETE /environments/{key}: CONFLICT naming its keys, rollouts and experiments while it has any. */
export async function deleteEnvironment(api: Api, key: string): Promise<void> {
  await api.send('DELETE', `${PATHS.environments}/${enc(key)}`);
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
