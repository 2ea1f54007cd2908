/**
 * Admin resources other than flags, segments and rollouts: environments, metrics, surfaces, client keys and
 * the audit log, with their request bodies, query strings and replies.
 */
import { type Static, Type } from 'typebox';
import {
  AuditResourceType,
  ClientKeyKind,
  Direction,
  DocumentVersion,
  EnvironmentKey,
  EventAggregate,
  ExpectedVersion,
  IsoTime,
  IsoTimeOrNull,
  MetricCategory,
  MetricKind,
  Nullable,
  QuantileScope,
  ResourceKey,
} from './common.ts';
import { ApprovalPolicy, Role } from './people.ts';

// ------------------------------------------------------------------------------------------ environments

/** An environment with its current config version. */
export const EnvironmentView = Type.Object({
  key: Type.String(),
  name: Type.String(),
  configVersion: Type.Integer(),
  createdAt: IsoTime,
  committedAt: IsoTime,
});
export type EnvironmentView = Static<typeof EnvironmentView>;

/** Body of `POST /api/v1/environments`; the name defaults to the key. */
export const EnvironmentInput = Type.Object(
  { key: EnvironmentKey, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);
export type EnvironmentInput = Static<typeof EnvironmentInput>;

/** Body of `PUT /api/v1/environments/:key`: the display name (the key never changes). */
export const EnvironmentReplace = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export type EnvironmentReplace = Static<typeof EnvironmentReplace>;

/** Path parameters of `/api/v1/environments/:key`. */
export const EnvironmentParams = Type.Object({ key: EnvironmentKey });
export type EnvironmentParams = Static<typeof EnvironmentParams>;

export const EnvironmentList = Type.Object({ environments: Type.Array(EnvironmentView) });
export type EnvironmentList = Static<typeof EnvironmentList>;

// ------------------------------------------------------------------------------------------------- flags

/** Query of `GET /api/v1/flags`. */
export const FlagListQuery = Type.Object(
  {
    environment: Type.Optional(EnvironmentKey),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the key or description' })),
    archived: Type.Optional(Type.Enum(['true', 'false'] as const)),
  },
  { additionalProperties: false },
);
export type FlagListQuery = Static<typeof FlagListQuery>;

/** Path parameters of the per-environment flag routes. */
export const FlagEnvironmentParams = Type.Object({ key: ResourceKey, env: EnvironmentKey });
export type FlagEnvironmentParams = Static<typeof FlagEnvironmentParams>;

// ----------------------------------------------------------------------------------------------- metrics

/** One side of a ratio metric. */
export const MetricMeasure = Type.Object(
  { event: Type.String(), aggregate: EventAggregate },
  { additionalProperties: false },
);
export type MetricMeasure = Static<typeof MetricMeasure>;

/** Fields a metric definition has both as sent and as returned. */
const metricFields = {
  kind: MetricKind,
  description: Type.Optional(Type.String()),
  event: Type.Optional(Type.String()),
  aggregate: Type.Optional(EventAggregate),
  numerator: Type.Optional(MetricMeasure),
  denominator: Type.Optional(MetricMeasure),
  q: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description: 'Quantile metrics: the percentile as a fraction, e.g. 0.99 for p99',
    }),
  ),
  scope: Type.Optional(QuantileScope),
  valueUnit: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'Quantile metrics: the values\' unit, e.g. "ms"',
    }),
  ),
  direction: Direction,
  category: MetricCategory,
};

/**
 * A metric definition as sent. Proportion metrics name an `event`; mean metrics an `event` and `aggregate`;
 * ratio metrics a `numerator` and `denominator`; quantile metrics an `event`, the quantile `q` in (0, 1) and a
 * `scope` (`unit`: one value per unit, the mean of its event values; `event`: every event's value), optionally
 * the values' `valueUnit`. The margin of every kind is relative. The server's validator names every problem's
 * field.
 */
