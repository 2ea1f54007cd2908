/**
 * A typed client for the Dimmer admin API (`/api/v1/*`, bearer admin token) and the events route
 * (`POST /v1/events`, client key). Every path is in `ADMIN_PATHS`; every request and reply shape is the
 * contract of `@dimmer/api`, shared with the server and the dashboard. Errors arrive as `AdminApiError` with the server's code and details. Uses only
 * `fetch`, so it runs in Node, browsers and edge runtimes.
 */
import type {
  AdminTokenInput,
  AdminTokenView,
  AuditPage,
  AuditResourceType,
  ChartHistory,
  ClientKeyInput,
  ClientKeyView,
  CreatedAdminToken,
  CreatedClientKey,
  CreatedExperiment,
  CreatedRollout,
  DecisionView,
  EnvironmentInput,
  EnvironmentView,
  EventBatchEnvelope,
  EventsReply,
  EvidenceReport,
  ExperimentInput,
  ExperimentResults,
  ExperimentShipInput,
  ExperimentSimpleAction,
  ExperimentView,
  FlagChange,
  FlagEnvironment,
  FlagInput,
  FlagPatch,
  FlagReplace,
  FlagView,
  HoldbackReport,
  MetricInput,
  MetricView,
  PlanReply,
  RolloutAction,
  RolloutInput,
  RolloutPlanPreview,
  RolloutRelease,
  RolloutView,
  SegmentInput,
  SegmentReplace,
  SegmentView,
  SurfaceHoldbackInput,
  SurfaceInput,
  SurfaceView,
} from '@dimmer/api';
import type { ValidationIssue } from '@dimmer/core';
import type { FetchFn } from './types.ts';

/** Prefix of every admin route. */
export const ADMIN_API_PREFIX = '/api/v1';

const enc = encodeURIComponent;
const api = (path: string) => `${ADMIN_API_PREFIX}${path}`;

/** Every path the client calls (relative to the server URL). */
export const ADMIN_PATHS = {
  environments: api('/environments'),
  environment: (key: string) => api(`/environments/${enc(key)}`),
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
  surfaceHoldback: (key: string) => api(`/surfaces/${enc(key)}/holdback`),
  surfaceHoldbackReport: (key: string, environment: string) =>
    api(`/surfaces/${enc(key)}/holdback-report?environment=${enc(environment)}`),
  rollouts: api('/rollouts'),
  rollout: (id: string) => api(`/rollouts/${enc(id)}`),
  rolloutDecisions: (id: string) => api(`/rollouts/${enc(id)}/decisions`),
  rolloutEvidence: (id: string) => api(`/rollouts/${enc(id)}/evidence`),
  rolloutPlan: (id: string) => api(`/rollouts/${enc(id)}/plan`),
  rolloutChart: (id: string) => api(`/rollouts/${enc(id)}/chart`),
  planRollout: api('/rollouts/plan'),
  rolloutAction: (id: string, action: RolloutAction) => api(`/rollouts/${enc(id)}/${action}`),
  experiments: api('/experiments'),
  experiment: (id: string) => api(`/experiments/${enc(id)}`),
  experimentResults: (id: string) => api(`/experiments/${enc(id)}/results`),
  experimentAction: (id: string, action: ExperimentSimpleAction | 'coverage' | 'ship') =>
    api(`/experiments/${enc(id)}/${action}`),
  keys: api('/keys'),
  revokeKey: (id: string) => api(`/keys/${enc(id)}/revoke`),
  tokens: api('/tokens'),
  revokeToken: (idOrName: string) => api(`/tokens/${enc(idOrName)}/revoke`),
  rotateToken: (idOrName: string) => api(`/tokens/${enc(idOrName)}/rotate`),
  audit: api('/audit'),
  events: '/v1/events',
} as const;

// ------------------------------------------------------------------------------------------------ shapes
// Every request and reply shape is the one contract of @dimmer/api (types only: nothing of it ships at run time).

