/**
 * The flag model: the documents Dimmer stores, validates, ships to SDKs and evaluates.
 * These shapes are the contract between core, the server, the SDK and the dashboard.
 */

/** Number of buckets in the assignment space. Reach 1% = 10,000 buckets. */
export const BUCKET_COUNT = 1_000_000;

/** The only assignment hash scheme so far; a new scheme gets a new number, never an edit. */
export const HASH_VERSION = 1;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type FlagKind = 'boolean' | 'string' | 'number' | 'object';

/** A variant's value: its JS type follows the flag kind (`object` flags hold JSON objects). */
export type FlagValue = boolean | string | number | JsonObject;

export type AttributeOperator =
  | 'eq'
  | 'neq'
  | 'in'
  | 'not_in'
  | 'contains'
  | 'starts_with'
  | 'ends_with'
  | 'matches'
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte'
  | 'semver_eq'
  | 'semver_lt'
  | 'semver_gt'
  | 'before'
  | 'after'
  | 'exists';

/** A test on one context attribute; `attr` is a dotted path (`user.plan`). `exists` takes no value. */
export interface AttributeCondition {
  attr: string;
  op: AttributeOperator;
  value?: JsonValue;
}

export interface AllCondition {
  all: Condition[];
}
export interface AnyCondition {
  any: Condition[];
}
export interface NotCondition {
  not: Condition;
}
/** Matches when the referenced segment's condition matches. */
export interface SegmentCondition {
  segment: string;
}

export type Condition = AttributeCondition | AllCondition | AnyCondition | NotCondition | SegmentCondition;

/** Which side of a rollout or experiment comparison a split slice belongs to. */
export type Arm = 'treatment' | 'control';

/** A half-open bucket range `[start, end)` in `[0, BUCKET_COUNT]` served with one variant. */
export interface SplitSlice {
  variant: string;
  range: [number, number];
  arm?: Arm;
}

export type Serve = { variant: string } | { split: SplitSlice[] };

/**
 * One targeting rule. First matching rule wins. A split whose ranges do not cover the unit's bucket
 * falls through to the next rule. `rollout` / `experiment` mark a rule managed by a rollout or an
 * A/B test: evaluations it serves are exposures.
 */
export interface Rule {
  id: string;
  description?: string;
  when?: Condition;
  bucketBy?: string;
  rollout?: string;
  experiment?: string;
  serve: Serve;
}

/** A flag's state in one environment. */
export interface FlagEnvironment {
  enabled: boolean;
  /** unit id → variant name; checked before the rules (reason TARGETING_MATCH, ruleId `override`). */
  overrides?: Record<string, string>;
  rules: Rule[];
}

/** The flag document as stored and edited through the admin API. */
export interface FlagConfig {
  key: string;
  kind: FlagKind;
  surface?: string;
  description?: string;
  variants: Record<string, FlagValue>;
  defaultVariant: string;
  /** Fixed at creation, never derived from storage ids, never changed. */
  salt: string;
  hashVersion: 1;
  environments: Record<string, FlagEnvironment>;
}

/** A reusable named condition. */
export interface Segment {
  key: string;
  description?: string;
  when: Condition;
}

/**
 * A surface holdback as shipped with each flag of the surface: units whose bucket under the holdback's own
 * salt (hash v1, the rule's bucketing unit) is below `buckets` are served the default variant instead of what
 * the listed rules (the rollouts and experiments on the flag) would serve, and that is logged as an exposure.
 */
export interface SnapshotHoldback {
  surface: string;
  salt: string;
  /** Held-back buckets of 1,000,000 (percent × 10,000). */
  buckets: number;
  /** Ids of the flag's rules the holdback applies to. */
  rules: string[];
}

/** One flag as shipped to SDKs for one environment: the flag document flattened to that environment. */
export interface SnapshotFlag {
  key: string;
  kind: FlagKind;
  variants: Record<string, FlagValue>;
  defaultVariant: string;
  salt: string;
  hashVersion: 1;
  enabled: boolean;
  overrides?: Record<string, string>;
  rules: Rule[];
  /** The holdback of the flag's surface, when it keeps one. */
  holdback?: SnapshotHoldback;
}

/**
 * Everything needed to evaluate every flag of one environment at one config version:
 * the body of `GET /sdk/v1/config` for server keys.
 */
export interface EnvironmentSnapshot {
  environment: string;
  version: number;
  flags: SnapshotFlag[];
  segments: Segment[];
}

/** The evaluation context: `targetingKey` is the default unit; any other attributes are free-form. */
export interface EvaluationContext {
  targetingKey?: string;
  [attribute: string]: unknown;
}

/** OpenFeature's resolution reasons. */
export type Reason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED' | 'ERROR';

/** OpenFeature's error codes. */
export type ErrorCode =
  | 'FLAG_NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'TARGETING_KEY_MISSING'
  | 'INVALID_CONTEXT'
  | 'PARSE_ERROR'
  | 'GENERAL';

/**
 * The result of evaluating one flag. `value` and `variant` are absent only when the reason is ERROR
 * and no variant could be chosen (unknown flag); callers then use their code default.
 * `inExperiment` is true when a rollout or experiment rule served the value, so an exposure is due;
 * `rollout` / `experiment` and `arm` then say which comparison and which side. `holdback` names the surface
 * whose holdback served the default instead (also an exposure).
 */
export interface EvaluationResult {
  flagKey: string;
  value?: FlagValue;
  variant?: string;
  reason: Reason;
  errorCode?: ErrorCode;
  errorMessage?: string;
  ruleId?: string;
  inExperiment?: boolean;
  rollout?: string;
  experiment?: string;
  arm?: Arm;
  holdback?: string;
}

/** One problem found by validation: a JSON path (`environments.production.rules[2].serve.split[0].range`) and what was expected. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };
