/**
 * A typed client for the Dimmer admin API (`/api/v1/*`, bearer admin token) and the events route
 * (`POST /v1/events`, client key). Every path is in `ADMIN_PATHS`; every reply shape is below, so following a
 * server change happens here. Errors arrive as `AdminApiError` with the server's code and details. Uses only
 * `fetch`, so it runs in Node, browsers and edge runtimes.
 */
import type {
  Condition,
  FlagConfig,
  FlagEnvironment,
  FlagKind,
  FlagValue,
  Segment,
  ValidationIssue,
} from '@dimmer/core';
import type { FetchFn, SdkEvent } from './types.ts';

/** Prefix of every admin route. */
export const ADMIN_API_PREFIX = '/api/v1';

const enc = encodeURIComponent;
const api = (path: string) => `${ADMIN_API_PREFIX}${path}`;

/** Every path the client calls (relative to the server URL). */
export const ADMIN_PATHS = {
  environments: api('/environments'),
  flags: api('/flags'),
  flag: (key: string) => api(`/flags/${enc(key)}`),
  flagEnvironment: (key: string, env: string) => api(`/flags/${enc(key)}/environments/${enc(env)}`),
  flagEnvironmentAction: (key: string, env: string, action: 'enable' | 'disable') =>
    api(`/flags/${enc(key)}/environments/${enc(env)}/${action}`),
  flagAction: (key: string, action: 'archive' | 'unarchive') => api(`/flags/${enc(key)}/${action}`),
  segments: api('/segments'),
  segment: (key: string) => api(`/segments/${enc(key)}`),
  metrics: api('/metrics'),
  metric: (key: string) => api(`/metrics/${enc(key)}`),
  surfaces: api('/surfaces'),
  surface: (key: string) => api(`/surfaces/${enc(key)}`),
  rollouts: api('/rollouts'),
  rollout: (id: string) => api(`/rollouts/${enc(id)}`),
  rolloutDecisions: (id: string) => api(`/rollouts/${enc(id)}/decisions`),
  rolloutEvidence: (id: string) => api(`/rollouts/${enc(id)}/evidence`),
  rolloutPlan: (id: string) => api(`/rollouts/${enc(id)}/plan`),
  rolloutAction: (id: string, action: RolloutAction) => api(`/rollouts/${enc(id)}/${action}`),
  keys: api('/keys'),
  revokeKey: (id: string) => api(`/keys/${enc(id)}/revoke`),
  audit: api('/audit'),
  events: '/v1/events',
} as const;

// ------------------------------------------------------------------------------------------------ shapes

export interface EnvironmentView {
  key: string;
  name: string;
  configVersion: number;
  createdAt: string;
  committedAt: string;
}

