/**
 * Flag and segment documents: the shapes the admin API stores and returns and the SDK config ships. The
 * static types are core's model types, so a document read from the API feeds the evaluator directly.
 */
import type {
  Condition as CoreCondition,
  FlagValue as CoreFlagValue,
  JsonValue as CoreJsonValue,
  Rule as CoreRule,
  Serve as CoreServe,
} from '@dimmer/core';
import { type Static, Type } from 'typebox';
import {
  DocumentVersion,
  ExpectedVersion,
  FlagKind,
  Nullable,
  ResourceKey,
  RolloutRelease,
} from './common.ts';

/** Any JSON value (a context attribute, a condition's operand). */
export const JsonValue = Type.Unsafe<CoreJsonValue>(Type.Unknown({ description: 'Any JSON value' }));

/** A variant's value: its JSON type follows the flag kind (`object` flags hold JSON objects). */
export const FlagValue = Type.Unsafe<CoreFlagValue>(
  Type.Union([Type.Boolean(), Type.String(), Type.Number(), Type.Object({}, { additionalProperties: true })]),
);

/** A nested condition inside `all`, `any` or `not`: checked in depth by core's validator. */
const NestedCondition = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'A condition (same shapes as the enclosing one; core validates depth and operators)',
  },
);

/**
 * A targeting condition: an attribute test `{ attr, op, value? }`, `{ all: [...] }`, `{ any: [...] }`,
 * `{ not: ... }`, or a segment reference `{ segment }`. The schema describes the outer shape; nested
 * conditions are JSON objects checked in depth by core's validator (whose issues name the path), because a
 * self-referencing TypeBox schema (`Type.Cyclic`) carries an `$id` that Fastify's Ajv refuses to see twice in
 * one route schema. The static type is core's recursive `Condition`.
 */
export const Condition = Type.Unsafe<CoreCondition>(
  Type.Union(
    [
      Type.Object(
        {
          attr: Type.String({ minLength: 1, description: 'Dotted path into the context (`user.plan`)' }),
          op: Type.String({
            description:
              'eq, neq, in, not_in, contains, starts_with, ends_with, matches, lt, lte, gt, gte, semver_eq, semver_lt, semver_gt, before, after, exists',
          }),
          value: Type.Optional(JsonValue),
        },
        { additionalProperties: false },
      ),
      Type.Object({ all: Type.Array(NestedCondition) }, { additionalProperties: false }),
      Type.Object({ any: Type.Array(NestedCondition) }, { additionalProperties: false }),
      Type.Object({ not: NestedCondition }, { additionalProperties: false }),
      Type.Object({ segment: Type.String() }, { additionalProperties: false }),
    ],
    { description: 'A targeting condition' },
  ),
);

/** A half-open bucket range `[start, end)` in `[0, 1_000_000]` served with one variant. */
export const SplitSlice = Type.Object(
  {
    variant: Type.String(),
    range: Type.Tuple([Type.Integer(), Type.Integer()]),
    arm: Type.Optional(Type.Enum(['treatment', 'control'] as const)),
  },
  { additionalProperties: false },
);
export type SplitSlice = Static<typeof SplitSlice>;

/** What a rule serves: one variant, or a split over buckets. */
export const Serve = Type.Unsafe<CoreServe>(
  Type.Union([
    Type.Object({ variant: Type.String() }, { additionalProperties: false }),
    Type.Object({ split: Type.Array(SplitSlice) }, { additionalProperties: false }),
  ]),
);

/** One targeting rule; the first matching rule wins. */
export const Rule = Type.Unsafe<CoreRule>(
  Type.Object(
    {
      id: Type.String(),
      description: Type.Optional(Type.String()),
      when: Type.Optional(Condition),
      bucketBy: Type.Optional(Type.String()),
      rollout: Type.Optional(Type.String()),
      experiment: Type.Optional(Type.String()),
      serve: Serve,
    },
    { additionalProperties: false },
  ),
);

/** A flag's state in one environment. */
export const FlagEnvironment = Type.Object(
  {
    enabled: Type.Boolean(),
    overrides: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'unit id → variant' })),
    rules: Type.Array(Rule),
  },
  { additionalProperties: false },
);
export type FlagEnvironment = Static<typeof FlagEnvironment>;

const Variants = Type.Record(Type.String(), FlagValue, {
  description: 'variant name → value (its type follows the kind)',
});

const documentFields = {
  key: ResourceKey,
  kind: FlagKind,
  surface: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  variants: Variants,
  defaultVariant: Type.String(),
  salt: Type.Optional(
    Type.String({ description: 'Accepted on create only; generated (16 hex chars) when absent' }),
  ),
  hashVersion: Type.Optional(Type.Literal(1)),
  environments: Type.Optional(Type.Record(Type.String(), FlagEnvironment)),
};

/** Body of `POST /api/v1/flags`: the document; the salt is generated when absent. */
export const FlagInput = Type.Object(documentFields, { additionalProperties: false });
export type FlagInput = Static<typeof FlagInput>;

/** Body of `PUT /api/v1/flags/:key`: the document; `key` and `salt` may be omitted but never changed. */
export const FlagReplace = Type.Object(
  { ...documentFields, key: Type.Optional(ResourceKey), version: ExpectedVersion },
  { additionalProperties: false },
);
export type FlagReplace = Static<typeof FlagReplace>;

