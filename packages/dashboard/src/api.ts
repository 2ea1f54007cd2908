/**
 * The dashboard's only door to the server: a typed client over the admin API (bearer admin token).
 * Every path lives in `PATHS`; every request and reply shape is the contract of `@dimmer/api`, shared with
 * the server and the SDK.
 */
import type {
  AdminTokenView,
  AuditPage,
  AuditQuery,
  AuditResourceType,
  AuthConfigView,
  ClientKeyInput,
  ClientKeyView,
  CreatedAdminToken,
  CreatedClientKey,
  DecisionAction,
  DecisionPage,
  DecisionRule,
  DecisionView,
  EnvironmentView,
  FlagChange,
  FlagInput,
  FlagReplace,
  FlagView,
  Direction as HarmDirection,
  MetricView,
  MeView,
  Role,
  RolloutAction,
  RolloutInput,
  RolloutList,
  RolloutView,
  SegmentView,
  SurfaceView,
} from '@dimmer/api';
import type { ValidationIssue } from '@dimmer/core';

/** Admin API prefix. */
export const API_PREFIX = '/api/v1';

/** Every admin path the dashboard calls. */
export const PATHS = {
  environments: `${API_PREFIX}/environments`,
  flags: `${API_PREFIX}/flags`,
  flag: (key: string) => `${API_PREFIX}/flags/${encodeURIComponent(key)}`,
  flagEnvAction: (key: string, env: string, action: 'enable' | 'disable') =>
    `${API_PREFIX}/flags/${encodeURIComponent(key)}/environments/${encodeURIComponent(env)}/${action}`,
  segments: `${API_PREFIX}/segments`,
  keys: `${API_PREFIX}/keys`,
  revokeKey: (id: string) => `${API_PREFIX}/keys/${encodeURIComponent(id)}/revoke`,
  tokens: `${API_PREFIX}/tokens`,
  tokenAction: (id: string, action: 'revoke' | 'rotate') =>
    `${API_PREFIX}/tokens/${encodeURIComponent(id)}/${action}`,
  audit: `${API_PREFIX}/audit`,
  me: `${API_PREFIX}/me`,
  authConfig: '/auth/config',
  login: '/auth/login',
  logout: '/auth/logout',
  metrics: `${API_PREFIX}/metrics`,
  surfaces: `${API_PREFIX}/surfaces`,
  rollouts: `${API_PREFIX}/rollouts`,
  rollout: (id: string) => `${API_PREFIX}/rollouts/${encodeURIComponent(id)}`,
  rolloutDecisions: (id: string) => `${API_PREFIX}/rollouts/${encodeURIComponent(id)}/decisions`,
  rolloutAction: (id: string, action: RolloutAction) =>
    `${API_PREFIX}/rollouts/${encodeURIComponent(id)}/${action}`,
  experiments: `${API_PREFIX}/experiments`,
  experiment: (id: string) => `${API_PREFIX}/experiments/${encodeURIComponent(id)}`,
  experimentAction: (id: string, action: 'start' | 'stop' | 'abort' | 'coverage' | 'ship' | 'results') =>
    `${API_PREFIX}/experiments/${encodeURIComponent(id)}/${action}`,
} as const;

/** sessionStorage key of the admin token (cleared when the tab closes). */
export const TOKEN_STORAGE_KEY = 'dimmer.adminToken';

// ---------------------------------------------------------------- shapes (the contract of @dimmer/api)

export type {
  AdminTokenView as AdminToken,
  AuditEntry,
  AuditPage,
  AuditResourceType,
  AuthConfigView as AuthConfig,
  ClientKeyInput,
  ClientKeyKind,
  ClientKeyView as ClientKey,
  Direction as HarmDirection,
  EnvironmentView as Environment,
  FlagChange,
  FlagInput,
  FlagView,
  MetricKind,
  MetricMeasure as MetricEventRef,
  MetricView as Metric,
  MeView as Me,
  Permission,
  Role,
  RolloutAction,
  RolloutGuardrailInput as RolloutGuardrail,
  RolloutHealth,
  RolloutInput,
  RolloutStageInput as RolloutStage,
  RolloutState,
  SegmentView,
  SplitPreview,
  SurfaceGuardrail,
  SurfaceView as Surface,
} from '@dimmer/api';

