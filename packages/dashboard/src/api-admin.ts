/**
 * Admin calls beyond the list views of api.ts: create and edit metrics, surfaces, segments and environments;
 * the rollout detail with its history, recommendation and plan; the plan forecast; the evidence; and the
 * decision log fetched incrementally. Each reply is read defensively: a field the server does not send yet
 * leaves the view without it instead of breaking the page.
 */
import type { DecisionView, RolloutView } from '@dimmer/api';
import type { Condition } from '@dimmer/core';
import {
  API_PREFIX,
  type Api,
  type Environment,
  type Metric,
  PATHS,
  type Rollout,
  type RolloutDecision,
  type SegmentView,
  type Surface,
  toDecision,
  toRollout,
} from './api.ts';

// ---------------------------------------------------------------- inputs

/** Body of POST/PUT /metrics (checked in depth by the server; its issues name the field). */
export interface MetricInput {
  key: string;
  kind: 'proportion' | 'mean' | 'ratio';
  description?: string;
  event?: string;
  aggregate?: 'count' | 'sum';
  numerator?: { event: string; aggregate: 'count' | 'sum' };
  denominator?: { event: string; aggregate: 'count' | 'sum' };
  direction: 'higher_is_worse' | 'lower_is_worse';
  /** Relative non-inferiority margin (0.02 = 2%). */
  margin: number;
  window?: string;
  category: 'reliability' | 'experience' | 'business';
  cap?: number;
}

/** Body of POST/PUT /surfaces. */
export interface SurfaceInput {
  key: string;
  name?: string;
  description?: string;
  guardrails: { metric: string; margin?: number }[];
}

/** Body of POST/PUT /segments. */
export interface SegmentInput {
  key: string;
  description?: string;
  when: Condition;
}

/** One stage as the create form sends it: reach in percent, duration as text ("24h"), units per arm. */
export interface StageInput {
  reach: number;
  minDuration?: string;
  minUnitsPerArm?: number;
}

/** Body of POST /rollouts as the dashboard sends it. */
export interface RolloutCreateInput {
  id?: string;
  flag: string;
  environment: string;
  treatment: string;
  control: string;
  stages: StageInput[];
  holdback?: number;
  guardrails: { metric: string; margin?: number }[];
  mode: 'automatic' | 'manual';
  expectedUnitsPerDay?: number;
}

// ---------------------------------------------------------------- views

/** One entry of a rollout's history: an action (by a person or the controller) or a decision. */
export interface HistoryItem {
  at: string;
  kind: 'action' | 'decision' | string;
  action: string;
  rule: string | null;
  /** Who acted (`controller`, or the admin token's name); null for decisions. */
  actor: string | null;
  attempt: number;
  stage: number;
  reach: number;
}

/** What the controller recommends and nobody has acted on (manual mode, or paused). */
export interface RecommendationView {
  action: string;
  rule: string;
  reason: string;
  at: string;
  toStage: number | null;
  decision: string;
}

/** A stage as the server stores it: durations in milliseconds. */
export interface StageView {
  reach: number;
  minDuration: number | null;
  minUnitsPerArm: number | null;
}

/** A rollout with everything its page shows; `base` is api.ts's view for the shared helpers. */
export interface RolloutDetail {
  base: Rollout;
  stages: StageView[];
  holdback: number;
  history: HistoryItem[];
  recommendation: RecommendationView | null;
  latestDecisionId: string | null;
  startedAt: string | null;
  stageStartedAt: string | null;
  completedAt: string | null;
}

/** One guardrail at one look, with what the results table needs beyond api.ts's `MetricEvidence`. */
export interface GuardrailLook {
  metric: string;
  kind: string | undefined;
  direction: 'higher_is_worse' | 'lower_is_worse' | undefined;
  required: boolean;
  /** Relative margin of the guardrail (0.02 = 2%). */
  relativeMargin: number | null;
  status: string;
  meanTreatment: number | null;
  meanControl: number | null;
  delta: number | null;
  se: number | null;
  /** The always-valid display interval of Δ. */
  interval: [number, number] | null;
  relativeLift: number | null;
  relativeLiftSe: number | null;
  informationFraction: number | null;
  nTreatment: number | null;
  nControl: number | null;
  deterioration: { z: number; boundary: number | null; rejected: boolean; mode: string } | null;
  nonInferiority: { z: number; boundary: number | null; rejected: boolean; margin: number } | null;
  verdict: 'harm_detected' | 'non_inferior' | 'inconclusive' | null;
  canary: { triggered: boolean; lowerBound: number; threshold: number } | null;
}