/** Body of `PATCH /api/v1/flags/:key`: environments merge per environment and field; null removes a field. */
export const FlagPatch = Type.Object(
  {
    kind: Type.Optional(FlagKind),
    surface: Type.Optional(Nullable(Type.String())),
    description: Type.Optional(Nullable(Type.String())),
    variants: Type.Optional(Variants),
    defaultVariant: Type.Optional(Type.String()),
    salt: Type.Optional(Type.String({ description: 'Must equal the stored salt' })),
    hashVersion: Type.Optional(Type.Literal(1)),
    version: ExpectedVersion,
    environments: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            enabled: Type.Optional(Type.Boolean()),
            overrides: Type.Optional(Type.Record(Type.String(), Type.String())),
            rules: Type.Optional(Type.Array(Rule)),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type FlagPatch = Static<typeof FlagPatch>;

/** A flag as the admin API returns it: the stored document plus archive state and ISO times. */
export const FlagView = Type.Object({
  key: Type.String(),
  kind: FlagKind,
  surface: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  variants: Variants,
  defaultVariant: Type.String(),
  salt: Type.String(),
  hashVersion: Type.Literal(1),
  environments: Type.Record(Type.String(), FlagEnvironment),
  archived: Type.Boolean(),
  version: DocumentVersion,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type FlagView = Static<typeof FlagView>;

/**
 * Optional body of the flag state actions (enable, disable, archive, unarchive): the version the change was made
 * from, and for disable and archive what to do with a rollout running on the flag (refused without it).
 */
export const FlagStateAction = Type.Union([
  Type.Null(),
  Type.Object(
    {
      version: ExpectedVersion,
      rollout: Type.Optional(RolloutRelease),
    },
    { additionalProperties: false },
  ),
]);
export type FlagStateAction = Static<typeof FlagStateAction>;

/**
 * Per environment whose served configuration changed: units that change variant (an estimate). Exact over
 * all 1,000,000 buckets when no condition reads the unit id, else over a synthetic sample of ids.
 */
export const SplitPreview = Type.Object({
  sampled: Type.Integer({ description: 'Units counted: 1,000,000 buckets when exact, else the sample size' }),
  changed: Type.Integer(),
  share: Type.Number({ description: 'Estimated share of units that change variant (synthetic sample)' }),
  transitions: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), count: Type.Integer() })),
});
export type SplitPreview = Static<typeof SplitPreview>;

/** The preview of one targeted rule: units made to match its condition, and how many change variant. */
export const TargetedRulePreview = Type.Intersect([
  SplitPreview,
  Type.Object({
    rule: Type.String(),
    attributes: Type.Record(Type.String(), Type.Unknown(), {
      description:
        "Attributes every sampled unit carried, made to satisfy the rule's condition (dotted paths)",
    }),
  }),
]);
export type TargetedRulePreview = Static<typeof TargetedRulePreview>;

/** The reply of `POST /api/v1/flags/:key/preview`: what saving the document would change, without saving. */
export const FlagPreview = Type.Object({
  preview: Type.Record(Type.String(), SplitPreview, {
    description:
      'Per environment whose served configuration changes: units of the plain sample changing variant',
  }),
  targeted: Type.Record(Type.String(), Type.Array(TargetedRulePreview), {
    description:
      'Per changed environment, per rule with a condition: the share of the units it targets that change variant',
  }),
});
export type FlagPreview = Static<typeof FlagPreview>;

/** The reply of every flag change: the flag after it and the split preview per changed environment. */
export const FlagChange = Type.Object({
  flag: FlagView,
  preview: Type.Record(Type.String(), SplitPreview, {
    description: 'Per environment whose served configuration changed',
  }),
});
export type FlagChange = Static<typeof FlagChange>;

/** A segment document as sent on create. */
export const SegmentInput = Type.Object(
  { key: ResourceKey, description: Type.Optional(Type.String()), when: Condition },
  { additionalProperties: false },
);
export type SegmentInput = Static<typeof SegmentInput>;

/** A segment document as sent on replace (`key` may be omitted, never changed). */
export const SegmentReplace = Type.Object(
  {
    key: Type.Optional(ResourceKey),
    description: Type.Optional(Type.String()),
    when: Condition,
    version: ExpectedVersion,
  },
  { additionalProperties: false },
);
export type SegmentReplace = Static<typeof SegmentReplace>;

/** A segment as the admin API returns it. */
export const SegmentView = Type.Object({
  key: Type.String(),
  description: Type.Optional(Type.String()),
  when: Condition,
  version: DocumentVersion,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type SegmentView = Static<typeof SegmentView>;

export const SegmentList = Type.Object({ segments: Type.Array(SegmentView) });
export type SegmentList = Static<typeof SegmentList>;

/** A segment as shipped in the SDK config. */
export const SnapshotSegment = Type.Object({
  key: Type.String(),
  description: Type.Optional(Type.String()),
  when: Condition,
});

/** One flag flattened to one environment, as shipped to SDKs. */
export const SnapshotFlag = Type.Object({
  key: Type.String(),
  kind: FlagKind,
  variants: Variants,
  defaultVariant: Type.String(),
  salt: Type.String(),
  hashVersion: Type.Literal(1),
  enabled: Type.Boolean(),
  overrides: Type.Optional(Type.Record(Type.String(), Type.String())),
  rules: Type.Array(Rule),
  holdback: Type.Optional(
    Type.Object(
      {
        surface: Type.String(),
        salt: Type.String(),
        buckets: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
        rules: Type.Array(Type.String()),
      },
      {
        description:
          "The surface's holdback: units whose bucket under its salt is below `buckets` get the default from the listed rules (an exposure)",
      },
    ),
  ),
});
export type SnapshotFlag = Static<typeof SnapshotFlag>;

/** The body of `GET /sdk/v1/config` (server keys): every flag and segment of one environment at one version. */
export const EnvironmentSnapshot = Type.Object({
  environment: Type.String(),
  version: Type.Integer(),
  flags: Type.Array(SnapshotFlag),
  segments: Type.Array(SnapshotSegment),
});
export type EnvironmentSnapshot = Static<typeof EnvironmentSnapshot>;