/** A flag as the API returns it: the document plus archive state and ISO times. */
export interface FlagView extends FlagConfig {
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Body of `POST /flags`: the document; the salt is generated when absent. */
export interface FlagInput {
  key: string;
  kind: FlagKind;
  surface?: string;
  description?: string;
  variants: Record<string, FlagValue>;
  defaultVariant: string;
  salt?: string;
  hashVersion?: 1;
  environments?: Record<string, FlagEnvironment>;
}

/** Body of `PATCH /flags/{key}`: environments merge per environment and field; null removes a field. */
export interface FlagPatch {
  kind?: FlagKind;
  surface?: string | null;
  description?: string | null;
  variants?: Record<string, FlagValue>;
  defaultVariant?: string;
  salt?: string;
  hashVersion?: 1;
  environments?: Record<string, Partial<FlagEnvironment>>;
}

/** Per environment whose served configuration changed: sampled units that change variant (an estimate). */
export interface SplitPreview {
  sampled: number;
  changed: number;
  share: number;
  transitions: { from: string; to: string; count: number }[];
}

/** The reply of every flag change. */
export interface FlagChange {
  flag: FlagView;
  preview: Record<string, SplitPreview>;
}

export interface FlagListFilter {
  environment?: string;
  q?: string;
  archived?: boolean;
}

export interface SegmentView extends Segment {
  createdAt: string;
  updatedAt: string;
}

export interface SegmentInput {
  key: string;
  description?: string;
  when: Condition;
}

export type MetricKind = 'proportion' | 'mean' | 'ratio';
export type HarmDirection = 'higher_is_worse' | 'lower_is_worse';
export type MetricCategory = 'reliability' | 'experience' | 'business';

/** One side of a ratio metric, or the aggregate of a mean metric. */
export interface MetricMeasure {
  event: string;
  aggregate: 'count' | 'sum';
}

export interface MetricView {
  key: string;
  kind: MetricKind;
  description?: string;
  event?: string;
  aggregate?: 'count' | 'sum';
  numerator?: MetricMeasure;
  denominator?: MetricMeasure;
  direction: HarmDirection;
  /** Relative non-inferiority margin, e.g. 0.02 for 2%. */
  margin: number;
  /** Observation window after exposure, e.g. `"1d"`, or `"until_now"`. */
  window: string;
  category: MetricCategory;
  cap?: number;
  createdAt: string;
  updatedAt: string;
}

/** A metric definition as sent (the server validates it in depth and names every problem's field). */
export interface MetricInput {
  key: string;
  kind: MetricKind;
  direction: HarmDirection;
  margin: number;
  category: MetricCategory;
  description?: string;
  event?: string;
  aggregate?: 'count' | 'sum';
  numerator?: MetricMeasure;
  denominator?: MetricMeasure;
  /** `"24h"`, `"90s"`, `"1d"`, milliseconds, or `"until_now"`. */
  window?: string | number;
  cap?: number;
}

export interface SurfaceGuardrail {
  metric: string;
  margin?: number;
}

export interface SurfaceView {
  key: string;
  name: string;
  description?: string;
  guardrails: SurfaceGuardrail[];
  createdAt: string;
  updatedAt: string;
}

export interface SurfaceInput {
  key: string;
  name?: string;
  description?: string;
  guardrails: SurfaceGuardrail[];
}

/** The lifecycle of a rollout (packages/rollout's state machine). */
export type RolloutStatus = 'draft' | 'running' | 'paused' | 'holding' | 'rolled_back' | 'completed';
/** The actions of `POST /rollouts/{id}/{action}`. */
export type RolloutAction = 'start' | 'advance' | 'pause' | 'resume' | 'rollback' | 'complete';
export const ROLLOUT_ACTIONS: readonly RolloutAction[] = [
  'start',
  'advance',
  'pause',
  'resume',
  'rollback',
  'complete',
];

/** One stage as sent: reach in percent; duration as `"2h"` or milliseconds. */
export interface RolloutStageInput {
  reach: number;
  minDuration?: string | number;
  minUnitsPerArm?: number;
  minEventsPerArm?: number;
}

/** Body of `POST /rollouts`. */
export interface RolloutInput {
  id?: string;
  flag: string;
  environment: string;
  treatment: string;
  control: string;
  stages: RolloutStageInput[];
  /** Percent kept on control after the last step. */
  holdback?: number;
  guardrails: { metric: string; margin?: number; required?: boolean }[];
  mode?: 'automatic' | 'manual';
  canaryGuard?: boolean | { threshold: number };
  srmAction?: 'hold' | 'rollback';
  finalGate?: 'non_inferiority' | 'information';
}

/** One stage as stored: reach in percent, minimum duration in milliseconds. */
export interface RolloutStageView {
  reach: number;
  minDuration: number;
  minUnitsPerArm: number;
  minEventsPerArm?: number;
}

/** The validated plan (packages/rollout's `RolloutPlan`). */
export interface RolloutPlanView {
  id: string;
  flag: string;
  environment: string;
  treatment: string;
  control: string;
  stages: RolloutStageView[];
  holdback: number;
  guardrails: {
    metric: string;
    margin: number;
    required: boolean;
    kind?: MetricKind;
    direction?: HarmDirection;
    category?: MetricCategory;
  }[];
  mode: 'automatic' | 'manual';
  canaryGuard: false | { threshold: number };
  srmAction: 'hold' | 'rollback';
  finalGate?: 'non_inferiority' | 'information';
}

/** packages/rollout's `RolloutState` (times in epoch milliseconds). */
export interface RolloutStateView {
  status: RolloutStatus;
  stageIndex: number;
  reach: number;
  attempt: number;
  startedAt: number | null;
  stageStartedAt: number | null;
  completedAt: number | null;
  updatedAt: number | null;
  history?: unknown[];
  [field: string]: unknown;
}

/**
 * A rollout as the API returns it. The server may give the state flat (`state` as a status string, `stage`,
 * `reach`, `attempt`) and/or the plan and state documents; readers should accept both (see the CLI's view).
 */
export interface RolloutView {
  id: string;
  flag: string;
  environment: string;
  treatment: string;
  control: string;
  state: RolloutStatus | RolloutStateView | (string & {});
  stage?: number;
  reach?: number;
  attempt?: number;
  mode?: 'automatic' | 'manual';
  plan?: RolloutPlanView | null;
  stages?: RolloutStageView[];
  guardrails?: unknown[];
  createdAt?: string | number;
  updatedAt?: string | number;
  [field: string]: unknown;
}

/** The statistics engine's summary of one guardrail at one look (packages/stats `GuardrailLookSummary`). */
export interface GuardrailLookSummary {
  look: number;
  informationFraction: number;
  information: number;
  /** Treatment − control, absolute scale. */
  delta: number;
  se: number;
  /** Two-sided always-valid interval for Δ. */
  interval: [number, number];
  relativeLift: number;
  relativeLiftSe: number;
  relativeLiftInterval: [number, number];
  meanTreatment: number;
  meanControl: number;
  nTreatment: number;
  nControl: number;
  harmDetected: boolean;
  nonInferior: boolean;
  verdict: string;
  [field: string]: unknown;
}

/** One guardrail at one look (packages/rollout `MetricLook`). */
export interface DecisionMetricLook {
  metric: string;
  kind: MetricKind;
  direction: HarmDirection;
  required: boolean;
  margin: number;
  status: 'no_data' | 'insufficient' | 'assessed';
  summary: GuardrailLookSummary | null;
  [field: string]: unknown;
}

/** One look of the controller (packages/rollout `Decision`, without the next state). */
export interface DecisionView {
  id?: string | number;
  at: number | string;
  attempt: number;
  status: RolloutStatus;
  stageIndex: number;
  reach: number;
  action: 'rollback' | 'advance' | 'hold' | 'complete';
  rule: string;
  reason: string;
  toStage: number | null;
  metrics: Record<string, DecisionMetricLook>;
  srm: { pValue: number; threshold: number; mismatch: boolean; [field: string]: unknown } | null;
  checks: {
    elapsedMs: number;
    minDurationMs: number;
    unitsPerArm: { treatment: number; control: number };
    minUnitsPerArm: number;
    minEventsPerArm: number;
  } | null;
  applied: boolean;
  [field: string]: unknown;
}

/** Sufficient statistics of one cohort and arm. */
export interface ArmStats {
  n: number;
  sumY: number;
  sumY2: number;
  sumD?: number;
  sumD2?: number;
  sumYD?: number;
}

/** One metric's estimates in the evidence reply. */
export interface MetricEstimates {
  metric: string;
  kind: string;
  direction: string;
  hasData: boolean;
  arms: {
    treatment: { n: number; mean: number; variance: number } | null;
    control: { n: number; mean: number; variance: number } | null;
  };
  combined: {
    delta: number;
    variance: number;
    se: number;
    information: number;
    meanControl: number;
    meanTreatment: number;
    nTreatment: number;
    nControl: number;
    [field: string]: number;
  } | null;
  relativeLift: { lift: number; se: number } | null;
}

/** The reply of `GET /rollouts/{id}/evidence`. */
export interface EvidenceReport {
  rollout: string;
  attempt: number;
  stage: number;
  state: string;
  evidence: {
    attempt: number;
    units: { treatment: number; control: number };
    assignments: { stage: number; treatment: number; control: number }[];
    metrics: Record<
      string,
      { hasData: boolean; cohorts: { stage: number; treatment: ArmStats; control: ArmStats }[] }
    >;
  };
  estimates: MetricEstimates[];
}

/** Forecast of one stage (packages/rollout `StageForecast`). */
export interface StageForecastView {
  index: number;
  /** Treatment reach in percent. */
  reach: number;
  durationMs: number;
  expectedUnitsPerArm: { treatment: number; control: number };
  /** Regression caught with 80% probability at the stage's end; null when not forecastable. */
  mdePerMetric: Record<string, { absolute: number; relative: number | null } | null>;
}

/** Forecast of a plan (packages/rollout `PlanForecast`). */
export interface PlanForecastView {
  stages: StageForecastView[];
  maxInformation: Record<string, number>;
  powerPerMetric: Record<string, number>;
  nonInferiority?: Record<string, unknown>;
  allGuardrailsPass: number;
  warnings: string[];
}

/**
 * The reply of `GET /rollouts/{id}/plan`: the forecast, either as the whole reply or under `forecast`, with
 * the traffic assumptions it was made for when the server gives them.
 */
export type PlanReply =
  | PlanForecastView
  | {
      forecast: PlanForecastView;
      traffic?: { unitsPerDay: number; [field: string]: unknown };
      plan?: RolloutPlanView;
      [field: string]: unknown;
    };

export type ClientKeyKind = 'server' | 'browser';

export interface ClientKeyView {
  id: string;
  name: string;
  environment: string;
  kind: ClientKeyKind;
  allowedOrigins: string[];
  /** The first characters of the secret. */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface ClientKeyInput {
  name: string;
  environment: string;
  kind: ClientKeyKind;
  allowedOrigins?: string[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  resourceType: string;
  resourceKey: string;
  environment: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  resourceType?: string;
  key?: string;
  actor?: string;
  /** ISO 8601 time. */
  since?: string;
  limit?: number;
  cursor?: string;
}

/** Body of `POST /v1/events`. */
export interface EventBatch {
  batchId: string;
  events: SdkEvent[] | Record<string, unknown>[];
}

/** The 202 reply of `POST /v1/events`. */
export interface EventsReply {
  batchId: string;
  accepted: number;
  rejected: { index: number; reason: string }[];
  duplicate: boolean;
}

// ------------------------------------------------------------------------------------------------ errors

/** Code used when the server could not be reached at all (no HTTP status). */
export const NETWORK_ERROR_CODE = 'NETWORK_ERROR';

/** An error reply of the API (or an unreachable server): the code, the message, and the details. */
export class AdminApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** `details.issues` of validation failures: each names the path and what was expected. */
  readonly issues: ValidationIssue[];
  /** Seconds from the `Retry-After` header of a 429 or 503, when given. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details: unknown = null,
    retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AdminApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.issues = readIssues(details);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function readIssues(details: unknown): ValidationIssue[] {
  if (details === null || typeof details !== 'object') return [];
  const issues = (details as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return [];
  return issues.filter(
    (i): i is ValidationIssue =>
      typeof i === 'object' && i !== null && typeof i.path === 'string' && typeof i.message === 'string',
  );
}

function retryAfter(response: Response): number | undefined {
  const raw = response.headers.get('retry-after');
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

// ------------------------------------------------------------------------------------------------ client

export interface AdminClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:4242` (a trailing slash is ignored). */
  url: string;
  /** Admin token, sent as `Authorization: Bearer <token>` on admin routes. */
  token?: string;
  fetch?: FetchFn;
}

/** The admin API as methods; every method rejects with `AdminApiError` on an error reply. */
export interface AdminClient {
  readonly url: string;
  listEnvironments(): Promise<EnvironmentView[]>;
  createEnvironment(input: { key: string; name?: string }): Promise<EnvironmentView>;

  listFlags(filter?: FlagListFilter): Promise<FlagView[]>;
  getFlag(key: string): Promise<FlagView>;
  createFlag(input: FlagInput): Promise<FlagView>;
  /** Replaces the document (`key` and `salt` may be omitted, never changed). */
  replaceFlag(key: string, document: Omit<FlagInput, 'key'> & { key?: string }): Promise<FlagChange>;
  patchFlag(key: string, patch: FlagPatch): Promise<FlagChange>;
  putFlagEnvironment(key: string, environment: string, state: FlagEnvironment): Promise<FlagChange>;
  setFlagEnabled(key: string, environment: string, enabled: boolean): Promise<FlagChange>;
  setFlagArchived(key: string, archived: boolean): Promise<FlagChange>;

  listSegments(): Promise<SegmentView[]>;
  getSegment(key: string): Promise<SegmentView>;
  createSegment(input: SegmentInput): Promise<SegmentView>;
  replaceSegment(key: string, input: Omit<SegmentInput, 'key'> & { key?: string }): Promise<SegmentView>;
  deleteSegment(key: string): Promise<void>;

  listMetrics(): Promise<MetricView[]>;
  getMetric(key: string): Promise<MetricView>;
  createMetric(input: MetricInput): Promise<MetricView>;
  replaceMetric(key: string, input: MetricInput): Promise<MetricView>;
  deleteMetric(key: string): Promise<void>;

  listSurfaces(): Promise<SurfaceView[]>;
  getSurface(key: string): Promise<SurfaceView>;
  createSurface(input: SurfaceInput): Promise<SurfaceView>;
  replaceSurface(key: string, input: SurfaceInput): Promise<SurfaceView>;
  deleteSurface(key: string): Promise<void>;

  listRollouts(filter?: { environment?: string; flag?: string }): Promise<RolloutView[]>;
  getRollout(id: string): Promise<RolloutView>;
  createRollout(input: RolloutInput): Promise<RolloutView>;
  /** Applies a lifecycle action; the reply is the rollout after it. */
  rolloutAction(id: string, action: RolloutAction): Promise<RolloutView>;
  listRolloutDecisions(id: string): Promise<DecisionView[]>;
  getRolloutEvidence(id: string): Promise<EvidenceReport>;
  /** The forecast of the rollout's plan: what each stage can detect. */
  getRolloutPlan(id: string): Promise<PlanReply>;

  listKeys(environment?: string): Promise<ClientKeyView[]>;
  /** Creates a client key; `secret` is returned this once only. */
  createKey(input: ClientKeyInput): Promise<{ key: ClientKeyView; secret: string }>;
  revokeKey(id: string): Promise<ClientKeyView>;

  listAudit(filter?: AuditFilter): Promise<{ entries: AuditEntry[]; nextCursor: string | null }>;