export const MetricInput = Type.Object(
  {
    ...metricFields,
    key: ResourceKey,
    margin: Type.Number({ exclusiveMinimum: 0, description: 'Relative non-inferiority margin, e.g. 0.02' }),
    window: Type.Optional(
      Type.Union([Type.String(), Type.Number()], {
        description: '"24h", "90s", "1d", milliseconds, or "until_now" (default 24h)',
      }),
    ),
    cap: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e12 })),
    floor: Type.Optional(
      Type.Number({
        minimum: -1e12,
        maximum: 1e12,
        description: 'Per-unit values below this are raised to it (below `cap` when both are set)',
      }),
    ),
    clientReportable: Type.Optional(
      Type.Boolean({ description: 'Whether events sent with a browser key count (default false)' }),
    ),
  },
  { additionalProperties: false },
);
export type MetricInput = Static<typeof MetricInput>;

/** Body of `PUT /api/v1/metrics/:key`: a definition whose key may be omitted but not changed. */
export const MetricReplace = Type.Object(
  { ...MetricInput.properties, key: Type.Optional(ResourceKey), version: ExpectedVersion },
  { additionalProperties: false },
);
export type MetricReplace = Static<typeof MetricReplace>;

/** A metric as the admin API returns it. */
export const MetricView = Type.Object({
  ...metricFields,
  key: Type.String(),
  margin: Type.Number({ description: 'Relative non-inferiority margin, e.g. 0.02 for 2%' }),
  window: Type.String({
    description: 'Observation window after exposure, e.g. "1d", "1h30m", or "until_now"',
  }),
  cap: Type.Optional(Type.Number()),
  floor: Type.Optional(Type.Number()),
  clientReportable: Type.Optional(Type.Boolean()),
  version: DocumentVersion,
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type MetricView = Static<typeof MetricView>;

export const MetricList = Type.Object({ metrics: Type.Array(MetricView) });
export type MetricList = Static<typeof MetricList>;

// ---------------------------------------------------------------------------------------------- surfaces

/** A metric a surface requires of every rollout of its flags, with an optional margin override. */
export const SurfaceGuardrail = Type.Object(
  { metric: Type.String({ minLength: 1 }), margin: Type.Optional(Type.Number({ exclusiveMinimum: 0 })) },
  { additionalProperties: false },
);
export type SurfaceGuardrail = Static<typeof SurfaceGuardrail>;

/** A surface as sent; the name defaults to the key. */
export const SurfaceInput = Type.Object(
  {
    key: ResourceKey,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2_000 })),
    guardrails: Type.Optional(Type.Array(SurfaceGuardrail, { maxItems: 50 })),
    approvals: Type.Optional(ApprovalPolicy),
  },
  { additionalProperties: false },
);
export type SurfaceInput = Static<typeof SurfaceInput>;

/** Body of `PUT /api/v1/surfaces/:key`: a surface whose key may be omitted but not changed. */
export const SurfaceReplace = Type.Object(
  { ...SurfaceInput.properties, key: Type.Optional(ResourceKey), version: ExpectedVersion },
  { additionalProperties: false },
);
export type SurfaceReplace = Static<typeof SurfaceReplace>;

/** Body of `POST /api/v1/surfaces/:key/holdback`: the share of units held back, in percent. */
export const SurfaceHoldbackInput = Type.Object(
  {
    percent: Type.Number({
      exclusiveMinimum: 0,
      maximum: 50,
      description:
        'Share of units every rollout and experiment on the surface serves the default (up to 4 decimals)',
    }),
  },
  { additionalProperties: false },
);
export type SurfaceHoldbackInput = Static<typeof SurfaceHoldbackInput>;

/** A surface's holdback: immutable once set except to disable it. */
export const SurfaceHoldbackView = Type.Object({
  percent: Type.Number(),
  salt: Type.String({ description: "The holdback's own salt: which units are held back (hash v1)" }),
  generation: Type.Integer({
    description: '1 for the first holdback of the surface, one more for each new one',
  }),
  enabled: Type.Boolean(),
  createdAt: IsoTime,
  disabledAt: IsoTimeOrNull,
  metrics: Type.Array(Type.String(), { description: 'The surface metrics its report compares' }),
});
export type SurfaceHoldbackView = Static<typeof SurfaceHoldbackView>;