/** A decision with its attempt, whether it was applied, the stage it leads to, and the full guardrail looks. */
export interface DecisionDetail extends RolloutDecision {
  attempt: number | null;
  applied: boolean | null;
  toStage: number | null;
  looks: GuardrailLook[];
}

/** The plan forecast (GET /rollouts/{id}/plan and the create reply). */
export interface PlanForecastView {
  traffic: { unitsPerDay: number; source: string };
  stages: {
    index: number;
    reach: number;
    durationMs: number;
    expectedUnitsPerArm: { treatment: number; control: number };
    mdePerMetric: Record<string, { absolute: number; relative: number | null } | null>;
  }[];
  powerPerMetric: Record<string, number>;
  allGuardrailsPass: number | null;
  warnings: string[];
}

/** Units per arm of the current attempt (from the evidence route). */
export interface LiveUnits {
  treatment: number;
  control: number;
  perStage: { stage: number; treatment: number; control: number }[];
}

// ---------------------------------------------------------------- reading replies

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function str(x: unknown): string | null {
  return typeof x === 'string' ? x : null;
}

function isoOf(x: unknown): string | null {
  if (typeof x === 'number' && Number.isFinite(x)) return new Date(x).toISOString();
  return typeof x === 'string' ? x : null;
}

function testOf(x: unknown): { z: number; boundary: number | null; rejected: boolean; mode: string } | null {
  if (!isObject(x) || num(x.z) === null) return null;
  return {
    z: x.z as number,
    boundary: num(x.boundary),
    rejected: x.rejected === true,
    mode: str(x.mode) ?? 'group-sequential',
  };
}

/** Reads one guardrail look of a stored decision (packages/rollout's `MetricLook`). */
export function toGuardrailLook(name: string, raw: unknown): GuardrailLook {
  const look = isObject(raw) ? raw : {};
  const s = isObject(look.summary) ? look.summary : {};
  const interval = Array.isArray(s.interval) && s.interval.length === 2 ? s.interval : null;
  const ni = testOf(s.nonInferiority);
  const niMargin = isObject(s.nonInferiority) ? num(s.nonInferiority.margin) : null;
  const verdict = s.verdict;
  const canary = isObject(look.canary) ? look.canary : null;
  return {
    metric: name,
    kind: str(look.kind) ?? undefined,
    direction:
      look.direction === 'higher_is_worse' || look.direction === 'lower_is_worse'
        ? look.direction
        : undefined,
    required: look.required === true,
    relativeMargin: num(look.margin),
    status: str(look.status) ?? (isObject(look.summary) ? 'assessed' : 'no_data'),
    meanTreatment: num(s.meanTreatment),
    meanControl: num(s.meanControl),
    delta: num(s.delta),
    se: num(s.se),
    interval:
      interval !== null && num(interval[0]) !== null && num(interval[1]) !== null
        ? [interval[0] as number, interval[1] as number]
        : null,
    relativeLift: num(s.relativeLift),
    relativeLiftSe: num(s.relativeLiftSe),
    informationFraction: num(s.informationFraction),
    nTreatment: num(s.nTreatment),
    nControl: num(s.nControl),
    deterioration: testOf(s.deterioration),
    nonInferiority: ni === null || niMargin === null ? null : { ...ni, margin: niMargin },
    verdict:
      verdict === 'harm_detected' || verdict === 'non_inferior' || verdict === 'inconclusive'
        ? verdict
        : null,
    canary:
      canary !== null && num(canary.lowerBound) !== null
        ? {
            triggered: canary.triggered === true,
            lowerBound: canary.lowerBound as number,
            threshold: num(canary.threshold) ?? 0,
          }
        : null,
  };
}

/** Reads a decision of `GET /rollouts/{id}/decisions` (or a rollout's `latestDecision`). */
export function toDecisionDetail(raw: unknown, rolloutId: string, index: number): DecisionDetail {
  const d = isObject(raw) ? raw : {};
  const base = toDecision(raw as DecisionView);
  const looks = Object.entries(isObject(d.metrics) ? d.metrics : {}).map(([name, look]) =>
    toGuardrailLook(name, look),
  );
  return {
    ...base,
    attempt: num(d.attempt),
    applied: typeof d.applied === 'boolean' ? d.applied : null,
    toStage: num(d.toStage),
    looks,
  };
}

/** Reads `GET /rollouts/{id}`: the view of api.ts plus history with actors, recommendation and times. */
export function toRolloutDetail(raw: unknown): RolloutDetail {
  const r = isObject(raw) ? raw : {};
  const base = toRollout(raw as RolloutView);
  const stages = (Array.isArray(r.stages) ? r.stages : []).filter(isObject).map((s) => ({
    reach: num(s.reach) ?? 0,
    minDuration: num(s.minDuration),
    minUnitsPerArm: num(s.minUnitsPerArm),
  }));
  const history = (Array.isArray(r.history) ? r.history : []).filter(isObject).map((h) => ({
    at: isoOf(h.at) ?? '',
    kind: str(h.kind) ?? 'action',
    action: str(h.action) ?? '',
    rule: str(h.rule),
    actor: str(h.actor),
    attempt: num(h.attempt) ?? 1,
    stage: num(h.stageIndex) ?? num(h.stage) ?? 0,
    reach: num(h.reach) ?? 0,
  }));
  const rec = isObject(r.recommendation) ? r.recommendation : null;
  const latest = isObject(r.latestDecision) ? r.latestDecision : null;
  return {
    base,
    stages,
    holdback: num(r.holdback) ?? 0,
    history,
    recommendation:
      rec === null
        ? null
        : {
            action: str(rec.action) ?? '',
            rule: str(rec.rule) ?? '',
            reason: str(rec.reason) ?? '',
            at: isoOf(rec.at) ?? '',
            toStage: num(rec.toStage),
            decision: String(rec.decision ?? ''),
          },
    latestDecisionId: latest !== null && latest.id !== undefined ? String(latest.id) : null,
    startedAt: isoOf(r.startedAt),
    stageStartedAt: isoOf(r.stageStartedAt),
    completedAt: isoOf(r.completedAt),
  };
}

/** Reads the plan forecast reply (`{ traffic, forecast }`); null when the shape is not there. */
export function toPlanForecast(raw: unknown): PlanForecastView | null {
  const r = isObject(raw) ? raw : {};
  const f = isObject(r.forecast) ? r.forecast : null;
  if (f === null) return null;
  const t = isObject(r.traffic) ? r.traffic : {};
  const powers: Record<string, number> = {};
  for (const [k, v] of Object.entries(isObject(f.powerPerMetric) ? f.powerPerMetric : {}))
    if (num(v) !== null) powers[k] = v as number;
  return {
    traffic: { unitsPerDay: num(t.unitsPerDay) ?? 0, source: str(t.source) ?? 'unknown' },
    stages: (Array.isArray(f.stages) ? f.stages : []).filter(isObject).map((s, i) => {
      const units = isObject(s.expectedUnitsPerArm) ? s.expectedUnitsPerArm : {};
      const mde: PlanForecastView['stages'][number]['mdePerMetric'] = {};
      for (const [k, v] of Object.entries(isObject(s.mdePerMetric) ? s.mdePerMetric : {}))
        mde[k] =
          isObject(v) && num(v.absolute) !== null
            ? { absolute: v.absolute as number, relative: num(v.relative) }
            : null;
      return {
        index: num(s.index) ?? i,
        reach: num(s.reach) ?? 0,
        durationMs: num(s.durationMs) ?? 0,
        expectedUnitsPerArm: { treatment: num(units.treatment) ?? 0, control: num(units.control) ?? 0 },
        mdePerMetric: mde,
      };
    }),
    powerPerMetric: powers,
    allGuardrailsPass: num(f.allGuardrailsPass),
    warnings: (Array.isArray(f.warnings) ? f.warnings : []).filter((w): w is string => typeof w === 'string'),
  };
}

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

