/**
 * The route table: every route the server serves with its method, Fastify path, schemas of params, query,
 * body and success reply, the success status, and the error replies. The server builds its routes and its
 * OpenAPI document from it; clients derive their request and reply types from it.
 */
import { type Static, type TSchema, Type } from 'typebox';
import {
  AdminTokenInput,
  AdminTokenList,
  AdminTokenParams,
  AdminTokenRevokeQuery,
  AdminTokenView,
  AuditPage,
  AuditQuery,
  ClientKeyInput,
  ClientKeyList,
  ClientKeyView,
  CreatedAdminToken,
  CreatedClientKey,
  EnvironmentInput,
  EnvironmentList,
  EnvironmentParams,
  EnvironmentReplace,
  EnvironmentView,
  FlagEnvironmentParams,
  FlagListQuery,
  HoldbackReport,
  HoldbackReportQuery,
  KeyIdParams,
  KeyListQuery,
  MetricInput,
  MetricList,
  MetricReplace,
  MetricView,
  SurfaceHoldbackInput,
  SurfaceInput,
  SurfaceList,
  SurfaceReplace,
  SurfaceView,
} from './admin.ts';
import { ErrorBody, KeyParams, ROLLOUT_ACTIONS, type RolloutAction } from './common.ts';
import {
  EnvironmentSnapshot,
  FlagChange,
  FlagEnvironment,
  FlagInput,
  FlagPatch,
  FlagPreview,
  FlagReplace,
  FlagStateAction,
  FlagView,
  SegmentInput,
  SegmentList,
  SegmentReplace,
  SegmentView,
} from './documents.ts';
import {
  CreatedExperiment,
  EXPERIMENT_SIMPLE_ACTIONS,
  ExperimentActionInput,
  ExperimentCoverageInput,
  ExperimentIdParams,
  ExperimentInput,
  ExperimentList,
  ExperimentListQuery,
  ExperimentResults,
  ExperimentShipInput,
  type ExperimentSimpleAction,
  ExperimentView,
  ShippedExperiment,
} from './experiments.ts';
import {
  OfrepBulkFailure,
  OfrepBulkSuccess,
  OfrepFailure,
  OfrepFlagNotFound,
  OfrepGeneralError,
  OfrepRequest,
  OfrepSuccess,
} from './ofrep.ts';
import {
  ApprovalInput,
  ApprovalRequestInput,
  ApprovalStatus,
  AuthConfigView,
  CallbackQuery,
  DeviceStartView,
  DeviceTokenInput,
  DeviceTokenView,
  type EnvironmentSource,
  GrantIdParams,
  GrantInput,
  GrantList,
  GrantView,
  LoginQuery,
  MeView,
  type Permission,
  SessionIdParams,
  SessionList,
  SessionView,
} from './people.ts';
import {
  ChartHistory,
  ChartQuery,
  CreatedRollout,
  DecisionListQuery,
  DecisionPage,
  EvidenceReport,
  PlanReply,
  RolloutActionInput,
  RolloutIdParams,
  RolloutInput,
  RolloutList,
  RolloutListQuery,
  RolloutPlanPreview,
  RolloutView,
} from './rollouts.ts';
import {
  ConfigStreamEvent,
  EventBatchEnvelope,
  EventsReply,
  HealthReply,
  ReadyReply,
  ResolveRequest,
  ResolveResponse,
} from './sdk.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: the admin token, a client key, or anyone. */
export type RouteAuth = 'admin' | 'client' | 'none';

/** One route of the contract. */
export interface RouteContract {
  method: HttpMethod;
  /** Fastify-style path (`/api/v1/flags/:key`). */
  path: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** Status of the success reply. */
  status: number;
  /** Schema of the success reply; null when it has no body (204). */
  reply: TSchema | null;
  /** Media type of the success reply when it is not JSON. */
  replyContentType?: 'text/event-stream';
  /** Error replies by status. */
  errors: Readonly<Record<number, TSchema>>;
  /**
   * `handler`: the body schema documents the shape, but the handler parses the body itself, because bad parts
   * are answered differently from a schema failure (per-event rejections, OFREP's own error shapes).
   */
  bodyParsedBy?: 'handler';
  /** The route sends an ETag and answers 304 (no body) to a matching `If-None-Match`. */
  notModified?: true;
  /** Admin routes: what the caller's role must allow (the access table every admin request is checked against). */
  permission?: Permission;
  /** Admin routes: where the environment the permission applies to is read from (absent: every environment). */
  environmentFrom?: EnvironmentSource;
}

