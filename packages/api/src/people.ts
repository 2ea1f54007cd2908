/**
 * People and access: roles and the permission each admin route needs, role grants, sign-in sessions, the
 * signed-in caller (`/api/v1/me`), sign-in configuration and the device sign-in of the CLI, and approvals of
 * rollouts and experiments.
 */
import { type Static, Type } from 'typebox';
import { EnvironmentKey, IsoTime, IsoTimeOrNull, Nullable } from './common.ts';

/** Roles, weakest first: each role may do everything the ones before it may. */
export const ROLES = ['viewer', 'editor', 'releaser', 'admin'] as const;
export const Role = Type.Enum(ROLES);
export type Role = Static<typeof Role>;

/**
 * What an admin route needs: `read` (every role), `edit` (editor: flags, segments, metrics, drafts of rollouts
 * and experiments), `release` (releaser: start, advance, pause, resume, roll back, ship, approve), `admin` (keys,
 * tokens, environments, surfaces, grants, sessions); `self`: any signed-in caller, even one without a role.
 */
export const PERMISSIONS = ['self', 'read', 'edit', 'release', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The weakest role that holds each permission (`self` needs none). */
export const PERMISSION_ROLE: Readonly<Record<Exclude<Permission, 'self'>, Role>> = {
  read: 'viewer',
  edit: 'editor',
  release: 'releaser',
  admin: 'admin',
};

/** Whether `role` holds `permission`. */
export function roleAllows(role: Role | null, permission: Permission): boolean {
  if (permission === 'self') return true;
  if (role === null) return false;
  return ROLES.indexOf(role) >= ROLES.indexOf(PERMISSION_ROLE[permission]);
}

/** The stronger of two roles (null: none). */
export function strongerRole(a: Role | null, b: Role | null): Role | null {
  if (a === null) return b;
  if (b === null) return a;
  return ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b;
}

/**
 * Where an admin route's environment is read from: a path parameter, the body's `environment`, or the stored
 * rollout, experiment or client key the path names. Absent: the route spans environments, and the caller's
 * role granted for every environment applies.
 */
export const ENVIRONMENT_SOURCES = [
  'params.env',
  'body.environment',
  'rollout',
  'experiment',
  'clientKey',
] as const;
export type EnvironmentSource = (typeof ENVIRONMENT_SOURCES)[number];

/** `*`: every environment. */
export const ALL_ENVIRONMENTS = '*';
export const GrantEnvironment = Type.Union([EnvironmentKey, Type.Literal(ALL_ENVIRONMENTS)]);

// ------------------------------------------------------------------------------------------------ grants

/** Who a grant is for: a person (`user:<email or subject>`) or a group of the identity provider (`group:<name>`). */
export const GrantSubject = Type.String({
  pattern: '^(user|group):[^\\s]{1,200}$',
  description: '`user:<email or subject>` or `group:<name of the provider group>`',
});

/** Body of `POST /api/v1/grants`. */
export const GrantInput = Type.Object(
  { subject: GrantSubject, environment: GrantEnvironment, role: Role },
  { additionalProperties: false },
);
export type GrantInput = Static<typeof GrantInput>;

/** A role grant: explicit ones from the API, and the group mapping of the configuration (`source: config`). */
export const GrantView = Type.Object({
  id: Type.String(),
  subject: Type.String(),
  environment: Type.String({ description: 'An environment key, or `*` for every environment' }),
  role: Role,
  source: Type.Enum(['api', 'config'] as const),
  createdAt: Nullable(IsoTime),
  createdBy: Nullable(Type.String()),
});
export type GrantView = Static<typeof GrantView>;

export const GrantList = Type.Object({ grants: Type.Array(GrantView) });
export type GrantList = Static<typeof GrantList>;

export const GrantIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export type GrantIdParams = Static<typeof GrantIdParams>;

// ---------------------------------------------------------------------------------------------- sessions

/** A sign-in session (never its secret). */
export const SessionView = Type.Object({
  id: Type.String(),
  actor: Type.String({ description: '`user:<email or subject>`' }),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  groups: Type.Array(Type.String()),
  via: Type.Enum(['browser', 'device'] as const),
  createdAt: IsoTime,
  expiresAt: IsoTime,
  revokedAt: IsoTimeOrNull,
});
export type SessionView = Static<typeof SessionView>;

export const SessionList = Type.Object({ sessions: Type.Array(SessionView) });
export type SessionList = Static<typeof SessionList>;

export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export type SessionIdParams = Static<typeof SessionIdParams>;

// --------------------------------------------------------------------------------------------------- me

/** The caller: a person signed in, or an admin token, with its role in every environment. */
export const MeView = Type.Object({
  actor: Type.String({
    description: 'How the audit log names the caller: `user:<email or subject>` or `token:<name>`',
  }),
  kind: Type.Enum(['person', 'token'] as const),
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  groups: Type.Array(Type.String()),
  /** The role granted for every environment (null: none). */
  role: Nullable(Role),
  /** The effective role per environment key (the stronger of `role` and the environment's own grants). */
  environments: Type.Record(Type.String(), Nullable(Role)),
  sessionExpiresAt: Nullable(IsoTime),
});
export type MeView = Static<typeof MeView>;

// --------------------------------------------------------------------------------------- sign-in (auth)

/** `GET /auth/config`: how people sign in to this server. */
export const AuthConfigView = Type.Object({
  oidc: Nullable(
    Type.Object({
      providerName: Type.String(),
      loginPath: Type.String({
        description: 'Where the browser goes to sign in (redirects to the provider)',
      }),
      deviceFlow: Type.Boolean({ description: 'Whether the provider offers the device-code sign-in (CLI)' }),
    }),
  ),
  tokenSignIn: Type.Boolean(),
});
export type AuthConfigView = Static<typeof AuthConfigView>;

/** Query of `GET /auth/login`: where the dashboard returns after sign-in (a path of this server). */
export const LoginQuery = Type.Object(
  { returnTo: Type.Optional(Type.String({ pattern: '^/([^/\\\\].*)?$', maxLength: 500 })) },
  { additionalProperties: false },
);
export type LoginQuery = Static<typeof LoginQuery>;

/** Query of `GET /auth/callback`: the provider's authorization response. */
export const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 4096 })),
    state: Type.Optional(Type.String({ maxLength: 512 })),
    error: Type.Optional(Type.String({ maxLength: 200 })),
    error_description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: true },
);
export type CallbackQuery = Static<typeof CallbackQuery>;

