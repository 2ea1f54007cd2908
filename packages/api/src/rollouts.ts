/**
 * Rollouts: the plan as sent and as validated, the rollout with its state, decisions of the controller, the
 * evidence it read and the plan forecast. A rollout's lifecycle is `state` (one field; no `status` alias).
 * Times of the rollout are ISO strings; times inside a decision's own record (`event.at`) are epoch ms.
 */
import { type Static, Type } from 'typebox';
import {
  DecisionAction,
  DecisionRule,
  Direction,
  DocumentVersion,
  ExpectedVersion,
  FinalGate,
  IsoTime,
  IsoTimeOrNull,
  MetricCategory,
  MetricKind,
  Nullable,
  QuantileScope,
  RolloutAction,
  RolloutAlarmReason,
  RolloutHealth,
  RolloutMode,
  RolloutState,
  SrmAction,
} from './common.ts';

const PerArm = Type.Object({ treatment: Type.Number(), control: Type.Number() });
/** A number the statistics may leave undefined (written as null when not finite). */
/**
 * A number, or null when it cannot be computed yet. Written as one type list, not a union: the reply
 * serializer cannot resolve a union inside a tuple.
 */
export const Estimate = Type.Unsafe<number | null>({ type: ['number', 'null'] });

// ------------------------------------------------------------------------------------------------ inputs

/** One stage as sent: reach in percent; duration as `"2h"` or milliseconds. */
export const RolloutStageInput = Type.Object(
  {
    reach: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    minDuration: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    minUnitsPerArm: Type.Optional(Type.Integer({ minimum: 0 })),
    minEventsPerArm: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type RolloutStageInput = Static<typeof RolloutStageInput>;

/** One guardrail as sent; kind, direction and category are copied from the metric when absent. */
export const RolloutGuardrailInput = Type.Object(
  {
    metric: Type.String({ minLength: 1 }),
    margin: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    required: Type.Optional(Type.Boolean()),
    kind: Type.Optional(MetricKind),
    direction: Type.Optional(Direction),
    category: Type.Optional(MetricCategory),
  },
  { additionalProperties: false },
);
export type RolloutGuardrailInput = Static<typeof RolloutGuardrailInput>;

/** Body of `POST /api/v1/rollouts`: a plan, plus the traffic the forecast may assume before any is observed. */
export const RolloutInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    flag: Type.String(),
    environment: Type.String(),
    treatment: Type.String({ description: 'Variant rolled out' }),
    control: Type.String({ description: 'Variant compared against' }),
    stages: Type.Array(RolloutStageInput),
    holdback: Type.Optional(
      Type.Number({
        minimum: 0,
        exclusiveMaximum: 50,
        description: 'Percent kept on control after the last step',
      }),
    ),
    guardrails: Type.Optional(Type.Array(RolloutGuardrailInput)),
    mode: Type.Optional(RolloutMode),
    canaryGuard: Type.Optional(
      Type.Union([
        Type.Boolean(),
        Type.Object({ threshold: Type.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false }),
      ]),
    ),
    srmAction: Type.Optional(SrmAction),
    finalGate: Type.Optional(FinalGate),
    expectedUnitsPerDay: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    expectedBaselines: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          { mean: Type.Number(), variance: Type.Optional(Type.Number({ exclusiveMinimum: 0 })) },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type RolloutInput = Static<typeof RolloutInput>;

/** Path parameters of the per-rollout routes. */
export const RolloutIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export type RolloutIdParams = Static<typeof RolloutIdParams>;

/** Query of `GET /api/v1/rollouts`. */
export const RolloutListQuery = Type.Object({
  flag: Type.Optional(Type.String()),
  environment: Type.Optional(Type.String()),
  status: Type.Optional(RolloutState),
});
export type RolloutListQuery = Static<typeof RolloutListQuery>;

/** The actions `GET /api/v1/rollouts/:id/decisions?action=` filters on: one, or several joined by commas. */
export const DECISION_ACTION_FILTER_PATTERN =
  '^(rollback|advance|hold|complete)(,(rollback|advance|hold|complete)){0,3}$';

/** Query of `GET /api/v1/rollouts/:id/decisions`. */
export const DecisionListQuery = Type.Object({
  limit: Type.Optional(
    Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: 'page size (default 50, at most 500)' }),
  ),
  before: Type.Optional(
    Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'the `next` of the previous page' }),
  ),
  after: Type.Optional(
    Type.String({
      pattern: '^(0|[1-9][0-9]{0,15})$',
      description:
        'the `cursor` of an earlier reply: only the decisions written or updated since (a folded hold whose count grew comes again), oldest change first',
    }),
  ),
  action: Type.Optional(
    Type.String({
      pattern: DECISION_ACTION_FILTER_PATTERN,
      description: 'only these actions, e.g. `rollback,advance`',
    }),
  ),
});
export type DecisionListQuery = Static<typeof DecisionListQuery>;