/** `GET /api/v1/surfaces/:key/holdback-report` query: the environment to report on. */
export const HoldbackReportQuery = Type.Object(
  { environment: EnvironmentKey },
  { additionalProperties: false },
);
export type HoldbackReportQuery = Static<typeof HoldbackReportQuery>;

/** One arm of the holdback comparison on one metric. */
const HoldbackArm = Type.Object({ n: Type.Number(), mean: Nullable(Type.Number()) });

/** One metric of the holdback report: everyone else ("rest") against the holdback. */
export const HoldbackMetricReport = Type.Object({
  metric: Type.String(),
  kind: MetricKind,
  direction: Direction,
  hasData: Type.Boolean(),
  holdback: HoldbackArm,
  rest: HoldbackArm,
  /** Rest − holdback, absolute scale, cohort-combined; null while an arm has fewer than 2 units. */
  delta: Nullable(Type.Number()),
  se: Nullable(Type.Number()),
  /** Rest/holdback − 1 with its always-valid interval on the log-ratio scale (fractions, 0.05 = +5%). */
  relativeLift: Nullable(Type.Number()),
  interval: Nullable(Type.Tuple([Type.Number(), Type.Number()])),
  /** `better`/`worse`: the launches moved the metric, as a whole, with the interval excluding no change. */
  verdict: Type.Enum(['better', 'worse', 'inconclusive', 'no_data'] as const),
});
export type HoldbackMetricReport = Static<typeof HoldbackMetricReport>;

/** The cumulative effect of the surface's launches: the holdback against everyone else. */
export const HoldbackReport = Type.Object({
  surface: Type.String(),
  environment: Type.String(),
  at: IsoTime,
  holdback: SurfaceHoldbackView,
  /** Units exposed per arm. */
  units: Type.Object({ holdback: Type.Number(), rest: Type.Number() }),
  /** Two-sided level of the always-valid intervals. */
  alpha: Type.Number(),
  metrics: Type.Array(HoldbackMetricReport),
});
export type HoldbackReport = Static<typeof HoldbackReport>;

/** A surface as the admin API returns it. */
export const SurfaceView = Type.Object({
  key: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  guardrails: Type.Array(SurfaceGuardrail),
  approvals: Type.Optional(ApprovalPolicy),
  holdback: Type.Optional(Nullable(SurfaceHoldbackView)),
  version: DocumentVersion,
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type SurfaceView = Static<typeof SurfaceView>;

export const SurfaceList = Type.Object({ surfaces: Type.Array(SurfaceView) });
export type SurfaceList = Static<typeof SurfaceList>;

// ------------------------------------------------------------------------------------------- client keys

/** Largest per-key rate limit accepted, in requests per minute. */
export const MAX_KEY_RATE_LIMIT_PER_MINUTE = 1_000_000_000;

/** A client key as the admin API returns it (never its secret). */
export const ClientKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  environment: Type.String(),
  kind: ClientKeyKind,
  allowedOrigins: Type.Array(Type.String()),
  eventsPerMinute: Nullable(
    Type.Integer({
      description: 'Events per minute the key may send to /v1/events; null: the server default',
    }),
  ),
  rateLimitPerMinute: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: "The key's own requests per minute per route; null: the server's default for its kind",
  }),
  prefix: Type.String({ description: 'The first characters of the secret' }),
  createdAt: IsoTime,
  revokedAt: IsoTimeOrNull,
});
export type ClientKeyView = Static<typeof ClientKeyView>;

/** Body of `POST /api/v1/keys`. */
export const ClientKeyInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    environment: EnvironmentKey,
    kind: ClientKeyKind,
    allowedOrigins: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 })),
    eventsPerMinute: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000_000,
        description: 'Events per minute this key may send to /v1/events (default: the server setting)',
      }),
    ),
    rateLimitPerMinute: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: MAX_KEY_RATE_LIMIT_PER_MINUTE }), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);
export type ClientKeyInput = Static<typeof ClientKeyInput>;

