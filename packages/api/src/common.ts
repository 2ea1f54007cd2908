/**
 * Building blocks every part of the contract shares: times, keys, the error body with its closed code set,
 * and the status enums of flags, rollouts, metrics, client keys and the audit log.
 */
import { type Static, type TSchema, Type } from 'typebox';

/** An ISO 8601 time as the API writes it (`2025-01-01T00:00:00.000Z`). */
export const IsoTime = Type.String({ format: 'date-time' });
/** An ISO 8601 time, or null while the event has not happened. */
export const IsoTimeOrNull = Type.Union([IsoTime, Type.Null()]);

/** Longest flag, segment, metric and surface key. */
export const MAX_RESOURCE_KEY_LENGTH = 128;
/** Keys of environments: lower-case letters, digits, `-` and `_`. */
export const EnvironmentKey = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' });
/** Flag, segment, metric and surface keys (core checks their characters too). */
export const ResourceKey = Type.String({ minLength: 1, maxLength: MAX_RESOURCE_KEY_LENGTH });
/** Path parameters of routes on one keyed resource. */
export const KeyParams = Type.Object({ key: ResourceKey });
export type KeyParams = Static<typeof KeyParams>;

/** A value or null. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** The closed set of error codes of every Dimmer route except OFREP's (which has its own shapes). */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export const ErrorCode = Type.Enum(ERROR_CODES);
export type ErrorCode = Static<typeof ErrorCode>;

/** One problem of a request: the path (`body.environments.production.rules[0]`) and what was expected. */
export const Issue = Type.Object({ path: Type.String(), message: Type.String() });
export type Issue = Static<typeof Issue>;

/** Every error reply: `{ error: { code, message, details? } }`; `details.issues` names each bad field. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: ErrorCode,
      message: Type.String(),
      details: Type.Optional(
        Type.Unknown({
          description:
            'Per code: { issues: [{ path, message }] } for VALIDATION_FAILED, { id } for INTERNAL, ' +
            '{ retryAfterSeconds } for RATE_LIMITED, the limit for PAYLOAD_TOO_LARGE, { currentVersion } for ' +
            'a CONFLICT on a stale version, { rollout, rule } for a write refused to protect a rollout; null or absent otherwise',
        }),
      ),
    }),
  },
  { description: 'Every error reply: a code from the closed set, a message, and details' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Lifecycle of a rollout. */
export const ROLLOUT_STATES = ['draft', 'running', 'paused', 'holding', 'rolled_back', 'completed'] as const;
export const RolloutState = Type.Enum(ROLLOUT_STATES);
export type RolloutState = Static<typeof RolloutState>;

/** The actions of `POST /api/v1/rollouts/:id/:action`. */
export const ROLLOUT_ACTIONS = ['start', 'advance', 'pause', 'resume', 'rollback', 'complete'] as const;
export const RolloutAction = Type.Enum(ROLLOUT_ACTIONS);
export type RolloutAction = Static<typeof RolloutAction>;

/**
 * How a rollout is doing, from its latest decision; `alarm` when it cannot decide (see `RolloutAlarm`), which
 * outranks every other value.
 */
export const ROLLOUT_HEALTHS = ['healthy', 'warning', 'failing', 'unknown', 'alarm'] as const;
export const RolloutHealth = Type.Enum(ROLLOUT_HEALTHS);
export type RolloutHealth = Static<typeof RolloutHealth>;

/**
 * Why a rollout is in alarm: a metric's evidence is invalid, an arm has had no exposures for the stage's
 * minimum duration, a required metric still has no data after it, or the flag is disabled or archived under it.
 */
export const ROLLOUT_ALARM_CAUSES = [
  'invalid_evidence',
  'no_exposures',
  'missing_metric',
  'flag_disabled',
  'flag_archived',
] as const;
export const RolloutAlarmCause = Type.Enum(ROLLOUT_ALARM_CAUSES);
export type RolloutAlarmCause = Static<typeof RolloutAlarmCause>;

/** One reason a rollout cannot decide, in words. */
export const RolloutAlarmReason = Type.Object({ cause: RolloutAlarmCause, message: Type.String() });
export type RolloutAlarmReason = Static<typeof RolloutAlarmReason>;

/**
 * A document's version: 1 on create, one more on every write. `GET` returns it in the body and as the ETag
 * (`"<version>"`); a write that sends it (`If-Match` or the body's `version`) is refused with CONFLICT when the
 * document has moved on, with `details.currentVersion`.
 */