// ------------------------------------------------------------------------------------------ plan & state

/** One stage as validated: reach in percent, minimum duration in milliseconds, minimum sample per arm. */
export const RolloutStageView = Type.Object({
  reach: Type.Number(),
  minDuration: Type.Number({ description: 'milliseconds' }),
  minUnitsPerArm: Type.Integer(),
  minEventsPerArm: Type.Integer(),
});
export type RolloutStageView = Static<typeof RolloutStageView>;

/** One guardrail as validated, with what the plan copied from the metric. */
export const RolloutGuardrailView = Type.Object({
  metric: Type.String(),
  margin: Type.Number(),
  required: Type.Boolean(),
  kind: MetricKind,
  direction: Direction,
  category: MetricCategory,
});
export type RolloutGuardrailView = Static<typeof RolloutGuardrailView>;

/** The canary guard: off, or the relative-harm threshold of the first stage. */
export const CanaryGuard = Type.Union([Type.Literal(false), Type.Object({ threshold: Type.Number() })]);

/** A validated rollout plan (packages/rollout's `RolloutPlan`). */
export const RolloutPlanView = Type.Object({
  id: Type.String(),
  flag: Type.String(),
  environment: Type.String(),
  treatment: Type.String(),
  control: Type.String(),
  stages: Type.Array(RolloutStageView),
  holdback: Type.Number(),
  guardrails: Type.Array(RolloutGuardrailView),
  mode: RolloutMode,
  canaryGuard: CanaryGuard,
  srmAction: SrmAction,
  finalGate: FinalGate,
});
export type RolloutPlanView = Static<typeof RolloutPlanView>;

/** One line of a rollout's history: an action (by a person or the controller) or a decision. */
export const HistoryEntry = Type.Object({
  at: IsoTime,
  kind: Type.Enum(['action', 'decision'] as const),
  action: Type.Union([RolloutAction, DecisionAction]),
  rule: Nullable(Type.String()),
  actor: Nullable(Type.String()),
  attempt: Type.Integer(),
  stageIndex: Type.Integer(),
  reach: Type.Number(),
});
export type HistoryEntry = Static<typeof HistoryEntry>;

// ------------------------------------------------------------------------------------------------ decisions

/** One sequential test at one look (z scale; a null boundary is +∞). */
export const TestLook = Type.Object({
  z: Estimate,
  boundary: Nullable(Type.Number()),
  rejected: Type.Boolean(),
  mode: Type.Enum(['group-sequential', 'confidence-sequence'] as const),
});

/** The statistics engine's summary of one guardrail at one look (packages/stats `GuardrailLookSummary`). */
export const GuardrailLookSummary = Type.Object({
  look: Type.Integer(),
  informationFraction: Estimate,
  information: Estimate,
  delta: Type.Number({ description: 'Treatment − control, absolute scale' }),
  se: Estimate,
  interval: Type.Tuple([Estimate, Estimate], { description: 'Two-sided always-valid interval for Δ' }),
  relativeLift: Estimate,
  relativeLiftSe: Estimate,
  relativeLiftInterval: Type.Tuple([Estimate, Estimate]),
  meanTreatment: Type.Number(),
  meanControl: Type.Number(),
  nTreatment: Type.Number(),
  nControl: Type.Number(),
  deterioration: TestLook,
  nonInferiority: Nullable(Type.Intersect([TestLook, Type.Object({ margin: Type.Number() })])),
  harmDetected: Type.Boolean(),
  nonInferior: Type.Boolean(),
  verdict: Type.Enum(['harm_detected', 'non_inferior', 'inconclusive'] as const),
});
export type GuardrailLookSummary = Static<typeof GuardrailLookSummary>;