/** Prefix of every admin route. */
export const ADMIN_API_PREFIX = '/api/v1' as const;

/** Errors any admin route may give. */
export const ADMIN_ERRORS = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  429: ErrorBody,
} as const;

/** Errors the SDK and events routes may give. */
export const CLIENT_ERRORS = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  429: ErrorBody,
} as const;

const OFREP_ERRORS = {
  401: OfrepGeneralError,
  403: OfrepGeneralError,
  429: OfrepGeneralError,
  500: OfrepGeneralError,
};

/** A route under the admin prefix, authenticated by the admin token. */
type AdminRoute<R extends { path: string }> = Omit<R, 'path'> & {
  path: `${typeof ADMIN_API_PREFIX}${R['path']}`;
  auth: 'admin';
  errors: typeof ADMIN_ERRORS;
};

function admin<const R extends Omit<RouteContract, 'auth' | 'errors'> & { permission: Permission }>(
  route: R,
): AdminRoute<R> {
  return {
    ...route,
    path: `${ADMIN_API_PREFIX}${route.path}`,
    auth: 'admin',
    errors: ADMIN_ERRORS,
  } as AdminRoute<R>;
}

/** Routes on a keyed admin resource: list, create, get, replace, delete. */
function crud<
  const Name extends string,
  List extends TSchema,
  Input extends TSchema,
  Replace extends TSchema,
  View extends TSchema,
>(
  name: Name,
  words: { one: string; deleteRefusedWhile: string },
  schemas: { list: List; input: Input; replace: Replace; view: View },
  /** The permission of the writes (create, replace, delete); reads need `read`. */
  write: Permission,
) {
  const one = `/${name}/:key` as const;
  const tag = name;
  return {
    list: admin({
      method: 'GET',
      path: `/${name}`,
      tag,
      summary: `List ${name}`,
      permission: 'read',
      status: 200,
      reply: schemas.list,
    }),
    create: admin({
      method: 'POST',
      path: `/${name}`,
      tag,
      summary: `Create ${words.one}`,
      permission: write,
      body: schemas.input,
      status: 201,
      reply: schemas.view,
    }),
    get: admin({
      method: 'GET',
      path: one,
      tag,
      summary: `Get ${words.one}`,
      permission: 'read',
      params: KeyParams,
      status: 200,
      reply: schemas.view,
    }),
    replace: admin({
      method: 'PUT',
      path: one,
      tag,
      summary: `Replace ${words.one}`,
      permission: write,
      params: KeyParams,
      body: schemas.replace,
      status: 200,
      reply: schemas.view,
    }),
    remove: admin({
      method: 'DELETE',
      path: one,
      tag,
      summary: `Delete ${words.one} (CONFLICT while ${words.deleteRefusedWhile})`,
      permission: write,
      params: KeyParams,
      status: 204,
      reply: null,
    }),
  };
}

const segments = crud(
  'segments',
  { one: 'a segment', deleteRefusedWhile: 'a flag or segment refers to it' },
  {
    list: SegmentList,
    input: SegmentInput,
    replace: SegmentReplace,
    view: SegmentView,
  },
  'edit',
);
const metrics = crud(
  'metrics',
  { one: 'a metric', deleteRefusedWhile: 'a surface requires it' },
  {
    list: MetricList,
    input: MetricInput,
    replace: MetricReplace,
    view: MetricView,
  },
  'edit',
);
const surfaces = crud(
  'surfaces',
  { one: 'a surface', deleteRefusedWhile: 'flags belong to it' },
  {
    list: SurfaceList,
    input: SurfaceInput,
    replace: SurfaceReplace,
    view: SurfaceView,
  },
  'admin',
);

/** A `POST` that acts on one resource and answers with it; its body is optional (null when absent). */
function action<
  const P extends string,
  Params extends TSchema,
  Body extends TSchema,
  Reply extends TSchema,
  const A extends { permission: Permission; environmentFrom?: EnvironmentSource },
>(path: P, summary: string, schemas: { params: Params; body: Body; reply: Reply }, access: A) {
  const tag = path.split('/')[1] ?? '';
  return admin({ method: 'POST', path, tag, summary, status: 200, ...schemas, ...access });
}

