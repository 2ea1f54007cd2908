/**
 * The SDK surface (client key): the config snapshot, remote resolution, the change stream's event payload,
 * the events batch with its per-event rejections, and the operations probes.
 */
import type { EvaluationContext as CoreEvaluationContext } from '@dimmer/core';
import { type Static, Type } from 'typebox';
import { EvaluationErrorCode, Reason } from './common.ts';
import { FlagValue, SnapshotFlag, SnapshotSegment } from './documents.ts';

/** Most flag keys in one resolve request. */
export const MAX_RESOLVE_FLAGS = 1_000;
/** Longest flag key a resolve request may name. */
export const MAX_RESOLVE_FLAG_KEY_LENGTH = 256;
/** Most events in one batch. */
export const MAX_BATCH_EVENTS = 1_000;
/** Longest batch id, flag, variant and event name. */
export const MAX_EVENT_ID_LENGTH = 128;
/** Longest unit id. */
export const MAX_EVENT_UNIT_LENGTH = 256;

/** The evaluation context: `targetingKey` is the default unit; any other attributes are free-form JSON. */
export const EvaluationContext = Type.Unsafe<CoreEvaluationContext>(
  Type.Object(
    { targetingKey: Type.Optional(Type.String()) },
    { additionalProperties: true, description: 'targetingKey plus free-form attributes' },
  ),
);

/** Body of `POST /sdk/v1/resolve`. */
export const ResolveRequest = Type.Object(
  {
    context: EvaluationContext,
    flags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_RESOLVE_FLAG_KEY_LENGTH }), {
        maxItems: MAX_RESOLVE_FLAGS,
        description: 'Flag keys to resolve; every flag when absent',
      }),
    ),
    logExposures: Type.Optional(
      Type.Boolean({ description: 'Record exposures for rollout and experiment rules (default true)' }),
    ),
  },
  { additionalProperties: false },
);
export type ResolveRequest = Static<typeof ResolveRequest>;

/** One resolved flag; `value` and `variant` are absent only for an error without a variant (unknown flag). */
export const ResolvedFlag = Type.Object({
  value: Type.Optional(FlagValue),
  variant: Type.Optional(Type.String()),
  reason: Reason,
  errorCode: Type.Optional(EvaluationErrorCode),
  errorMessage: Type.Optional(Type.String()),
});
export type ResolvedFlag = Static<typeof ResolvedFlag>;

/** The reply of `POST /sdk/v1/resolve`. */
export const ResolveResponse = Type.Object({
  environment: Type.String(),
  version: Type.Integer(),
  flags: Type.Record(Type.String(), ResolvedFlag),
});
export type ResolveResponse = Static<typeof ResolveResponse>;

/** The SSE event name of `GET /sdk/v1/stream`; the event id is the config version. */
export const CONFIG_STREAM_EVENT = 'config';

/**
 * What changed between two config versions of an environment, as a server key's stream carries it: applied to
 * the snapshot of version `base` it gives the announced version's snapshot (same flags and segments as
 * `GET /sdk/v1/config` serves for it).
 */
export const ConfigStreamPatch = Type.Object(
  {
    base: Type.Integer({ description: 'The config version this patch applies to' }),
    flags: Type.Array(SnapshotFlag, { description: 'Flags added or changed, whole, in snapshot order' }),
    removedFlags: Type.Array(Type.String(), { description: 'Keys of the flags no longer in the config' }),
    segments: Type.Array(SnapshotSegment, { description: 'Segments added or changed, whole' }),
    removedSegments: Type.Array(Type.String(), {
      description: 'Keys of the segments no longer in the config',
    }),
  },
  { additionalProperties: false },
);
export type ConfigStreamPatch = Static<typeof ConfigStreamPatch>;

/**
 * The `data` of a `config` event on `GET /sdk/v1/stream`: a new config version of the key's environment.
 * Server keys' frames also carry the version's `etag` and, when the node held the previous version and the
 * difference is small, a `patch` against it; browser keys' frames carry only `environment` and `version`.
 * A client without the patch's `base` (or that ignores these fields) refetches `GET /sdk/v1/config`.
 */