/** Both arms' quantiles of a quantile guardrail at one look (packages/rollout `QuantileLook`). */
export const QuantileLook = Type.Object({
  q: Type.Number(),
  scope: QuantileScope,
  treatment: Type.Number({ description: "Treatment's quantile, in the metric's value unit" }),
  control: Type.Number({ description: "Control's quantile, in the metric's value unit" }),
  valuesTreatment: Type.Number(),
  valuesControl: Type.Number(),
  minimumInformationMet: Type.Boolean(),
});
export type QuantileLook = Static<typeof QuantileLook>;
/**
 * The interval of the test that decided a guardrail's look (packages/stats `decidingInterval`): the rollback
 * boundary when harm was detected, the non-inferiority boundary when it passed, else the always-valid
 * interval. The relative interval is on the log-ratio scale, so it never passes −100%.
 */
export const RelativeChange = Type.Object({
  test: Type.Enum(['rollback', 'non_inferiority', 'interval'] as const),
  multiplier: Estimate,
  lift: Estimate,
  lower: Estimate,
  upper: Estimate,
  absolute: Nullable(Type.Tuple([Type.Number(), Type.Number()])),
  z: Estimate,
  boundary: Estimate,
  margin: Estimate,
});
export type RelativeChange = Static<typeof RelativeChange>;

/** One guardrail at one look (packages/rollout `MetricLook`). */
export const DecisionMetricLook = Type.Object({
  metric: Type.String(),
  kind: MetricKind,
  direction: Direction,
  required: Type.Boolean(),
  margin: Type.Number({ description: 'Relative margin' }),
  status: Type.Enum(['no_data', 'insufficient', 'assessed'] as const),
  maxInformation: Nullable(Type.Number()),
  events: Nullable(PerArm),
  summary: Nullable(GuardrailLookSummary),
  canary: Nullable(
    Type.Object({ triggered: Type.Boolean(), lowerBound: Estimate, threshold: Type.Number() }),
  ),
  /** Quantile metrics: both arms' quantiles (the summary's means are then relative: control 1). */
  quantile: Type.Optional(Nullable(QuantileLook)),
  relativeChange: Nullable(RelativeChange),
});
export type DecisionMetricLook = Static<typeof DecisionMetricLook>;

/** The sample-ratio check at one look. */
export const SrmLook = Type.Object({
  pValue: Type.Number(),
  threshold: Type.Number(),
  mismatch: Type.Boolean(),
  logBayesFactor: Estimate,
  stages: Type.Array(
    Type.Object({
      stage: Type.Integer(),
      expected: Type.Tuple([Type.Number(), Type.Number()]),
      observed: Type.Tuple([Type.Number(), Type.Number()]),
      chiSquarePValue: Estimate,
    }),
  ),
});
export type SrmLook = Static<typeof SrmLook>;

/** The stage minimums at one look. */
export const StageChecks = Type.Object({
  elapsedMs: Type.Number(),
  minDurationMs: Type.Number(),
  unitsPerArm: PerArm,
  minUnitsPerArm: Type.Number(),
  minEventsPerArm: Type.Number(),
});
export type StageChecks = Static<typeof StageChecks>;

const Position = Type.Object({ status: RolloutState, stageIndex: Type.Integer(), reach: Type.Number() });

/** What an applied action did (times in epoch milliseconds, as packages/rollout records them). */
export const RolloutEvent = Type.Object({
  type: RolloutAction,
  at: Type.Number({ description: 'epoch milliseconds' }),
  actor: Type.String(),
  attempt: Type.Integer(),
  from: Position,
  to: Position,
  rule: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});
export type RolloutEvent = Static<typeof RolloutEvent>;

/** One look of the controller as stored: packages/rollout's `Decision` (without the next state) plus its id. */
export const DecisionView = Type.Object({
  id: Type.Integer(),
  rollout: Type.String(),
  actor: Type.String({ description: 'Always `controller`' }),
  at: IsoTime,
  attempt: Type.Integer(),
  status: RolloutState,
  stageIndex: Type.Integer(),
  reach: Type.Number(),
  action: DecisionAction,
  rule: DecisionRule,
  reason: Type.String({ description: 'A sentence a person understands, naming the metric and the numbers' }),
  toStage: Nullable(Type.Integer()),
  metrics: Type.Record(Type.String(), DecisionMetricLook),
  srm: Nullable(SrmLook),
  checks: Nullable(StageChecks),
  applied: Type.Boolean(),
  event: Nullable(RolloutEvent),
  count: Type.Integer({
    minimum: 1,
    description:
      'Consecutive identical looks this entry stands for (same action, rule, stage and attempt, not applied); the evidence and reason are the newest',
  }),
  firstAt: IsoTime,
  lastAt: IsoTime,
});
export type DecisionView = Static<typeof DecisionView>;