const ROLLOUT_ACTION_SUMMARIES: Readonly<Record<RolloutAction, string>> = {
  start: 'Start a draft rollout at its first stage',
  advance: 'Move to the next stage (a person overriding or following the controller)',
  pause: 'Freeze reach; the controller keeps looking but applies nothing',
  resume: 'Resume a paused rollout, or start a new attempt after a rollback (the same units return)',
  rollback: 'Set reach to 0 at once; every connected SDK serves control',
  complete: 'End the rollout: treatment for everyone, monitoring stops, the holdback is released',
};

const rolloutAction = <const A extends RolloutAction>(name: A) =>
  action(
    `/rollouts/:id/${name}`,
    ROLLOUT_ACTION_SUMMARIES[name],
    {
      params: RolloutIdParams,
      body: RolloutActionInput,
      reply: RolloutView,
    },
    { permission: 'release', environmentFrom: 'rollout' },
  );
const EXPERIMENT_ACTION_SUMMARIES: Readonly<Record<ExperimentSimpleAction, string>> = {
  start: 'Start a draft experiment: its rule is installed on the flag at the planned coverage',
  stop: 'End the experiment without a winner: its rule is removed, the flag serves what it served before',
  abort: 'End the experiment because of harm or a broken split: its rule is removed',
};
const experimentAction = <const A extends ExperimentSimpleAction>(name: A) =>
  action(
    `/experiments/:id/${name}`,
    EXPERIMENT_ACTION_SUMMARIES[name],
    {
      params: ExperimentIdParams,
      body: ExperimentActionInput,
      reply: ExperimentView,
    },
    { permission: 'release', environmentFrom: 'experiment' },
  );
const flagEnvironmentAction = <const A extends 'enable' | 'disable'>(name: A) =>
  action(
    `/flags/:key/environments/:env/${name}`,
    name === 'enable'
      ? 'Enable a flag in one environment'
      : 'Disable a flag in one environment (CONFLICT while a rollout runs on it, unless `rollout` says pause or rollback)',
    { params: FlagEnvironmentParams, body: FlagStateAction, reply: FlagChange },
    { permission: 'edit', environmentFrom: 'params.env' },
  );
const flagArchiveAction = <const A extends 'archive' | 'unarchive'>(name: A) =>
  action(
    `/flags/:key/${name}`,
    name === 'archive'
      ? 'Archive a flag: it leaves every snapshot but stays readable (CONFLICT while a rollout runs on it, unless `rollout` says pause or rollback)'
      : 'Restore an archived flag',
    { params: KeyParams, body: FlagStateAction, reply: FlagChange },
    { permission: 'edit' },
  );