/** Every resource type the server writes to the audit log, for the filter (checked complete below). */
export const AUDIT_RESOURCE_TYPES = [
  'environment',
  'flag',
  'segment',
  'client_key',
  'admin_token',
  'metric',
  'surface',
  'rollout',
  'experiment',
  'grant',
  'session',
] as const satisfies readonly AuditResourceType[];
/** Fails to compile when the contract gains a resource type the list above does not name. */
const AUDIT_TYPES_COMPLETE: [Exclude<AuditResourceType, (typeof AUDIT_RESOURCE_TYPES)[number]>] extends [
  never,
]
  ? true
  : never = true;
void AUDIT_TYPES_COMPLETE;

/** Filters of the audit log: the route's query, with the page size as a number. */
export type AuditFilter = Omit<AuditQuery, 'limit'> & { limit?: number };

/** When a stage of a rollout began, from the actions in its history (oldest first). */
export interface StageStart {
  stage: number;
  reach: number;
  at: string;
  action: string;
}

/** A rollout as the dashboard shows it: the API's rollout, its history reduced to the actions taken. */
export type Rollout = Omit<RolloutView, 'history'> & { history: StageStart[] };

/** Per guardrail evidence of one look, on the absolute difference scale (treatment − control). */
export interface MetricEvidence {
  metric: string;
  direction?: HarmDirection;
  /** Δ̂: estimated difference treatment − control. */
  estimate: number;
  relativeLift?: number;
  se: number;
  /** Confidence interval of Δ. */
  interval: [number, number];
  /** Information fraction t = I / I_max. */
  informationFraction?: number;
  /** Deterioration boundary on the z scale (null while nothing can be spent yet). */
  boundary?: number | null;
  z?: number;
  /** Non-inferiority margin θ on the absolute scale (θ = NIM × control mean). */
  margin?: number;
  nTreatment?: number;
  nControl?: number;
  deteriorated?: boolean;
  nonInferior?: boolean;
}

/** A decision of the controller as the charts read it: one entry per guardrail with an estimate. */
export interface RolloutDecision {
  id: string;
  rollout: string;
  at: string;
  action: DecisionAction | (string & {});
  /** The rule that fired, e.g. `deterioration`, `min_duration`, `all_clear`. */
  rule: DecisionRule | (string & {});
  message?: string;
  stage: number;
  reach: number;
  actor?: string;
  evidence: { metrics: MetricEvidence[]; srm?: { p: number; action?: string } | null };
}

// ---------------------------------------------------------------- reading

/** The dashboard's rollout: the reply as it is, with the actions of its history as stage starts. */
export function toRollout(view: RolloutView): Rollout {
  const history = view.history
    .filter((h) => h.kind === 'action')
    .map((h) => ({ stage: h.stageIndex, reach: h.reach, at: h.at, action: h.action }));
  return { ...view, history };
}