/** One page of decisions: newest first, or (with `after`) in the order they were written or updated. */
export const DecisionPage = Type.Object({
  decisions: Type.Array(DecisionView),
  next: Nullable(Type.String({ description: 'the `before` of the next (older) page; null on the last' })),
  cursor: Type.String({
    description:
      'Pass as `after` to get only what changed since this reply (new decisions and folded holds whose count grew)',
  }),
});
export type DecisionPage = Static<typeof DecisionPage>;

/** What the controller recommends and a person has not acted on yet (manual mode, or paused). */
export const Recommendation = Type.Object({
  action: DecisionAction,
  rule: DecisionRule,
  reason: Type.String(),
  at: IsoTime,
  toStage: Nullable(Type.Integer()),
  decision: Type.Integer({ description: 'Id of the decision' }),
});
export type Recommendation = Static<typeof Recommendation>;

// ------------------------------------------------------------------------------------------------- rollout

/** Who or what acted last on a rollout: the controller, or a person (`token:<name>`, a signed-in user). */
export const LastAction = Type.Object({
  actor: Type.String({ description: '`controller`, or the token or person that acted' }),
  by: Type.Enum(['controller', 'person'] as const),
  action: RolloutAction,
  at: IsoTime,
  rule: Nullable(Type.String({ description: "The decision rule of the controller's action" })),
  reason: Nullable(Type.String({ description: "The controller's reason; null for a person's action" })),
  stage: Type.Integer(),
  reach: Type.Number(),
});
export type LastAction = Static<typeof LastAction>;

/** A rollout: identity, state, the plan's fields, the latest decision and the recommendation. */
export const RolloutView = Type.Object({
  id: Type.String(),
  flag: Type.String(),
  environment: Type.String(),
  treatment: Type.String(),
  control: Type.String(),
  state: RolloutState,
  stage: Type.Integer({ description: 'Index of the current stage' }),
  reach: Type.Number({ description: 'Treatment reach served now, in percent' }),
  attempt: Type.Integer({ description: '0 while draft; each resume after a rollback starts the next' }),
  mode: RolloutMode,
  stages: Type.Array(RolloutStageView),
  holdback: Type.Number(),
  guardrails: Type.Array(RolloutGuardrailView),
  canaryGuard: CanaryGuard,
  srmAction: SrmAction,
  finalGate: FinalGate,
  health: RolloutHealth,
  alarm: Nullable(
    Type.Object(
      { reasons: Type.Array(RolloutAlarmReason, { minItems: 1 }) },
      { description: 'Why the rollout cannot decide (health `alarm`); null while it can' },
    ),
  ),
  version: DocumentVersion,
  startedAt: IsoTimeOrNull,
  stageStartedAt: IsoTimeOrNull,
  completedAt: IsoTimeOrNull,
  createdAt: IsoTime,
  updatedAt: IsoTime,
  history: Type.Array(HistoryEntry),
  plan: RolloutPlanView,
  latestDecision: Nullable(DecisionView),
  recommendation: Nullable(Recommendation),
  lastAction: Nullable(LastAction),
});
export type RolloutView = Static<typeof RolloutView>;

/** Optional body of the rollout actions: the version the action was chosen from. */
export const RolloutActionInput = Type.Union([
  Type.Null(),
  Type.Object({ version: ExpectedVersion }, { additionalProperties: false }),
]);
export type RolloutActionInput = Static<typeof RolloutActionInput>;

export const RolloutList = Type.Object({ rollouts: Type.Array(RolloutView) });
export type RolloutList = Static<typeof RolloutList>;

// ----------------------------------------------------------------------------------------------- forecast