export const DocumentVersion = Type.Integer({
  minimum: 1,
  description: 'The document version (1 on create, one more on every write)',
});
/** The version a write expects (`If-Match` carries the same); omitted, the write is not checked. */
export const ExpectedVersion = Type.Optional(
  Type.Integer({
    minimum: 1,
    description: 'The version this write was made from; CONFLICT (409) when the document has moved on',
  }),
);

/** What disabling or archiving a flag does to a rollout running on it. */
export const ROLLOUT_RELEASES = ['pause', 'rollback'] as const;
export const RolloutRelease = Type.Enum(ROLLOUT_RELEASES);
export type RolloutRelease = Static<typeof RolloutRelease>;

/** What the controller decided at one look. */
export const DECISION_ACTIONS = ['rollback', 'advance', 'hold', 'complete'] as const;
export const DecisionAction = Type.Enum(DECISION_ACTIONS);
export type DecisionAction = Static<typeof DecisionAction>;

/** The rule that produced a decision (packages/rollout's `DecisionRule`). */
export const DECISION_RULES = [
  'deterioration',
  'canary_guard',
  'srm',
  'not_monitored',
  'stale_evidence',
  'invalid_evidence',
  'paused',
  'missing_data',
  'min_duration',
  'min_units',
  'min_events',
  'non_inferiority_pending',
  'information_pending',
  'holding',
  'holdback_elapsed',
  'all_clear',
] as const;
export const DecisionRule = Type.Enum(DECISION_RULES);
export type DecisionRule = Static<typeof DecisionRule>;

/** `automatic`: the controller applies each decision; `manual`: it only recommends. */
export const ROLLOUT_MODES = ['automatic', 'manual'] as const;
export const RolloutMode = Type.Enum(ROLLOUT_MODES);
export type RolloutMode = Static<typeof RolloutMode>;

/** What a sample-ratio mismatch does. */
export const SRM_ACTIONS = ['hold', 'rollback'] as const;
export const SrmAction = Type.Enum(SRM_ACTIONS);
export type SrmAction = Static<typeof SrmAction>;

/** What the last step needs besides the stage minimums. */
export const FINAL_GATES = ['non_inferiority', 'information'] as const;
export const FinalGate = Type.Enum(FINAL_GATES);
export type FinalGate = Static<typeof FinalGate>;

/** Kinds of metric. */
export const METRIC_KINDS = ['proportion', 'mean', 'ratio'] as const;
export const MetricKind = Type.Enum(METRIC_KINDS);
export type MetricKind = Static<typeof MetricKind>;

/** Which way a metric gets worse. */
export const DIRECTIONS = ['higher_is_worse', 'lower_is_worse'] as const;
export const Direction = Type.Enum(DIRECTIONS);
export type Direction = Static<typeof Direction>;

/** What a metric guards. */
export const METRIC_CATEGORIES = ['reliability', 'experience', 'business'] as const;
export const MetricCategory = Type.Enum(METRIC_CATEGORIES);
export type MetricCategory = Static<typeof MetricCategory>;

/** How a metric folds a unit's events. */
export const EVENT_AGGREGATES = ['count', 'sum'] as const;
export const EventAggregate = Type.Enum(EVENT_AGGREGATES);
export type EventAggregate = Static<typeof EventAggregate>;

/** A `server` key reads the full config; a `browser` key only resolves. */
export const CLIENT_KEY_KINDS = ['server', 'browser'] as const;
export const ClientKeyKind = Type.Enum(CLIENT_KEY_KINDS);
export type ClientKeyKind = Static<typeof ClientKeyKind>;

/** Every resource type the server writes to the audit log. */
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
] as const;
export const AuditResourceType = Type.Enum(AUDIT_RESOURCE_TYPES);
export type AuditResourceType = Static<typeof AuditResourceType>;

/** Flag kinds: the JSON type of every variant value. */
export const FLAG_KINDS = ['boolean', 'string', 'number', 'object'] as const;
export const FlagKind = Type.Enum(FLAG_KINDS);
export type FlagKind = Static<typeof FlagKind>;

/** OpenFeature's resolution reasons as Dimmer evaluates them. */
export const REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR'] as const;
export const Reason = Type.Enum(REASONS);
export type Reason = Static<typeof Reason>;

/** OpenFeature's error codes. */
export const EVALUATION_ERROR_CODES = [
  'FLAG_NOT_FOUND',
  'TYPE_MISMATCH',
  'TARGETING_KEY_MISSING',
  'INVALID_CONTEXT',
  'PARSE_ERROR',
  'GENERAL',
] as const;
export const EvaluationErrorCode = Type.Enum(EVALUATION_ERROR_CODES);
export type EvaluationErrorCode = Static<typeof EvaluationErrorCode>;