/** The lifecycle of a rollout (its `state`). */
/** Which way a metric gets worse. */
/** Forecast of one stage. */
/** Forecast of a plan. */
export type {
  AdminTokenInput,
  AdminTokenView,
  ArmStats,
  AuditEntry,
  AuditPage,
  AuditResourceType,
  ChartHistory,
  ClientKeyInput,
  ClientKeyKind,
  ClientKeyView,
  CreatedAdminToken,
  CreatedClientKey,
  CreatedExperiment,
  CreatedRollout,
  DecisionMetricLook,
  DecisionView,
  Direction as HarmDirection,
  EnvironmentInput,
  EnvironmentView,
  EventBatch,
  EventBatchEnvelope,
  EventQuantileStats,
  EventsReply,
  EvidenceReport,
  ExperimentInput,
  ExperimentResults,
  ExperimentSamplePlanView,
  ExperimentShipInput,
  ExperimentSimpleAction,
  ExperimentStatus,
  ExperimentView,
  FlagChange,
  FlagInput,
  FlagPatch,
  FlagReplace,
  FlagView,
  GuardrailLookSummary,
  HoldbackMetricReport,
  HoldbackReport,
  LastAction,
  MetricCategory,
  MetricEstimates,
  MetricInput,
  MetricKind,
  MetricMeasure,
  MetricView,
  PlanForecast as PlanForecastView,
  PlanReply,
  QuantileEstimates,
  QuantileLook,
  QuantileScope,
  QuantileSketch,
  RelativeChange,
  RolloutAction,
  RolloutAlarmCause,
  RolloutAlarmReason,
  RolloutInput,
  RolloutPlanPreview,
  RolloutPlanView,
  RolloutRelease,
  RolloutStageInput,
  RolloutStageView,
  RolloutState as RolloutStatus,
  RolloutView,
  SegmentInput,
  SegmentReplace,
  SegmentView,
  ShippedExperiment,
  SplitPreview,
  StageForecast as StageForecastView,
  SurfaceGuardrail,
  SurfaceHoldbackInput,
  SurfaceHoldbackView,
  SurfaceInput,
  SurfaceView,
} from '@dimmer/api';

/** The actions of `POST /rollouts/{id}/{action}`. */
export const ROLLOUT_ACTIONS: readonly RolloutAction[] = [
  'start',
  'advance',
  'pause',
  'resume',
  'rollback',
  'complete',
];

export interface FlagListFilter {
  environment?: string;
  q?: string;
  archived?: boolean;
}

/** Filters of the audit log; `since` is an ISO 8601 time. */
export interface AuditFilter {
  resourceType?: AuditResourceType;
  key?: string;
  actor?: string;
  since?: string;
  limit?: number;
  cursor?: string;
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

  /**
   * The document's current version when this is a CONFLICT on a stale version (the document changed since it
   * was read); undefined for any other error.
   */
  get currentVersion(): number | undefined {
    if (this.status !== 409) return undefined;
    const current = (this.details as { currentVersion?: unknown } | null)?.currentVersion;
    return typeof current === 'number' ? current : undefined;
  }
}

/** The version a write was made from (sent as `If-Match`); a stale one is refused with a 409. */
export interface VersionOption {
  version?: number;
}

/** Options of disable and archive: the version, and what to do with a rollout running on the flag. */
export interface FlagStateOptions extends VersionOption {
  rollout?: RolloutRelease;
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
  createEnvironment(input: EnvironmentInput): Promise<EnvironmentView>;
  /** Renames an environment (its key never changes). */
  renameEnvironment(key: string, name: string): Promise<EnvironmentView>;
  /** Deletes an environment; CONFLICT naming its active keys, rollouts and experiments while it has any. */
  deleteEnvironment(key: string): Promise<void>;