export const ConfigStreamEvent = Type.Object({
  environment: Type.String(),
  version: Type.Integer(),
  etag: Type.Optional(Type.String({ description: 'The ETag `GET /sdk/v1/config` serves this version with' })),
  patch: Type.Optional(ConfigStreamPatch),
});
export type ConfigStreamEvent = Static<typeof ConfigStreamEvent>;

/** A timestamp: epoch milliseconds or an ISO 8601 string. */
const Timestamp = Type.Union([Type.Number(), Type.String({ format: 'date-time' })]);

/** An exposure: a unit was served a variant of a flag (server keys only). */
export const ExposureEvent = Type.Object(
  {
    type: Type.Literal('exposure'),
    flag: Type.String({ minLength: 1, maxLength: MAX_EVENT_ID_LENGTH }),
    variant: Type.String({ minLength: 1, maxLength: MAX_EVENT_ID_LENGTH }),
    unit: Type.String({ minLength: 1, maxLength: MAX_EVENT_UNIT_LENGTH }),
    configVersion: Type.Optional(Type.Integer({ minimum: 0 })),
    timestamp: Timestamp,
  },
  { additionalProperties: false },
);
export type ExposureEvent = Static<typeof ExposureEvent>;

/** Largest magnitude of a tracked event's value. */
export const MAX_EVENT_VALUE = 1e12;

/** A tracked event a metric counts or sums. */
export const TrackEvent = Type.Object(
  {
    type: Type.Literal('track'),
    name: Type.String({
      minLength: 1,
      maxLength: MAX_EVENT_ID_LENGTH,
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
    }),
    unit: Type.String({ minLength: 1, maxLength: MAX_EVENT_UNIT_LENGTH }),
    value: Type.Optional(
      Type.Number({
        minimum: -MAX_EVENT_VALUE,
        maximum: MAX_EVENT_VALUE,
        description: 'A finite number with |value| ≤ 1e12; the server rejects others by index',
      }),
    ),
    timestamp: Timestamp,
  },
  { additionalProperties: false },
);
export type TrackEvent = Static<typeof TrackEvent>;

/** One event of a batch. */
export const SdkEvent = Type.Union([ExposureEvent, TrackEvent]);
export type SdkEvent = Static<typeof SdkEvent>;

const BatchId = Type.String({ minLength: 1, maxLength: MAX_EVENT_ID_LENGTH, pattern: '^[A-Za-z0-9._:-]+$' });

/**
 * Body of `POST /v1/events` as a client should send it: every event well-formed. Exposures are sent only with
 * server keys (the server records them itself for browser keys, when it resolves).
 */
export const EventBatch = Type.Object(
  { batchId: BatchId, events: Type.Array(SdkEvent, { maxItems: MAX_BATCH_EVENTS }) },
  { additionalProperties: false },
);
export type EventBatch = Static<typeof EventBatch>;

/**
 * Body of `POST /v1/events` as the server accepts it: the envelope is checked as a whole, but each event is
 * parsed on its own and a bad one is rejected by index in the reply (the rest of the batch is kept).
 */
export const EventBatchEnvelope = Type.Object(
  {
    batchId: BatchId,
    events: Type.Array(
      Type.Unknown({ description: 'An ExposureEvent or TrackEvent; an invalid one is rejected by index' }),
      { maxItems: MAX_BATCH_EVENTS },
    ),
  },
  { additionalProperties: false },
);
export type EventBatchEnvelope = Static<typeof EventBatchEnvelope>;

/** The 202 reply of `POST /v1/events`: counts, the events refused by index, and whether the batch was seen before. */
export const EventsReply = Type.Object({
  batchId: Type.String(),
  accepted: Type.Integer({ minimum: 0 }),
  rejected: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0, description: 'Position in `events`' }),
      reason: Type.String({ description: 'The field and what was expected' }),
    }),
  ),
  duplicate: Type.Boolean(),
});
export type EventsReply = Static<typeof EventsReply>;

/** The reply of `GET /healthz`. */
export const HealthReply = Type.Object({ status: Type.Literal('ok') });
export type HealthReply = Static<typeof HealthReply>;

/** The 200 reply of `GET /readyz` (503 is the error body with code UNAVAILABLE). */
export const ReadyReply = Type.Object({ status: Type.Literal('ready') });
export type ReadyReply = Static<typeof ReadyReply>;