/** Forecast of one stage (packages/rollout `StageForecast`). */
export const StageForecast = Type.Object({
  index: Type.Integer(),
  reach: Type.Number({ description: 'Treatment reach in percent' }),
  durationMs: Type.Number({ description: "The stage's minimum duration" }),
  expectedDurationMs: Type.Optional(
    Type.Number({
      description: 'Expected length: longer than the minimum when the minimum sample takes longer',
    }),
  ),
  expectedUnitsPerArm: PerArm,
  mdePerMetric: Type.Record(
    Type.String(),
    Nullable(Type.Object({ absolute: Type.Number(), relative: Nullable(Type.Number()) })),
    { description: 'Regression caught with 80% probability at the stage end; null when not forecastable' },
  ),
});
export type StageForecast = Static<typeof StageForecast>;

/** A guardrail's non-inferiority plan (packages/stats `NonInferiorityPlan`). */
export const NonInferiorityPlan = Type.Object({
  targetPower: Type.Number(),
  fixedHorizon: Estimate,
  inflationFactor: Estimate,
  requiredInformation: Estimate,
  plannedInformation: Type.Number(),
  reachablePower: Type.Number(),
  sufficient: Type.Boolean(),
});
export type NonInferiorityPlan = Static<typeof NonInferiorityPlan>;

/** Forecast of a whole plan (packages/rollout `PlanForecast`). */
export const PlanForecast = Type.Object({
  stages: Type.Array(StageForecast),
  maxInformation: Type.Record(Type.String(), Type.Number()),
  powerPerMetric: Type.Record(Type.String(), Type.Number()),
  nonInferiority: Type.Record(Type.String(), NonInferiorityPlan),
  allGuardrailsPass: Type.Number(),
  warnings: Type.Array(Type.String()),
});
export type PlanForecast = Static<typeof PlanForecast>;

const Source = Type.Enum(['observed', 'expected'] as const);

/** The reply of `GET /api/v1/rollouts/:id/plan`: the forecast and the traffic it assumed. */
export const PlanReply = Type.Object({
  rollout: Type.String(),
  traffic: Type.Object({
    unitsPerDay: Type.Number(),
    source: Type.Enum(['observed', 'expected', 'default'] as const),
    baselines: Type.Record(
      Type.String(),
      Type.Object({ mean: Type.Number(), variance: Type.Number(), source: Source }),
    ),
  }),
  forecast: PlanForecast,
  gatePower: Type.Optional(
    Nullable(
      Type.Object(
        {
          power: Type.Number(),
          targetPower: Type.Number(),
          unitsPerDay: Type.Number(),
          metrics: Type.Record(Type.String(), Type.Number()),
          durationFactor: Nullable(Type.Number()),
          stages: Type.Array(
            Type.Object({ index: Type.Integer(), reach: Type.Number(), minDurationMs: Type.Number() }),
          ),
          plannedGatedMs: Type.Number(),
          neededGatedMs: Nullable(Type.Number()),
          message: Type.String(),
        },
        {
          description:
            "Set when the plan passes its final gate with less than 80% probability when the change does no harm: the guardrails short of power, and the gated stages' minimum durations (ms) that would reach it (none when it takes over a year)",
        },
      ),
    ),
  ),
});
export type PlanReply = Static<typeof PlanReply>;

/** A warning of the plan dry run: a code a program can test and a sentence a person can act on. */
export const PlanWarning = Type.Object({
  code: Type.Enum(['flag_disabled', 'low_power', 'forecast'] as const),
  message: Type.String(),
});
export type PlanWarning = Static<typeof PlanWarning>;

/** The reply of `POST /api/v1/rollouts/plan`: the plan as `POST /rollouts` would store it, and its forecast. */
export const RolloutPlanPreview = Type.Object({
  plan: RolloutPlanView,
  forecast: PlanReply,
  requiredGuardrails: Type.Array(Type.Object({ metric: Type.String(), margin: Type.Number() }), {
    description: "The flag's surface requires these guardrails; they are in the plan and cannot be removed",
  }),
  flagEnabled: Type.Boolean({
    description: 'Whether the flag is on in the environment (a rollout of an off flag cannot start)',
  }),
  schedule: Type.Array(
    Type.Object({
      index: Type.Integer(),
      reach: Type.Number(),
      startsAfterMs: Type.Number({ description: 'Expected time from the start of the rollout' }),
      endsAfterMs: Type.Number(),
      detects: Type.Record(Type.String(), Estimate, {
        description:
          'Relative regression the rollback test catches with 80% probability by the end of the stage',
      }),
    }),
  ),
  warnings: Type.Array(PlanWarning),
});
export type RolloutPlanPreview = Static<typeof RolloutPlanPreview>;