/** Every route the server serves, by name. */
export const ROUTES = {
  listEnvironments: admin({
    method: 'GET',
    permission: 'read',
    path: '/environments',
    tag: 'environments',
    summary: 'List environments with their config versions',
    status: 200,
    reply: EnvironmentList,
  }),
  createEnvironment: admin({
    method: 'POST',
    permission: 'admin',
    path: '/environments',
    tag: 'environments',
    summary: 'Create an environment',
    body: EnvironmentInput,
    status: 201,
    reply: EnvironmentView,
  }),
  replaceEnvironment: admin({
    method: 'PUT',
    permission: 'admin',
    path: '/environments/:key',
    tag: 'environments',
    summary: 'Rename an environment (its key never changes)',
    params: EnvironmentParams,
    body: EnvironmentReplace,
    status: 200,
    reply: EnvironmentView,
  }),
  deleteEnvironment: admin({
    method: 'DELETE',
    permission: 'admin',
    path: '/environments/:key',
    tag: 'environments',
    summary:
      'Delete an environment and its state in every flag (CONFLICT naming what refers to it while it has client keys, rollouts or experiments)',
    params: EnvironmentParams,
    status: 204,
    reply: null,
  }),

  listFlags: admin({
    method: 'GET',
    permission: 'read',
    path: '/flags',
    tag: 'flags',
    summary: 'List flags (filter by environment, text, archived)',
    querystring: FlagListQuery,
    status: 200,
    reply: Type.Object({ flags: Type.Array(FlagView) }),
  }),
  createFlag: admin({
    method: 'POST',
    permission: 'edit',
    path: '/flags',
    tag: 'flags',
    summary: 'Create a flag',
    body: FlagInput,
    status: 201,
    reply: FlagView,
  }),
  getFlag: admin({
    method: 'GET',
    permission: 'read',
    path: '/flags/:key',
    tag: 'flags',
    summary: 'Get a flag',
    params: KeyParams,
    status: 200,
    reply: FlagView,
  }),
  replaceFlag: admin({
    method: 'PUT',
    permission: 'edit',
    path: '/flags/:key',
    tag: 'flags',
    summary: 'Replace a flag document; the reply previews units changing variant',
    params: KeyParams,
    body: FlagReplace,
    status: 200,
    reply: FlagChange,
  }),
  previewFlag: admin({
    method: 'POST',
    permission: 'read',
    path: '/flags/:key/preview',
    tag: 'flags',
    summary:
      'Preview a replacement of a flag document without saving it: units changing variant per environment, and per targeted rule among the units it targets',
    params: KeyParams,
    body: FlagReplace,
    status: 200,
    reply: FlagPreview,
  }),
  patchFlag: admin({
    method: 'PATCH',
    permission: 'edit',
    path: '/flags/:key',
    tag: 'flags',
    summary: 'Merge a patch into a flag',
    params: KeyParams,
    body: FlagPatch,
    status: 200,
    reply: FlagChange,
  }),
  putFlagEnvironment: admin({
    method: 'PUT',
    permission: 'edit',
    environmentFrom: 'params.env',
    path: '/flags/:key/environments/:env',
    tag: 'flags',
    summary: "Replace a flag's state in one environment",
    params: FlagEnvironmentParams,
    body: FlagEnvironment,
    status: 200,
    reply: FlagChange,
  }),
  enableFlagEnvironment: flagEnvironmentAction('enable'),
  disableFlagEnvironment: flagEnvironmentAction('disable'),
  archiveFlag: flagArchiveAction('archive'),
  unarchiveFlag: flagArchiveAction('unarchive'),

  listSegments: segments.list,
  createSegment: segments.create,
  getSegment: segments.get,
  replaceSegment: segments.replace,
  deleteSegment: segments.remove,

  listMetrics: metrics.list,
  createMetric: metrics.create,
  getMetric: metrics.get,
  replaceMetric: metrics.replace,
  deleteMetric: metrics.remove,

  listSurfaces: surfaces.list,
  createSurface: surfaces.create,
  getSurface: surfaces.get,
  replaceSurface: surfaces.replace,
  deleteSurface: surfaces.remove,

  listRollouts: admin({
    method: 'GET',
    permission: 'read',
    path: '/rollouts',
    tag: 'rollouts',
    summary: 'Rollouts with state, stage, reach and health, oldest first',
    querystring: RolloutListQuery,
    status: 200,
    reply: RolloutList,
  }),
  createRollout: admin({
    method: 'POST',
    permission: 'edit',
    environmentFrom: 'body.environment',
    path: '/rollouts',
    tag: 'rollouts',
    summary: 'Create a draft rollout from a plan; the reply includes the plan forecast',
    body: RolloutInput,
    status: 201,
    reply: CreatedRollout,
  }),
  planRollout: admin({
    method: 'POST',
    permission: 'edit',
    environmentFrom: 'body.environment',
    path: '/rollouts/plan',
    tag: 'rollouts',
    summary:
      'Dry run of `POST /rollouts`: the same validation and errors, the plan as it would be stored, the per-stage forecast and warnings; stores nothing',
    body: RolloutInput,
    status: 200,
    reply: RolloutPlanPreview,
  }),
  getRollout: admin({
    method: 'GET',
    permission: 'read',
    path: '/rollouts/:id',
    tag: 'rollouts',
    summary: 'A rollout: plan, state, latest decision and the pending recommendation',
    params: RolloutIdParams,
    status: 200,
    reply: RolloutView,
  }),
  getRolloutPlan: admin({
    method: 'GET',
    permission: 'read',
    path: '/rollouts/:id/plan',
    tag: 'rollouts',
    summary: 'The plan forecast at the observed (or stated) traffic',
    params: RolloutIdParams,
    status: 200,
    reply: PlanReply,
  }),
  listRolloutDecisions: admin({
    method: 'GET',
    permission: 'read',
    path: '/rollouts/:id/decisions',
    tag: 'rollouts',
    summary: 'Decisions of the controller with their evidence, newest first',
    params: RolloutIdParams,
    querystring: DecisionListQuery,
    status: 200,
    reply: DecisionPage,
  }),
  getRolloutChart: admin({
    method: 'GET',
    permission: 'read',
    path: '/rollouts/:id/chart',
    tag: 'rollouts',
    summary:
      "Every look's estimate, interval, rollback boundary and margin per guardrail over the whole rollout (downsampled when long; `after` for only the new looks)",
    params: RolloutIdParams,
    querystring: ChartQuery,
    status: 200,
    reply: ChartHistory,
  }),
  getRolloutEvidence: admin({
    method: 'GET',
    permission: 'read',
    path: '/rollouts/:id/evidence',
    tag: 'rollouts',
    summary: 'Sufficient statistics per metric, cohort and arm, units per arm, and estimates',
    params: RolloutIdParams,
    status: 200,
    reply: EvidenceReport,
  }),
  startRollout: rolloutAction(ROLLOUT_ACTIONS[0]),
  advanceRollout: rolloutAction(ROLLOUT_ACTIONS[1]),
  pauseRollout: rolloutAction(ROLLOUT_ACTIONS[2]),
  resumeRollout: rolloutAction(ROLLOUT_ACTIONS[3]),
  rollbackRollout: rolloutAction(ROLLOUT_ACTIONS[4]),
  completeRollout: rolloutAction(ROLLOUT_ACTIONS[5]),

  setSurfaceHoldback: admin({
    method: 'POST',
    permission: 'admin',
    path: '/surfaces/:key/holdback',
    tag: 'surfaces',
    summary:
      'Set the surface holdback: a share of units (own salt) every rollout and experiment on its flags serves the default; immutable once set (CONFLICT), except to disable it',
    params: KeyParams,
    body: SurfaceHoldbackInput,
    status: 201,
    reply: SurfaceView,
  }),
  disableSurfaceHoldback: admin({
    method: 'POST',
    permission: 'admin',
    path: '/surfaces/:key/holdback/disable',
    tag: 'surfaces',
    summary: 'Disable the surface holdback: its units get what everyone else gets from then on',
    params: KeyParams,
    body: ExperimentActionInput,
    status: 200,
    reply: SurfaceView,
  }),
  getSurfaceHoldbackReport: admin({
    method: 'GET',
    permission: 'read',
    path: '/surfaces/:key/holdback-report',
    tag: 'surfaces',
    summary:
      "The holdback against everyone else on the surface's metrics: estimates, relative lift with its always-valid log-ratio interval, verdict",
    params: KeyParams,
    querystring: HoldbackReportQuery,
    status: 200,
    reply: HoldbackReport,
  }),

  listExperiments: admin({
    method: 'GET',
    permission: 'read',
    path: '/experiments',
    tag: 'experiments',
    summary: 'Experiments (A/B tests) with status, coverage and latest results, oldest first',
    querystring: ExperimentListQuery,
    status: 200,
    reply: ExperimentList,
  }),
  createExperiment: admin({
    method: 'POST',
    permission: 'edit',
    environmentFrom: 'body.environment',
    path: '/experiments',
    tag: 'experiments',
    summary:
      "Create a draft experiment (plan validated, the surface's guardrails merged) with its sample plan",
    body: ExperimentInput,
    status: 201,
    reply: CreatedExperiment,
  }),
  getExperiment: admin({
    method: 'GET',
    permission: 'read',
    path: '/experiments/:id',
    tag: 'experiments',
    summary: 'Get an experiment with its latest results',
    params: ExperimentIdParams,
    status: 200,
    reply: ExperimentView,
  }),
  replaceExperiment: admin({
    method: 'PUT',
    permission: 'edit',
    environmentFrom: 'experiment',
    path: '/experiments/:id',
    tag: 'experiments',
    summary:
      "Revise an experiment's plan: anything while a draft; once started, variants, weights, coverage and metrics are refused naming the field",
    params: ExperimentIdParams,
    body: ExperimentInput,
    status: 200,
    reply: ExperimentView,
  }),
  getExperimentResults: admin({
    method: 'GET',
    permission: 'read',
    path: '/experiments/:id/results',
    tag: 'experiments',
    summary: 'Per metric and variant estimate, lift with interval and verdict, and the recommendation',
    params: ExperimentIdParams,
    status: 200,
    reply: ExperimentResults,
  }),
  startExperiment: experimentAction(EXPERIMENT_SIMPLE_ACTIONS[0]),
  stopExperiment: experimentAction(EXPERIMENT_SIMPLE_ACTIONS[1]),
  abortExperiment: experimentAction(EXPERIMENT_SIMPLE_ACTIONS[2]),
  setExperimentCoverage: admin({
    method: 'POST',
    permission: 'release',
    environmentFrom: 'experiment',
    path: '/experiments/:id/coverage',
    tag: 'experiments',
    summary: 'Grow the coverage of a running experiment (never shrinks; weights stay)',
    params: ExperimentIdParams,
    body: ExperimentCoverageInput,
    status: 200,
    reply: ExperimentView,
  }),
  shipExperiment: admin({
    method: 'POST',
    permission: 'release',
    environmentFrom: 'experiment',
    path: '/experiments/:id/ship',
    tag: 'experiments',
    summary: 'Ship a variant: the experiment ends and a guarded rollout of it starts on the same salt',
    params: ExperimentIdParams,
    body: ExperimentShipInput,
    status: 200,
    reply: ShippedExperiment,
  }),

  listKeys: admin({
    method: 'GET',
    permission: 'read',
    path: '/keys',
    tag: 'keys',
    summary: 'List client keys (never their secrets)',
    querystring: KeyListQuery,
    status: 200,
    reply: ClientKeyList,
  }),
  createKey: admin({
    method: 'POST',
    permission: 'admin',
    environmentFrom: 'body.environment',
    path: '/keys',
    tag: 'keys',
    summary: 'Create a client key; the secret is returned once',
    body: ClientKeyInput,
    status: 201,
    reply: CreatedClientKey,
  }),
  revokeKey: admin({
    method: 'POST',
    permission: 'admin',
    environmentFrom: 'clientKey',
    path: '/keys/:id/revoke',
    tag: 'keys',
    summary: 'Revoke a client key',
    params: KeyIdParams,
    status: 200,
    reply: ClientKeyView,
  }),

  listTokens: admin({
    method: 'GET',
    permission: 'read',
    path: '/tokens',
    tag: 'tokens',
    summary: 'List admin tokens (never their secrets)',
    status: 200,
    reply: AdminTokenList,
  }),
  createToken: admin({
    method: 'POST',
    permission: 'admin',
    path: '/tokens',
    tag: 'tokens',
    summary: 'Create a named admin token; the secret is returned once',
    body: AdminTokenInput,
    status: 201,
    reply: CreatedAdminToken,
  }),
  revokeToken: admin({
    method: 'POST',
    permission: 'admin',
    path: '/tokens/:id/revoke',
    tag: 'tokens',
    summary: 'Revoke an admin token (by id or active name); the last active one only with force=true',
    params: AdminTokenParams,
    querystring: AdminTokenRevokeQuery,
    status: 200,
    reply: AdminTokenView,
  }),
  rotateToken: admin({
    method: 'POST',
    permission: 'admin',
    path: '/tokens/:id/rotate',
    tag: 'tokens',
    summary: 'Replace an active admin token by a new secret under the same name; the old one is revoked',
    params: AdminTokenParams,
    status: 200,
    reply: CreatedAdminToken,
  }),

  listAudit: admin({
    method: 'GET',
    permission: 'read',
    path: '/audit',
    tag: 'audit',
    summary: 'The append-only audit log, newest first',
    querystring: AuditQuery,
    status: 200,
    reply: AuditPage,
  }),

  getMe: admin({
    method: 'GET',
    path: '/me',
    permission: 'self',
    tag: 'people',
    summary: 'The caller (a person signed in, or an admin token) and its role in every environment',
    status: 200,
    reply: MeView,
  }),
  listGrants: admin({
    method: 'GET',
    path: '/grants',
    permission: 'read',
    tag: 'people',
    summary: 'Role grants: explicit ones and the group mapping of the configuration',
    status: 200,
    reply: GrantList,
  }),
  createGrant: admin({
    method: 'POST',
    path: '/grants',
    permission: 'admin',
    tag: 'people',
    summary: 'Grant a role to a person or a provider group, in one environment or all (`*`)',
    body: GrantInput,
    status: 201,
    reply: GrantView,
  }),
  deleteGrant: admin({
    method: 'DELETE',
    path: '/grants/:id',
    permission: 'admin',
    tag: 'people',
    summary: 'Remove an explicit role grant',
    params: GrantIdParams,
    status: 204,
    reply: null,
  }),
  listSessions: admin({
    method: 'GET',
    path: '/sessions',
    permission: 'admin',
    tag: 'people',
    summary: 'Sign-in sessions, live ones first (never their secrets)',
    status: 200,
    reply: SessionList,
  }),
  revokeSession: admin({
    method: 'POST',
    path: '/sessions/:id/revoke',
    permission: 'admin',
    tag: 'people',
    summary: 'End a sign-in session at once',
    params: SessionIdParams,
    status: 200,
    reply: SessionView,
  }),
  getRolloutApprovals: admin({
    method: 'GET',
    path: '/rollouts/:id/approvals',
    permission: 'read',
    tag: 'rollouts',
    summary: 'Approvals of a rollout: required, given, and whether they still count',
    params: RolloutIdParams,
    status: 200,
    reply: ApprovalStatus,
  }),
  requestRolloutApproval: admin({
    method: 'POST',
    path: '/rollouts/:id/approvals/request',
    permission: 'edit',
    environmentFrom: 'rollout',
    tag: 'rollouts',
    summary: 'Ask for approvals of a rollout (recorded in the audit log)',
    params: RolloutIdParams,
    body: ApprovalRequestInput,
    status: 200,
    reply: ApprovalStatus,
  }),
  approveRollout: admin({
    method: 'POST',
    path: '/rollouts/:id/approvals',
    permission: 'release',
    environmentFrom: 'rollout',
    tag: 'rollouts',
    summary: 'Approve a rollout at the version reviewed (a person other than its author)',
    params: RolloutIdParams,
    body: ApprovalInput,
    status: 200,
    reply: ApprovalStatus,
  }),
  getExperimentApprovals: admin({
    method: 'GET',
    path: '/experiments/:id/approvals',
    permission: 'read',
    tag: 'experiments',
    summary: 'Approvals of an experiment: required, given, and whether they still count',
    params: ExperimentIdParams,
    status: 200,
    reply: ApprovalStatus,
  }),
  requestExperimentApproval: admin({
    method: 'POST',
    path: '/experiments/:id/approvals/request',
    permission: 'edit',
    environmentFrom: 'experiment',
    tag: 'experiments',
    summary: 'Ask for approvals of an experiment (recorded in the audit log)',
    params: ExperimentIdParams,
    body: ApprovalRequestInput,
    status: 200,
    reply: ApprovalStatus,
  }),
  approveExperiment: admin({
    method: 'POST',
    path: '/experiments/:id/approvals',
    permission: 'release',
    environmentFrom: 'experiment',
    tag: 'experiments',
    summary: 'Approve an experiment at the version reviewed (a person other than its author)',
    params: ExperimentIdParams,
    body: ApprovalInput,
    status: 200,
    reply: ApprovalStatus,
  }),

  authConfig: {
    method: 'GET',
    path: '/auth/config',
    tag: 'sign-in',
    summary: 'How people sign in: the OpenID Connect provider (if configured) and the token sign-in',
    auth: 'none',
    status: 200,
    reply: AuthConfigView,
    errors: {},
  },
  authLogin: {
    method: 'GET',
    path: '/auth/login',
    tag: 'sign-in',
    summary: 'Start the browser sign-in: redirects to the provider (authorization code with PKCE)',
    auth: 'none',
    querystring: LoginQuery,
    status: 302,
    reply: null,
    errors: { 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
  },
  authCallback: {
    method: 'GET',
    path: '/auth/callback',
    tag: 'sign-in',
    summary: "The provider's redirect back: opens a session (HttpOnly cookie) and returns to the dashboard",
    auth: 'none',
    querystring: CallbackQuery,
    status: 302,
    reply: null,
    errors: { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 503: ErrorBody },
  },
  authLogout: {
    method: 'POST',
    path: '/auth/logout',
    tag: 'sign-in',
    summary: "End the caller's session (cookie with the CSRF header, or the session bearer token)",
    auth: 'none',
    status: 204,
    reply: null,
    errors: { 401: ErrorBody, 403: ErrorBody },
  },
  authDeviceStart: {
    method: 'POST',
    path: '/auth/device',
    tag: 'sign-in',
    summary: 'Start a device-code sign-in at the provider (the CLI)',
    auth: 'none',
    status: 200,
    reply: DeviceStartView,
    errors: { 404: ErrorBody, 503: ErrorBody },
  },
  authDeviceToken: {
    method: 'POST',
    path: '/auth/device/token',
    tag: 'sign-in',
    summary: 'Poll a device-code sign-in: pending, or a session token once the person confirmed',
    auth: 'none',
    body: DeviceTokenInput,
    status: 200,
    reply: DeviceTokenView,
    errors: { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 503: ErrorBody },
  },

  getConfig: {
    method: 'GET',
    path: '/sdk/v1/config',
    tag: 'sdk',
    summary: "The environment's flags and segments (server keys; 304 on a matching If-None-Match)",
    auth: 'client',
    notModified: true,
    status: 200,
    reply: EnvironmentSnapshot,
    errors: CLIENT_ERRORS,
  },
  streamConfig: {
    method: 'GET',
    path: '/sdk/v1/stream',
    tag: 'sdk',
    summary:
      'Server-sent `config` events, one per new config version (event id = version); server keys get a patch against the previous version',
    auth: 'client',
    status: 200,
    reply: ConfigStreamEvent,
    replyContentType: 'text/event-stream',
    errors: CLIENT_ERRORS,
  },
  resolve: {
    method: 'POST',
    path: '/sdk/v1/resolve',
    tag: 'sdk',
    summary: 'Evaluate flags for one context on the server',
    auth: 'client',
    body: ResolveRequest,
    notModified: true,
    status: 200,
    reply: ResolveResponse,
    errors: CLIENT_ERRORS,
    bodyParsedBy: 'handler',
  },
  sendEvents: {
    method: 'POST',
    path: '/v1/events',
    tag: 'sdk',
    summary: 'A batch of exposures and tracked events (idempotent per batch id)',
    auth: 'client',
    body: EventBatchEnvelope,
    status: 202,
    reply: EventsReply,
    errors: CLIENT_ERRORS,
    bodyParsedBy: 'handler',
  },

  ofrepEvaluateFlag: {
    method: 'POST',
    path: '/ofrep/v1/evaluate/flags/:key',
    tag: 'ofrep',
    summary: 'OFREP: evaluate one flag',
    auth: 'client',
    params: Type.Object({ key: Type.String() }),
    body: OfrepRequest,
    status: 200,
    reply: OfrepSuccess,
    // A GENERAL evaluation failure of the flag is a 500 that names the flag.
    errors: {
      ...OFREP_ERRORS,
      400: OfrepFailure,
      404: OfrepFlagNotFound,
      500: Type.Union([OfrepFailure, OfrepGeneralError]),
    },
    bodyParsedBy: 'handler',
  },
  ofrepEvaluateFlags: {
    method: 'POST',
    path: '/ofrep/v1/evaluate/flags',
    tag: 'ofrep',
    summary: 'OFREP: evaluate every flag (304 on a matching If-None-Match)',
    auth: 'client',
    body: OfrepRequest,
    notModified: true,
    status: 200,
    reply: OfrepBulkSuccess,
    errors: { 400: OfrepBulkFailure, ...OFREP_ERRORS },
    bodyParsedBy: 'handler',
  },

  health: {
    method: 'GET',
    path: '/healthz',
    tag: 'operations',
    summary: 'The process is up',
    auth: 'none',
    status: 200,
    reply: HealthReply,
    errors: {},
  },
  ready: {
    method: 'GET',
    path: '/readyz',
    tag: 'operations',
    summary: 'Storage is reachable and every environment config is loaded',
    auth: 'none',
    status: 200,
    reply: ReadyReply,
    errors: { 503: ErrorBody },
  },
} as const satisfies Record<string, RouteContract>;

export type RouteName = keyof typeof ROUTES;
type StaticOr<S, Fallback> = S extends TSchema ? Static<S> : Fallback;
type Field<R, K extends string> = R extends { [P in K]: infer S } ? S : undefined;

/** The success reply of a route (undefined for 204). */
export type ReplyOf<N extends RouteName> = StaticOr<(typeof ROUTES)[N]['reply'], undefined>;
/** The request body of a route (never when it takes none). */
export type BodyOf<N extends RouteName> = StaticOr<Field<(typeof ROUTES)[N], 'body'>, never>;
/** The query string of a route. */
export type QueryOf<N extends RouteName> = StaticOr<Field<(typeof ROUTES)[N], 'querystring'>, never>;
/** The path parameters of a route. */
export type ParamsOf<N extends RouteName> = StaticOr<Field<(typeof ROUTES)[N], 'params'>, never>;