  listFlags(filter?: FlagListFilter): Promise<FlagView[]>;
  getFlag(key: string): Promise<FlagView>;
  createFlag(input: FlagInput): Promise<FlagView>;
  /**
   * Replaces the document (`key` and `salt` may be omitted, never changed). Send the `version` that was read
   * (in the document or the options): a document changed since is refused with a 409 (`currentVersion`).
   */
  replaceFlag(key: string, document: FlagReplace, options?: VersionOption): Promise<FlagChange>;
  patchFlag(key: string, patch: FlagPatch, options?: VersionOption): Promise<FlagChange>;
  putFlagEnvironment(
    key: string,
    environment: string,
    state: FlagEnvironment,
    options?: VersionOption,
  ): Promise<FlagChange>;
  /** Disabling under a running rollout needs `rollout: 'pause' | 'rollback'`. */
  setFlagEnabled(
    key: string,
    environment: string,
    enabled: boolean,
    options?: FlagStateOptions,
  ): Promise<FlagChange>;
  /** Archiving under a running rollout needs `rollout: 'pause' | 'rollback'`. */
  setFlagArchived(key: string, archived: boolean, options?: FlagStateOptions): Promise<FlagChange>;

  listSegments(): Promise<SegmentView[]>;
  getSegment(key: string): Promise<SegmentView>;
  createSegment(input: SegmentInput): Promise<SegmentView>;
  replaceSegment(key: string, input: SegmentReplace, options?: VersionOption): Promise<SegmentView>;
  deleteSegment(key: string, options?: VersionOption): Promise<void>;

  listMetrics(): Promise<MetricView[]>;
  getMetric(key: string): Promise<MetricView>;
  createMetric(input: MetricInput): Promise<MetricView>;
  replaceMetric(key: string, input: MetricInput, options?: VersionOption): Promise<MetricView>;
  deleteMetric(key: string, options?: VersionOption): Promise<void>;

  listSurfaces(): Promise<SurfaceView[]>;
  getSurface(key: string): Promise<SurfaceView>;
  createSurface(input: SurfaceInput): Promise<SurfaceView>;
  replaceSurface(key: string, input: SurfaceInput, options?: VersionOption): Promise<SurfaceView>;
  deleteSurface(key: string, options?: VersionOption): Promise<void>;
  /** Sets the surface holdback (immutable once set: CONFLICT while one is enabled). */
  setSurfaceHoldback(key: string, input: SurfaceHoldbackInput): Promise<SurfaceView>;
  /** Disables the surface holdback: its units get what everyone else gets. */
  disableSurfaceHoldback(key: string): Promise<SurfaceView>;
  /** The holdback against everyone else on the surface's metrics in one environment. */
  getHoldbackReport(key: string, environment: string): Promise<HoldbackReport>;

  listRollouts(filter?: { environment?: string; flag?: string }): Promise<RolloutView[]>;
  getRollout(id: string): Promise<RolloutView>;
  createRollout(input: RolloutInput): Promise<CreatedRollout>;
  /** Applies a lifecycle action; the reply is the rollout after it. */
  rolloutAction(id: string, action: RolloutAction, options?: VersionOption): Promise<RolloutView>;
  listRolloutDecisions(id: string): Promise<DecisionView[]>;
  getRolloutEvidence(id: string): Promise<EvidenceReport>;
  /** The forecast of the rollout's plan: what each stage can detect. */
  getRolloutPlan(id: string): Promise<PlanReply>;
  /** Dry run of `createRollout`: the same errors, the plan, forecast, schedule and warnings; stores nothing. */
  planRollout(input: RolloutInput): Promise<RolloutPlanPreview>;
  /** Every look's estimate, interval, boundary and margin per guardrail (`after`: only the looks since). */
  getRolloutChart(id: string, query?: { after?: string; points?: number }): Promise<ChartHistory>;
  listExperiments(filter?: { environment?: string; flag?: string }): Promise<ExperimentView[]>;
  getExperiment(id: string): Promise<ExperimentView>;
  /** Creates a draft experiment; the reply carries its sample plan. */
  createExperiment(input: ExperimentInput): Promise<CreatedExperiment>;
  /** Revises a plan: anything while a draft; once started, variants, weights, coverage and metrics are refused. */
  replaceExperiment(id: string, input: ExperimentInput): Promise<ExperimentView>;
  /** Start, stop or abort; the reply is the experiment after it. */
  experimentAction(id: string, action: ExperimentSimpleAction): Promise<ExperimentView>;
  /** Grows the coverage of a running experiment (never shrinks). */
  setExperimentCoverage(id: string, coverage: number): Promise<ExperimentView>;
  /** Ships a variant: the experiment ends and the rollout of the winner starts. */
  shipExperiment(
    id: string,
    input: ExperimentShipInput,
  ): Promise<{ experiment: ExperimentView; rollout: RolloutView }>;
  /** Per metric and variant estimate, lift with interval and verdict, and the recommendation. */
  getExperimentResults(id: string): Promise<ExperimentResults>;