/** The reply of `POST /api/v1/rollouts`: the draft rollout and its plan forecast. */
export const CreatedRollout = Type.Intersect([RolloutView, Type.Object({ forecast: PlanReply })]);
export type CreatedRollout = Static<typeof CreatedRollout>;

// -------------------------------------------------------------------------------------------------- chart

/** Query of `GET /api/v1/rollouts/:id/chart`. */
export const ChartQuery = Type.Object({
  after: Type.Optional(
    Type.String({
      pattern: '^(0|[1-9][0-9]{0,15})$',
      description: 'the `cursor` of an earlier reply: only the looks since',
    }),
  ),
  points: Type.Optional(
    Type.String({
      pattern: '^[1-9][0-9]{0,3}$',
      description:
        'most looks returned per reply (default 500, at most 5000); longer rollouts are downsampled',
    }),
  ),
});
export type ChartQuery = Static<typeof ChartQuery>;

const Column = Type.Array(Estimate);

/** One guardrail's columns, aligned with the looks (difference scale: treatment − control). */
export const ChartSeries = Type.Object({
  estimate: Column,
  lower: Column,
  upper: Column,
  rollback: Type.Array(Estimate, {
    description:
      'The difference at which the rollback test fires (h·b·SE); a look too early to spend α carries the last finite boundary of the attempt',
  }),
  margin: Type.Array(Estimate, { description: 'The non-inferiority margin on the difference scale (h·θ)' }),
  z: Column,
  crossed: Type.Array(Type.Boolean(), { description: 'The rollback test had fired by this look' }),
});
export type ChartSeries = Static<typeof ChartSeries>;

/**
 * The reply of `GET /api/v1/rollouts/:id/chart`: every look of the rollout (all attempts), oldest first, as
 * columns. Long rollouts are downsampled to at most `points` looks, always keeping the first and last look,
 * every stage change, every applied or recommended action and the look where a rollback test first fired.
 */
export const ChartHistory = Type.Object({
  rollout: Type.String(),
  cursor: Type.String({ description: 'Pass as `after` to get only the looks made since' }),
  total: Type.Integer({ description: 'Looks in the requested range before downsampling' }),
  downsampled: Type.Boolean(),
  at: Type.Array(Type.Number(), { description: 'Epoch milliseconds of each look' }),
  attempt: Type.Array(Type.Integer()),
  stage: Type.Array(Type.Integer()),
  reach: Type.Array(Type.Number()),
  action: Type.Array(DecisionAction),
  applied: Type.Array(Type.Boolean()),
  metrics: Type.Record(Type.String(), ChartSeries),
});
export type ChartHistory = Static<typeof ChartHistory>;

// ----------------------------------------------------------------------------------------------- evidence

/**
 * Sufficient statistics of one cohort and arm. The third-order sums (Σy³; for ratios Σy²d, Σyd², Σd³) are
 * absent when unknown, for statistics that were counting before the server kept them.
 */
export const ArmStats = Type.Object({
  n: Type.Number(),
  sumY: Type.Number(),
  sumY2: Type.Number(),
  sumY3: Type.Optional(Type.Number()),
  sumD: Type.Optional(Type.Number()),
  sumD2: Type.Optional(Type.Number()),
  sumYD: Type.Optional(Type.Number()),
  sumY2D: Type.Optional(Type.Number()),
  sumYD2: Type.Optional(Type.Number()),
  sumD3: Type.Optional(Type.Number()),
});
export type ArmStats = Static<typeof ArmStats>;

/** One sign's occupied histogram buckets: counts[j] counts bucket offset + j. */
const BucketStore = Type.Object({ offset: Type.Integer(), counts: Type.Array(Type.Number()) });

/** A quantile metric's log-bucketed histogram (packages/stats `QuantileSketch`). */
export const QuantileSketch = Type.Object({
  count: Type.Number(),
  sum: Type.Number(),
  zeroCount: Type.Number(),
  min: Nullable(Type.Number()),
  max: Nullable(Type.Number()),
  positive: BucketStore,
  negative: BucketStore,
});
export type QuantileSketch = Static<typeof QuantileSketch>;

