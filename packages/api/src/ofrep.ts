/**
 * OFREP, the OpenFeature Remote Evaluation Protocol, exactly as its published OpenAPI document
 * (`/ofrep/v1/evaluate/flags/{key}` and `/ofrep/v1/evaluate/flags`), so community providers work unmodified.
 */
import { type Static, Type } from 'typebox';
import { FlagValue } from './documents.ts';

/**
 * OFREP's evaluation context: `targetingKey` plus free-form attributes. The OFREP document marks
 * `targetingKey` required, but providers send contexts without one (a static flag needs none), so Dimmer
 * accepts them: flags that need a unit answer TARGETING_KEY_MISSING.
 */
export const OfrepContext = Type.Object(
  { targetingKey: Type.Optional(Type.String()) },
  {
    additionalProperties: true,
    description:
      'Evaluation context: targetingKey plus attributes. targetingKey may be omitted (OFREP marks it ' +
      'required): flags that split or bucket by it then answer TARGETING_KEY_MISSING',
  },
);

/** Body of both OFREP routes. */
export const OfrepRequest = Type.Object({ context: OfrepContext });
export type OfrepRequest = Static<typeof OfrepRequest>;

/** Reasons an OFREP success may carry (Dimmer's DEFAULT becomes UNKNOWN, with `dimmerReason` in metadata). */
export const OFREP_REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'UNKNOWN'] as const;
export const OfrepReason = Type.Enum(OFREP_REASONS);
export type OfrepReason = Static<typeof OfrepReason>;

/** Error codes of an evaluation failure. */
export const OFREP_FAILURE_CODES = [
  'PARSE_ERROR',
  'TARGETING_KEY_MISSING',
  'INVALID_CONTEXT',
  'GENERAL',
] as const;

/** Flag or flag-set metadata: string, number or boolean values. */
export const OfrepMetadata = Type.Record(
  Type.String(),
  Type.Union([Type.Boolean(), Type.String(), Type.Number()]),
);
export type OfrepMetadata = Static<typeof OfrepMetadata>;

/** A successful evaluation; without `value` the provider uses its code default. */
export const OfrepSuccess = Type.Object({
  key: Type.String(),
  value: Type.Optional(FlagValue),
  reason: OfrepReason,
  variant: Type.Optional(Type.String()),
  metadata: Type.Optional(OfrepMetadata),
});
export type OfrepSuccess = Static<typeof OfrepSuccess>;

/** An evaluation failure of one flag (400 on the single-flag route, or an item of the bulk reply). */
export const OfrepFailure = Type.Object({
  key: Type.String(),
  errorCode: Type.Enum(OFREP_FAILURE_CODES),
  errorDetails: Type.Optional(Type.String()),
  metadata: Type.Optional(OfrepMetadata),
});
export type OfrepFailure = Static<typeof OfrepFailure>;

/** The 404 of the single-flag route. */
export const OfrepFlagNotFound = Type.Object({
  key: Type.String(),
  errorCode: Type.Literal('FLAG_NOT_FOUND'),
  errorDetails: Type.Optional(Type.String()),
  metadata: Type.Optional(OfrepMetadata),
});
export type OfrepFlagNotFound = Static<typeof OfrepFlagNotFound>;

/** A structured SSE endpoint: `origin + requestUri`. */
const OfrepEventStreamEndpoint = Type.Object({
  origin: Type.Optional(Type.String({ format: 'uri' })),
  requestUri: Type.String({ pattern: '^/' }),
});

/** A change-notification connection a provider may open (exactly one of `url` or `endpoint`). */
export const OfrepEventStream = Type.Object({
  type: Type.String({ description: 'Currently only `sse`' }),
  url: Type.Optional(Type.String({ format: 'uri' })),
  endpoint: Type.Optional(OfrepEventStreamEndpoint),
  inactivityDelaySec: Type.Optional(Type.Integer({ minimum: 1 })),
});

/** The 200 reply of the bulk route: every flag, each a success or a failure. */
export const OfrepBulkSuccess = Type.Object({
  flags: Type.Array(Type.Union([OfrepSuccess, OfrepFailure])),
  metadata: Type.Optional(OfrepMetadata),
  eventStreams: Type.Optional(Type.Array(OfrepEventStream)),
});
export type OfrepBulkSuccess = Static<typeof OfrepBulkSuccess>;

/** The 400 of the bulk route: the whole request failed. */
export const OfrepBulkFailure = Type.Object({
  errorCode: Type.String(),
  errorDetails: Type.Optional(Type.String()),
});
export type OfrepBulkFailure = Static<typeof OfrepBulkFailure>;

/** 401, 403, 429 and 500 replies of both routes. */
export const OfrepGeneralError = Type.Object({ errorDetails: Type.Optional(Type.String()) });
export type OfrepGeneralError = Static<typeof OfrepGeneralError>;