  /** Sends one events batch with a client key (not the admin token); idempotent per `batchId`. */
  sendEvents(clientKey: string, batch: EventBatch): Promise<EventsReply>;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** The list inside a reply: `{ <field>: [...] }` or a bare array. */
function listOf<T>(reply: unknown, field: string): T[] {
  if (Array.isArray(reply)) return reply as T[];
  const list = (reply as Record<string, unknown> | null)?.[field];
  return Array.isArray(list) ? (list as T[]) : [];
}

/**
 * Creates an admin API client for a server URL and admin token. Requests send and expect JSON; an error reply
 * `{ error: { code, message, details } }` (or an unreachable server, code `NETWORK_ERROR`) rejects with
 * `AdminApiError`.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const base = options.url.replace(/\/+$/, '');
  const doFetch: FetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    credential: string | undefined = options.token,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(base + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const reason =
        typeof cause?.code === 'string'
          ? cause.code
          : typeof cause?.message === 'string'
            ? cause.message
            : error instanceof Error
              ? error.message
              : String(error);
      throw new AdminApiError(0, NETWORK_ERROR_CODE, `cannot reach ${base}: ${reason}`, { url: base + path });
    }
    const text = await response.text();
    let json: unknown = null;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
        ?.error;
      throw new AdminApiError(
        response.status,
        typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
        typeof error?.message === 'string'
          ? error.message
          : `${method} ${path} failed with HTTP ${response.status}`,
        error?.details ?? null,
        retryAfter(response),
      );
    }
    return json as T;
  }

  return {
    url: base,
    async listEnvironments() {
      return listOf(await request('GET', ADMIN_PATHS.environments), 'environments');
    },
    createEnvironment: (input) => request('POST', ADMIN_PATHS.environments, input),

    async listFlags(filter = {}) {
      const path =
        ADMIN_PATHS.flags +
        query({
          environment: filter.environment,
          q: filter.q,
          archived: filter.archived ? 'true' : undefined,
        });
      return listOf(await request('GET', path), 'flags');
    },
    getFlag: (key) => request('GET', ADMIN_PATHS.flag(key)),
    createFlag: (input) => request('POST', ADMIN_PATHS.flags, input),
    replaceFlag: (key, document) => request('PUT', ADMIN_PATHS.flag(key), document),
    patchFlag: (key, patch) => request('PATCH', ADMIN_PATHS.flag(key), patch),
    putFlagEnvironment: (key, env, state) => request('PUT', ADMIN_PATHS.flagEnvironment(key, env), state),
    setFlagEnabled: (key, env, enabled) =>
      request('POST', ADMIN_PATHS.flagEnvironmentAction(key, env, enabled ? 'enable' : 'disable')),
    setFlagArchived: (key, archived) =>
      request('POST', ADMIN_PATHS.flagAction(key, archived ? 'archive' : 'unarchive')),

    async listSegments() {
      return listOf(await request('GET', ADMIN_PATHS.segments), 'segments');
    },
    getSegment: (key) => request('GET', ADMIN_PATHS.segment(key)),
    createSegment: (input) => request('POST', ADMIN_PATHS.segments, input),
    replaceSegment: (key, input) => request('PUT', ADMIN_PATHS.segment(key), input),
    async deleteSegment(key) {
      await request('DELETE', ADMIN_PATHS.segment(key));
    },

    async listMetrics() {
      return listOf(await request('GET', ADMIN_PATHS.metrics), 'metrics');
    },
    getMetric: (key) => request('GET', ADMIN_PATHS.metric(key)),
    createMetric: (input) => request('POST', ADMIN_PATHS.metrics, input),
    replaceMetric: (key, input) => request('PUT', ADMIN_PATHS.metric(key), input),
    async deleteMetric(key) {
      await request('DELETE', ADMIN_PATHS.metric(key));
    },

    async listSurfaces() {
      return listOf(await request('GET', ADMIN_PATHS.surfaces), 'surfaces');
    },
    getSurface: (key) => request('GET', ADMIN_PATHS.surface(key)),
    createSurface: (input) => request('POST', ADMIN_PATHS.surfaces, input),
    replaceSurface: (key, input) => request('PUT', ADMIN_PATHS.surface(key), input),
    async deleteSurface(key) {
      await request('DELETE', ADMIN_PATHS.surface(key));
    },

    async listRollouts(filter = {}) {
      const path = ADMIN_PATHS.rollouts + query({ environment: filter.environment, flag: filter.flag });
      return listOf(await request('GET', path), 'rollouts');
    },
    getRollout: (id) => request('GET', ADMIN_PATHS.rollout(id)),
    createRollout: (input) => request('POST', ADMIN_PATHS.rollouts, input),
    rolloutAction: (id, action) => request('POST', ADMIN_PATHS.rolloutAction(id, action)),
    async listRolloutDecisions(id) {
      return listOf(await request('GET', ADMIN_PATHS.rolloutDecisions(id)), 'decisions');
    },
    getRolloutEvidence: (id) => request('GET', ADMIN_PATHS.rolloutEvidence(id)),
    getRolloutPlan: (id) => request('GET', ADMIN_PATHS.rolloutPlan(id)),

    async listKeys(environment) {
      return listOf(await request('GET', ADMIN_PATHS.keys + query({ environment })), 'keys');
    },
    createKey: (input) => request('POST', ADMIN_PATHS.keys, input),
    revokeKey: (id) => request('POST', ADMIN_PATHS.revokeKey(id)),

    listAudit: (filter = {}) => request('GET', ADMIN_PATHS.audit + query({ ...filter })),

    sendEvents: (clientKey, batch) => request('POST', ADMIN_PATHS.events, batch, clientKey),
  };
}