/** Event-scope statistics of a quantile metric (packages/stats `EventQuantileStats`). */
export const EventQuantileStats = Type.Object({
  events: QuantileSketch,
  units: Type.Number(),
  sumN: Type.Number(),
  sumN2: Type.Number(),
  belowGrid: Type.Object({ sumC2: Type.Number(), sumCN: Type.Number() }),
  grid: Type.Object({
    offset: Type.Integer(),
    sumC2: Type.Array(Type.Number()),
    sumCN: Type.Array(Type.Number()),
  }),
});
export type EventQuantileStats = Static<typeof EventQuantileStats>;

const QuantileArmStats = Type.Union([QuantileSketch, EventQuantileStats]);

/** A quantile metric's statistics per cohort and arm, as `decide` reads them. */
export const QuantileEvidence = Type.Object({
  scope: QuantileScope,
  q: Type.Number(),
  cohorts: Type.Array(
    Type.Object({ stage: Type.Integer(), treatment: QuantileArmStats, control: QuantileArmStats }),
  ),
});

/** A quantile metric's comparison in the evidence reply: both arms' quantiles and their ratio. */
export const QuantileEstimates = Type.Object({
  q: Type.Number(),
  scope: QuantileScope,
  treatment: Type.Number({ description: "Treatment's quantile, in the metric's value unit" }),
  control: Type.Number({ description: "Control's quantile, in the metric's value unit" }),
  relativeDifference: Type.Number({ description: 'Q_T/Q_C − 1' }),
  relativeDifferenceSe: Type.Number(),
  nTreatment: Type.Number(),
  nControl: Type.Number(),
  valuesTreatment: Type.Number(),
  valuesControl: Type.Number(),
  minimumInformationMet: Type.Boolean(),
  unitVariance: Type.Number({ description: 'Per-unit variance of ln(Q_T/Q_C), for planning' }),
});
export type QuantileEstimates = Static<typeof QuantileEstimates>;

const ArmEstimate = Nullable(Type.Object({ n: Type.Number(), mean: Type.Number(), variance: Type.Number() }));

/**
 * Whether a metric's statistics are usable. An `invalid` metric (a stored statistic is not finite) is left out of
 * the decision, without data, while the other guardrails keep deciding.
 */
export const METRIC_VALIDITIES = ['valid', 'invalid'] as const;
export const MetricValidity = Type.Enum(METRIC_VALIDITIES);
export type MetricValidity = Static<typeof MetricValidity>;

/** One metric's estimates in the evidence reply. */
export const MetricEstimates = Type.Object({
  metric: Type.String(),
  kind: MetricKind,
  direction: Direction,
  hasData: Type.Boolean(),
  validity: MetricValidity,
  arms: Type.Object({ treatment: ArmEstimate, control: ArmEstimate }),
  combined: Nullable(
    Type.Object({
      delta: Type.Number(),
      variance: Type.Number(),
      se: Type.Number(),
      information: Estimate,
      meanControl: Type.Number(),
      meanTreatment: Type.Number(),
      varianceControl: Type.Number(),
      varianceTreatment: Type.Number(),
      nTreatment: Type.Number(),
      nControl: Type.Number(),
      cohortsUsed: Type.Integer(),
    }),
  ),
  relativeLift: Nullable(Type.Object({ lift: Estimate, se: Estimate })),
  quantile: Type.Optional(Nullable(QuantileEstimates)),
});
export type MetricEstimates = Static<typeof MetricEstimates>;

/** The reply of `GET /api/v1/rollouts/:id/evidence`: what `decide` reads, and the estimates. */
export const EvidenceReport = Type.Object({
  rollout: Type.String(),
  attempt: Type.Integer(),
  stage: Type.Integer(),
  state: RolloutState,
  evidence: Type.Object({
    attempt: Type.Integer(),
    units: PerArm,
    assignments: Type.Array(
      Type.Object({ stage: Type.Integer(), treatment: Type.Integer(), control: Type.Integer() }),
    ),
    metrics: Type.Record(
      Type.String(),
      Type.Object({
        hasData: Type.Boolean(),
        cohorts: Type.Array(Type.Object({ stage: Type.Integer(), treatment: ArmStats, control: ArmStats })),
        quantile: Type.Optional(QuantileEvidence),
        validity: MetricValidity,
        invalidReason: Type.Optional(
          Type.String({ description: 'Which stored statistic is unusable (only when validity is invalid)' }),
        ),
      }),
    ),
  }),
  estimates: Type.Array(MetricEstimates),
});
export type EvidenceReport = Static<typeof EvidenceReport>;