  listKeys(environment?: string): Promise<ClientKeyView[]>;
  /** Creates a client key; `secret` is returned this once only. */
  createKey(input: ClientKeyInput): Promise<CreatedClientKey>;
  revokeKey(id: string): Promise<ClientKeyView>;

  listTokens(): Promise<AdminTokenView[]>;
  /** Creates a named admin token; `secret` is returned this once only. */
  createToken(input: AdminTokenInput): Promise<CreatedAdminToken>;
  /** Revokes a token by id or active name; the last active one only with `force`. */
  revokeToken(idOrName: string, options?: { force?: boolean }): Promise<AdminTokenView>;
  /** A new secret under the same name; the old secret stops working. */
  rotateToken(idOrName: string): Promise<CreatedAdminToken>;

  listAudit(filter?: AuditFilter): Promise<AuditPage>;

  /**
   * Sends one events batch with a client key (not the admin token); idempotent per `batchId`. Each event is
   * checked on its own: a bad one comes back in `rejected` by index (an `EventBatch` has none).
   */
  sendEvents(clientKey: string, batch: EventBatchEnvelope): Promise<EventsReply>;
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
    version?: number,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
    if (version !== undefined) headers['if-match'] = `"${version}"`;
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
    renameEnvironment: (key, name) => request('PUT', ADMIN_PATHS.environment(key), { name }),
    async deleteEnvironment(key) {
      await request('DELETE', ADMIN_PATHS.environment(key));
    },

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
    replaceFlag: (key, document, opts = {}) =>
      request('PUT', ADMIN_PATHS.flag(key), document, options.token, opts.version),
    patchFlag: (key, patch, opts = {}) =>
      request('PATCH', ADMIN_PATHS.flag(key), patch, options.token, opts.version),
    putFlagEnvironment: (key, env, state, opts = {}) =>
      request('PUT', ADMIN_PATHS.flagEnvironment(key, env), state, options.token, opts.version),
    setFlagEnabled: (key, env, enabled, opts = {}) =>
      request(
        'POST',
        ADMIN_PATHS.flagEnvironmentAction(key, env, enabled ? 'enable' : 'disable'),
        opts.rollout === undefined ? undefined : { rollout: opts.rollout },
        options.token,
        opts.version,
      ),
    setFlagArchived: (key, archived, opts = {}) =>
      request(
        'POST',
        ADMIN_PATHS.flagAction(key, archived ? 'archive' : 'unarchive'),
        opts.rollout === undefined ? undefined : { rollout: opts.rollout },
        options.token,
        opts.version,
      ),

    async listSegments() {
      return listOf(await request('GET', ADMIN_PATHS.segments), 'segments');
    },
    getSegment: (key) => request('GET', ADMIN_PATHS.segment(key)),
    createSegment: (input) => request('POST', ADMIN_PATHS.segments, input),
    replaceSegment: (key, input, opts = {}) =>
      request('PUT', ADMIN_PATHS.segment(key), input, options.token, opts.version),
    async deleteSegment(key, opts = {}) {
      await request('DELETE', ADMIN_PATHS.segment(key), undefined, options.token, opts.version);
    },

    async listMetrics() {
      return listOf(await request('GET', ADMIN_PATHS.metrics), 'metrics');
    },
    getMetric: (key) => request('GET', ADMIN_PATHS.metric(key)),
    createMetric: (input) => request('POST', ADMIN_PATHS.metrics, input),
    replaceMetric: (key, input, opts = {}) =>
      request('PUT', ADMIN_PATHS.metric(key), input, options.token, opts.version),
    async deleteMetric(key, opts = {}) {
      await request('DELETE', ADMIN_PATHS.metric(key), undefined, options.token, opts.version);
    },