/** GET /rollouts/{id} with its history, recommendation and latest decision id. */
export async function getRolloutDetail(api: Api, id: string): Promise<RolloutDetail> {
  return toRolloutDetail(await api.send('GET', PATHS.rollout(id)));
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
    const reply = await api.send<{ decisions?: unknown[]; next?: string | null }>(
      'GET',
      PATHS.rolloutDecisions(id) + query,
    );
    const list = (reply.decisions ?? []).map((d, i) => toDecisionDetail(d, id, out.length + i));
    for (const d of list) {
      if (afterId !== null && Number(d.id) <= Number(afterId)) return out;
      out.push(d);
    }
    before = reply.next ?? null;
    if (before === null) break;
  }
  return out;
}

/** GET /rollouts/{id}/plan: the forecast at observed or stated traffic. */
export async function getPlanForecast(api: Api, id: string): Promise<PlanForecastView | null> {
  return toPlanForecast(await api.send('GET', `${PATHS.rollout(id)}/plan`));
}

/** GET /rollouts/{id}/evidence, reduced to units per arm (all stages and per stage). */
export async function getLiveUnits(api: Api, id: string): Promise<LiveUnits | null> {
  const reply = await api.send<unknown>('GET', `${PATHS.rollout(id)}/evidence`);
  const evidence = isObject(reply) && isObject(reply.evidence) ? reply.evidence : null;
  const units = evidence !== null && isObject(evidence.units) ? evidence.units : null;
  if (evidence === null || units === null) return null;
  return {
    treatment: num(units.treatment) ?? 0,
    control: num(units.control) ?? 0,
    perStage: (Array.isArray(evidence.assignments) ? evidence.assignments : []).filter(isObject).map((a) => ({
      stage: num(a.stage) ?? 0,
      treatment: num(a.treatment) ?? 0,
      control: num(a.control) ?? 0,
    })),
  };
}

/** POST /rollouts: the created rollout (a draft) and the forecast the server made for it. */
export async function createRolloutPlan(
  api: Api,
  input: RolloutCreateInput,
): Promise<{ rollout: Rollout; forecast: PlanForecastView | null }> {
  const reply = await api.send<Json>('POST', PATHS.rollouts, input);
  return { rollout: toRollout(reply as unknown as RolloutView), forecast: toPlanForecast(reply.forecast) };
}

/** A metric definition as the server returns it (with window, category and aggregate). */
export type MetricDefinitionView = Metric & {
  aggregate?: 'count' | 'sum';
  category?: 'reliability' | 'experience' | 'business';
};

export function getMetric(api: Api, key: string): Promise<MetricDefinitionView> {
  return api.send('GET', `${PATHS.metrics}/${enc(key)}`);
}

export function createMetric(api: Api, input: MetricInput): Promise<MetricDefinitionView> {
  return api.send('POST', PATHS.metrics, input);
}

export function replaceMetric(api: Api, key: string, input: MetricInput): Promise<MetricDefinitionView> {
  return api.send('PUT', `${PATHS.metrics}/${enc(key)}`, input);
}

export function getSurface(api: Api, key: string): Promise<Surface> {
  return api.send('GET', `${PATHS.surfaces}/${enc(key)}`);
}

export function createSurface(api: Api, input: SurfaceInput): Promise<Surface> {
  return api.send('POST', PATHS.surfaces, input);
}

export function replaceSurface(api: Api, key: string, input: SurfaceInput): Promise<Surface> {
  return api.send('PUT', `${PATHS.surfaces}/${enc(key)}`, input);
}

export function getSegment(api: Api, key: string): Promise<SegmentView> {
  return api.send('GET', `${PATHS.segments}/${enc(key)}`);
}

export function createSegment(api: Api, input: SegmentInput): Promise<SegmentView> {
  return api.send('POST', PATHS.segments, input);
}

export function replaceSegment(api: Api, key: string, input: SegmentInput): Promise<SegmentView> {
  return api.send('PUT', `${PATHS.segments}/${enc(key)}`, input);
}

export function createEnvironment(api: Api, input: { key: string; name?: string }): Promise<Environment> {
  return api.send('POST', `${API_PREFIX}/environments`, input);
}

/** Resource types the audit route filters on. */
export const AUDIT_FILTER_TYPES = [
  'flag',
  'rollout',
  'metric',
  'surface',
  'segment',
  'environment',
  'client_key',
  'admin_token',
] as const;