/** A decision as the charts read it: each guardrail with a summary, on the absolute difference scale. */
export function toDecision(d: DecisionView): RolloutDecision {
  const metrics: MetricEvidence[] = [];
  for (const [name, look] of Object.entries(d.metrics)) {
    const summary = look.summary;
    // A look the engine could not estimate (no variance yet) has nothing to chart.
    if (summary === null || summary.se === null) continue;
    const [low, high] = summary.interval;
    if (low === null || high === null) continue;
    const e: MetricEvidence = {
      metric: name,
      direction: look.direction,
      estimate: summary.delta,
      se: summary.se,
      interval: [low, high],
      boundary: summary.deterioration.boundary,
      nTreatment: summary.nTreatment,
      nControl: summary.nControl,
      deteriorated: summary.harmDetected,
      nonInferior: summary.nonInferior,
    };
    if (summary.relativeLift !== null) e.relativeLift = summary.relativeLift;
    if (summary.informationFraction !== null) e.informationFraction = summary.informationFraction;
    if (summary.deterioration.z !== null) e.z = summary.deterioration.z;
    if (summary.nonInferiority !== null) e.margin = summary.nonInferiority.margin;
    metrics.push(e);
  }
  return {
    id: String(d.id),
    rollout: d.rollout,
    at: d.at,
    action: d.action,
    rule: d.rule,
    message: d.reason,
    stage: d.stageIndex,
    reach: d.reach,
    actor: d.actor,
    evidence: { metrics, srm: d.srm === null ? null : { p: d.srm.pValue } },
  };
}

// ---------------------------------------------------------------- client