/** `POST /auth/device`: a device sign-in started at the provider. */
export const DeviceStartView = Type.Object({
  deviceCode: Type.String({ description: 'Send it to `POST /auth/device/token` until the person confirms' }),
  userCode: Type.String(),
  verificationUri: Type.String(),
  verificationUriComplete: Nullable(Type.String()),
  intervalSeconds: Type.Integer({ minimum: 1 }),
  expiresInSeconds: Type.Integer({ minimum: 1 }),
});
export type DeviceStartView = Static<typeof DeviceStartView>;

export const DeviceTokenInput = Type.Object(
  { deviceCode: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
export type DeviceTokenInput = Static<typeof DeviceTokenInput>;

/** `POST /auth/device/token`: still waiting for the person, or a session token for the CLI. */
export const DeviceTokenView = Type.Union([
  Type.Object({ status: Type.Literal('pending'), intervalSeconds: Type.Integer({ minimum: 1 }) }),
  Type.Object({
    status: Type.Literal('complete'),
    token: Type.String({ description: 'A session token (Authorization: Bearer); shown once' }),
    actor: Type.String(),
    expiresAt: IsoTime,
  }),
]);
export type DeviceTokenView = Static<typeof DeviceTokenView>;

// ------------------------------------------------------------------------------------------- approvals

/** The actions an approval may be for: starting, and a manual advance past the surface's stated reach. */
export const APPROVAL_ACTIONS = ['start', 'advance'] as const;
export const ApprovalAction = Type.Enum(APPROVAL_ACTIONS);
export type ApprovalAction = Static<typeof ApprovalAction>;

/** A surface's approval rule: N approvals by people other than the author. */
export const ApprovalPolicy = Type.Object(
  {
    required: Type.Integer({
      minimum: 1,
      maximum: 10,
      description: 'Approvals needed from people other than the author',
    }),
    environments: Type.Optional(
      Type.Array(EnvironmentKey, {
        maxItems: 100,
        description: 'Environments where approvals are required (default: every environment)',
      }),
    ),
    advancePastReach: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        description:
          'Reach in percent: a manual advance to a reach above it also needs approvals (default: only the start)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ApprovalPolicy = Static<typeof ApprovalPolicy>;

/** Body of `POST /api/v1/{rollouts,experiments}/:id/approvals`: approve what was reviewed at `version`. */
export const ApprovalInput = Type.Object(
  {
    action: ApprovalAction,
    version: Type.Integer({ minimum: 1, description: 'The version of the rollout or experiment reviewed' }),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ApprovalInput = Static<typeof ApprovalInput>;

/** Body of `POST /api/v1/{rollouts,experiments}/:id/approvals/request`. */
export const ApprovalRequestInput = Type.Object(
  { action: ApprovalAction, comment: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type ApprovalRequestInput = Static<typeof ApprovalRequestInput>;

/** One approval: who, of what version, and whether it still counts (an edit since invalidates it). */
export const ApprovalView = Type.Object({
  id: Type.String(),
  resourceType: Type.Enum(['rollout', 'experiment'] as const),
  resourceId: Type.String(),
  action: ApprovalAction,
  approver: Type.String(),
  version: Type.Integer(),
  comment: Nullable(Type.String()),
  at: IsoTime,
  valid: Type.Boolean({
    description: 'False once the rollout, experiment or its flag changed after the approval',
  }),
});
export type ApprovalView = Static<typeof ApprovalView>;

/** The approval state of a rollout or experiment. */
export const ApprovalStatus = Type.Object({
  author: Nullable(Type.String()),
  /** Approvals required now (0 when the surface requires none here). */
  required: Type.Integer(),
  action: Nullable(ApprovalAction),
  approvals: Type.Array(ApprovalView),
  /** Valid approvals by people other than the author for the pending action. */
  satisfied: Type.Boolean(),
});
export type ApprovalStatus = Static<typeof ApprovalStatus>;