/** The reply of `POST /api/v1/keys`: the key and its secret, shown this once only. */
export const CreatedClientKey = Type.Object({
  key: ClientKeyView,
  secret: Type.String({ description: 'Shown once; store it now' }),
});
export type CreatedClientKey = Static<typeof CreatedClientKey>;

export const KeyListQuery = Type.Object(
  { environment: Type.Optional(EnvironmentKey) },
  { additionalProperties: false },
);
export type KeyListQuery = Static<typeof KeyListQuery>;

export const KeyIdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
export type KeyIdParams = Static<typeof KeyIdParams>;

export const ClientKeyList = Type.Object({ keys: Type.Array(ClientKeyView) });
export type ClientKeyList = Static<typeof ClientKeyList>;

// ------------------------------------------------------------------------------------------ admin tokens

/** An admin token as the admin API returns it (never its secret). */
export const AdminTokenView = Type.Object({
  id: Type.String(),
  name: Type.String({ description: 'Audit entries name the token as `token:<name>`' }),
  role: Role,
  owner: Nullable(
    Type.String({ description: 'Who answers for the token (a person, e.g. `user:ana@example.com`)' }),
  ),
  createdAt: IsoTime,
  revokedAt: IsoTimeOrNull,
});
export type AdminTokenView = Static<typeof AdminTokenView>;

/** Body of `POST /api/v1/tokens`. */
export const AdminTokenInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    role: Type.Optional(Role),
    owner: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Who answers for the token (default: its creator)',
      }),
    ),
  },
  { additionalProperties: false, description: 'The role applies in every environment (default admin)' },
);
export type AdminTokenInput = Static<typeof AdminTokenInput>;

/** The reply of `POST /api/v1/tokens` and of a rotation: the token and its secret, shown this once only. */
export const CreatedAdminToken = Type.Object({
  token: AdminTokenView,
  secret: Type.String({ description: 'Shown once; store it now' }),
});
export type CreatedAdminToken = Static<typeof CreatedAdminToken>;

export const AdminTokenList = Type.Object({ tokens: Type.Array(AdminTokenView) });
export type AdminTokenList = Static<typeof AdminTokenList>;

/** `:id` of a token route: the token's id, or the name of an active token. */
export const AdminTokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export type AdminTokenParams = Static<typeof AdminTokenParams>;

/** Query of `POST /api/v1/tokens/:id/revoke`: `force` allows revoking the last active token. */
export const AdminTokenRevokeQuery = Type.Object(
  { force: Type.Optional(Type.Enum(['true', 'false'] as const)) },
  { additionalProperties: false },
);
export type AdminTokenRevokeQuery = Static<typeof AdminTokenRevokeQuery>;

// ------------------------------------------------------------------------------------------------- audit

/** Largest page of `GET /api/v1/audit`. */
export const MAX_AUDIT_PAGE = 500;

/** One entry of the append-only audit log. */
export const AuditEntry = Type.Object({
  id: Type.String(),
  at: IsoTime,
  actor: Type.String({ description: '`admin`, `controller`, or the actor of the admin token' }),
  action: Type.String({ description: 'e.g. flag.create, flag.update, rollout.start, rollout.decision' }),
  resourceType: AuditResourceType,
  resourceKey: Type.String(),
  environment: Nullable(Type.String()),
  before: Type.Unknown({ description: 'The resource document before the change (null on create)' }),
  after: Type.Unknown({ description: 'The resource document after the change (null on delete)' }),
});
export type AuditEntry = Static<typeof AuditEntry>;

/** Query of `GET /api/v1/audit`. */
export const AuditQuery = Type.Object(
  {
    resourceType: Type.Optional(AuditResourceType),
    key: Type.Optional(Type.String({ maxLength: 200, description: 'Resource key' })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 time (inclusive)' })),
    limit: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: `1 to ${MAX_AUDIT_PAGE}` }),
    ),
    cursor: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'nextCursor of the previous page' }),
    ),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

/** One page of the audit log, newest first. */
export const AuditPage = Type.Object({
  entries: Type.Array(AuditEntry),
  nextCursor: Nullable(Type.String()),
});
export type AuditPage = Static<typeof AuditPage>;