/** An error reply of the API: code, message and, for validation failures, the issues with their paths. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: ValidationIssue[];
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.issues = readIssues(details);
  }

  /** The document's current version when the write was refused because it changed since it was read. */
  get currentVersion(): number | undefined {
    if (this.status !== 409) return undefined;
    const current = (this.details as { currentVersion?: unknown } | null)?.currentVersion;
    return typeof current === 'number' ? current : undefined;
  }

  /** True when the route itself does not exist on this server (planned routes). */
  get routeMissing(): boolean {
    return this.status === 404 && /^(no route|Route) /i.test(this.message);
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

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** The CSRF cookie the server sets at sign-in; signed-in writes echo it in `X-CSRF-Token`. */
export const CSRF_COOKIE = 'dimmer_csrf';

/** A cookie of the page by name (the CSRF token is readable by design: it proves the page's origin). */
function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** How people sign in to the server (no credentials needed). */
export async function fetchAuthConfig(base = ''): Promise<AuthConfigView> {
  const response = await fetch(base + PATHS.authConfig);
  if (!response.ok) return { oidc: null, tokenSignIn: true };
  return (await response.json()) as AuthConfigView;
}

/**
 * The typed admin API client: with an admin token (bearer), or, with `null`, the session cookie of a person
 * signed in through the identity provider (writes carry the CSRF token).
 */
export class Api {
  readonly #token: string | null;
  readonly #base: string;

  constructor(token: string | null, base = '') {
    this.#token = token;
    this.#base = base;
  }

  /** True when this client signs requests with an admin token rather than the session cookie. */
  get usesToken(): boolean {
    return this.#token !== null;
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.#token !== null) headers.authorization = `Bearer ${this.#token}`;
    else if (method !== 'GET') {
      const csrf = readCookie(CSRF_COOKIE);
      if (csrf !== undefined) headers['x-csrf-token'] = csrf;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.#base + path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: unknown = null;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
        ?.error;
      throw new ApiError(
        response.status,
        typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
        typeof error?.message === 'string' ? error.message : `${method} ${path} failed (${response.status})`,
        error?.details ?? null,
      );
    }
    return json as T;
  }

  /** The caller and its role in every environment. */
  me(): Promise<MeView> {
    return this.#request('GET', PATHS.me);
  }

  /** Ends the person's session (cookie sign-in only). */
  async logout(): Promise<void> {
    await this.#request('POST', PATHS.logout);
  }

  async listEnvironments(): Promise<EnvironmentView[]> {
    return (await this.#request<{ environments: EnvironmentView[] }>('GET', PATHS.environments)).environments;
  }

  async listFlags(filter: { q?: string; archived?: boolean } = {}): Promise<FlagView[]> {
    const path = PATHS.flags + query({ q: filter.q, archived: filter.archived ? 'true' : undefined });
    return (await this.#request<{ flags: FlagView[] }>('GET', path)).flags;
  }

  getFlag(key: string): Promise<FlagView> {
    return this.#request('GET', PATHS.flag(key));
  }

  createFlag(input: FlagInput): Promise<FlagView> {
    return this.#request('POST', PATHS.flags, input);
  }

  /** Replaces the flag document; the reply carries the preview of units that changed variant. */
  replaceFlag(key: string, document: FlagReplace): Promise<FlagChange> {
    return this.#request('PUT', PATHS.flag(key), document);
  }

  setFlagEnabled(key: string, environment: string, enabled: boolean): Promise<FlagChange> {
    return this.#request('POST', PATHS.flagEnvAction(key, environment, enabled ? 'enable' : 'disable'));
  }

  async listSegments(): Promise<SegmentView[]> {
    return (await this.#request<{ segments: SegmentView[] }>('GET', PATHS.segments)).segments;
  }

  async listKeys(): Promise<ClientKeyView[]> {
    return (await this.#request<{ keys: ClientKeyView[] }>('GET', PATHS.keys)).keys;
  }

  /** Creates a client key; `secret` is returned this once only. */
  createKey(input: ClientKeyInput): Promise<CreatedClientKey> {
    return this.#request('POST', PATHS.keys, input);
  }

  revokeKey(id: string): Promise<ClientKeyView> {
    return this.#request('POST', PATHS.revokeKey(id));
  }

  async listTokens(): Promise<AdminTokenView[]> {
    return (await this.#request<{ tokens: AdminTokenView[] }>('GET', PATHS.tokens)).tokens;
  }

  /** Creates a named admin token with a role (default admin) and an owner; `secret` is returned this once only. */
  createToken(name: string, access: { role?: Role; owner?: string } = {}): Promise<CreatedAdminToken> {
    return this.#request('POST', PATHS.tokens, { name, ...access });
  }

  /** Revokes an admin token; the server refuses the last active one (409) unless `force`. */
  revokeToken(id: string, force = false): Promise<AdminTokenView> {
    return this.#request('POST', PATHS.tokenAction(id, 'revoke') + (force ? '?force=true' : ''));
  }

  /** A new secret under the same name; the old one stops working. */
  rotateToken(id: string): Promise<CreatedAdminToken> {
    return this.#request('POST', PATHS.tokenAction(id, 'rotate'));
  }

  listAudit(filter: AuditFilter): Promise<AuditPage> {
    return this.#request('GET', PATHS.audit + query({ ...filter }));
  }

  async listMetrics(): Promise<MetricView[]> {
    return (await this.#request<{ metrics: MetricView[] }>('GET', PATHS.metrics)).metrics;
  }

  async listSurfaces(): Promise<SurfaceView[]> {
    return (await this.#request<{ surfaces: SurfaceView[] }>('GET', PATHS.surfaces)).surfaces;
  }

  async listRollouts(): Promise<Rollout[]> {
    return (await this.#request<RolloutList>('GET', PATHS.rollouts)).rollouts.map(toRollout);
  }

  async getRollout(id: string): Promise<Rollout> {
    return toRollout(await this.#request<RolloutView>('GET', PATHS.rollout(id)));
  }

  async createRollout(input: RolloutInput): Promise<Rollout> {
    return toRollout(await this.#request<RolloutView>('POST', PATHS.rollouts, input));
  }

  async listDecisions(id: string): Promise<RolloutDecision[]> {
    const reply = await this.#request<DecisionPage>('GET', PATHS.rolloutDecisions(id));
    return reply.decisions.map(toDecision);
  }

  /** Runs a rollout action; the reply is the rollout after it. */
  async rolloutAction(id: string, action: RolloutAction): Promise<Rollout> {
    return toRollout(await this.#request<RolloutView>('POST', PATHS.rolloutAction(id, action), {}));
  }

  /** Any admin call by method and path (with this client's token and error handling); see api-admin.ts. */
  send<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.#request<T>(method, path, body);
  }
}