    async listSurfaces() {
      return listOf(await request('GET', ADMIN_PATHS.surfaces), 'surfaces');
    },
    getSurface: (key) => request('GET', ADMIN_PATHS.surface(key)),
    setSurfaceHoldback: (key, input) => request('POST', ADMIN_PATHS.surfaceHoldback(key), input),
    disableSurfaceHoldback: (key) => request('POST', `${ADMIN_PATHS.surfaceHoldback(key)}/disable`, {}),
    getHoldbackReport: (key, environment) =>
      request('GET', ADMIN_PATHS.surfaceHoldbackReport(key, environment)),
    createSurface: (input) => request('POST', ADMIN_PATHS.surfaces, input),
    replaceSurface: (key, input, opts = {}) =>
      request('PUT', ADMIN_PATHS.surface(key), input, options.token, opts.version),
    async deleteSurface(key, opts = {}) {
      await request('DELETE', ADMIN_PATHS.surface(key), undefined, options.token, opts.version);
    },

    async listRollouts(filter = {}) {
      const path = ADMIN_PATHS.rollouts + query({ environment: filter.environment, flag: filter.flag });
      return listOf(await request('GET', path), 'rollouts');
    },
    getRollout: (id) => request('GET', ADMIN_PATHS.rollout(id)),
    createRollout: (input) => request('POST', ADMIN_PATHS.rollouts, input),
    rolloutAction: (id, action, opts = {}) =>
      request('POST', ADMIN_PATHS.rolloutAction(id, action), undefined, options.token, opts.version),
    async listRolloutDecisions(id) {
      return listOf(await request('GET', ADMIN_PATHS.rolloutDecisions(id)), 'decisions');
    },
    getRolloutEvidence: (id) => request('GET', ADMIN_PATHS.rolloutEvidence(id)),
    getRolloutPlan: (id) => request('GET', ADMIN_PATHS.rolloutPlan(id)),
    planRollout: (input) => request('POST', ADMIN_PATHS.planRollout, input),
    getRolloutChart: (id, q = {}) =>
      request('GET', ADMIN_PATHS.rolloutChart(id) + query({ after: q.after, points: q.points })),

    async listExperiments(filter = {}) {
      const path = ADMIN_PATHS.experiments + query({ environment: filter.environment, flag: filter.flag });
      return listOf(await request('GET', path), 'experiments');
    },
    getExperiment: (id) => request('GET', ADMIN_PATHS.experiment(id)),
    createExperiment: (input) => request('POST', ADMIN_PATHS.experiments, input),
    replaceExperiment: (id, input) => request('PUT', ADMIN_PATHS.experiment(id), input),
    experimentAction: (id, action) => request('POST', ADMIN_PATHS.experimentAction(id, action)),
    setExperimentCoverage: (id, coverage) =>
      request('POST', ADMIN_PATHS.experimentAction(id, 'coverage'), { coverage }),
    shipExperiment: (id, input) => request('POST', ADMIN_PATHS.experimentAction(id, 'ship'), input),
    getExperimentResults: (id) => request('GET', ADMIN_PATHS.experimentResults(id)),

    async listKeys(environment) {
      return listOf(await request('GET', ADMIN_PATHS.keys + query({ environment })), 'keys');
    },
    createKey: (input) => request('POST', ADMIN_PATHS.keys, input),
    revokeKey: (id) => request('POST', ADMIN_PATHS.revokeKey(id)),

    async listTokens() {
      return listOf(await request('GET', ADMIN_PATHS.tokens), 'tokens');
    },
    createToken: (input) => request('POST', ADMIN_PATHS.tokens, input),
    revokeToken: (idOrName, options = {}) =>
      request('POST', ADMIN_PATHS.revokeToken(idOrName) + (options.force === true ? '?force=true' : '')),
    rotateToken: (idOrName) => request('POST', ADMIN_PATHS.rotateToken(idOrName)),

    listAudit: (filter = {}) => request('GET', ADMIN_PATHS.audit + query({ ...filter })),

    sendEvents: (clientKey, batch) => request('POST', ADMIN_PATHS.events, batch, clientKey),
  };
}
