/** Request and reply shapes of the experiment (A/B test) routes. */
import { type Static, Type } from 'typebox';
import { Direction, DocumentVersion, MetricCategory, MetricKind, Nullable } from './common.ts';
import {
  Estimate,
  GuardrailLookSummary,
  RolloutGuardrailInput,
  RolloutGuardrailView,
  RolloutStageInput,
  RolloutView,
  TestLook,
} from './rollouts.ts';

/** Lifecycle of an experiment (packages/rollout's state machine). */
export const ExperimentStatus = Type.Union([
  Type.Literal('draft'),
  Type.Literal('running'),
  Type.Literal('stopped'),
  Type.Literal('shipped'),
  Type.Literal('aborted'),
]);
export type ExperimentStatus = Static<typeof ExperimentStatus>;

/** Bodiless actions on an experiment (coverage and ship take a body). */
export const EXPERIMENT_SIMPLE_ACTIONS = ['start', 'stop', 'abort'] as const;
export type ExperimentSimpleAction = (typeof EXPERIMENT_SIMPLE_ACTIONS)[number];

const Baselines = Type.Record(
  Type.String(),
  Type.Object(
    { mean: Type.Number(), variance: Type.Optional(Type.Number({ exclusiveMinimum: 0 })) },
    { additionalProperties: false },
  ),
);

/** Body of `POST /api/v1/experiments`: the plan, plus the traffic the sample plan assumes. */
export const ExperimentInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 117 })),
    flag: Type.String(),
    environment: Type.String(),
    control: Type.String({ description: 'The variant every other variant is compared against' }),
    variants: Type.Array(
      Type.Object(
        { variant: Type.String(), weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 99 })) },
        { additionalProperties: false },
      ),
    ),
    coverage: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    successMetrics: Type.Array(
      Type.Object(
        { metric: Type.String(), mde: Type.Number({ exclusiveMinimum: 0 }) },
        { additionalProperties: false },
      ),
    ),
    guardrails: Type.Optional(Type.Array(RolloutGuardrailInput)),
    minDuration: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    minUnitsPerArm: Type.Optional(Type.Integer({ minimum: 1 })),
    mode: Type.Optional(Type.Union([Type.Literal('manual'), Type.Literal('automatic')])),
    srmAction: Type.Optional(Type.Union([Type.Literal('continue'), Type.Literal('abort')])),
    autoAbort: Type.Optional(
      Type.Boolean({ description: 'The controller aborts on a deterioration (default true)' }),
    ),
    expectedUnitsPerDay: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    expectedBaselines: Type.Optional(Baselines),
  },
  { additionalProperties: false },
);
export type ExperimentInput = Static<typeof ExperimentInput>;

export const ExperimentIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export type ExperimentIdParams = Static<typeof ExperimentIdParams>;

export const ExperimentListQuery = Type.Object(
  {
    flag: Type.Optional(Type.String()),
    environment: Type.Optional(Type.String()),
    status: Type.Optional(ExperimentStatus),
  },
  { additionalProperties: false },
);
export type ExperimentListQuery = Static<typeof ExperimentListQuery>;

/** Body of `POST /experiments/{id}/coverage`: the new coverage in percent (at least the current one). */
export const ExperimentCoverageInput = Type.Object(
  { coverage: Type.Number({ exclusiveMinimum: 0, maximum: 100 }) },
  { additionalProperties: false },
);
export type ExperimentCoverageInput = Static<typeof ExperimentCoverageInput>;

/** Body of `POST /experiments/{id}/ship`: the winner, and optionally the rollout's id, stages and mode. */
export const ExperimentShipInput = Type.Object(
  {
    variant: Type.String(),
    rolloutId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    stages: Type.Optional(Type.Array(RolloutStageInput)),
    mode: Type.Optional(Type.Union([Type.Literal('manual'), Type.Literal('automatic')])),
  },
  { additionalProperties: false },
);
export type ExperimentShipInput = Static<typeof ExperimentShipInput>;

/** One metric's sample requirement. */
export const MetricSampleView = Type.Object({
  metric: Type.String(),
  role: Type.Union([Type.Literal('success'), Type.Literal('guardrail')]),
  effect: Type.Number(),
  relativeEffect: Type.Number(),
  alpha: Type.Number(),
  power: Type.Number(),
  inflationFactor: Type.Number(),
  requiredInformation: Type.Number(),
  coveredUnits: Type.Number(),
});

/** The sample plan: units per arm per success metric and the expected duration at the traffic assumed. */
export const ExperimentSamplePlanView = Type.Object({
  experiment: Type.String(),
  traffic: Type.Object({
    unitsPerDay: Type.Number(),
    source: Type.Union([Type.Literal('observed'), Type.Literal('expected'), Type.Literal('default')]),
  }),
  metrics: Type.Array(MetricSampleView),
  coveredUnits: Type.Union([Type.Number(), Type.Null()]),
  unitsPerArm: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
  drivingMetric: Type.Union([Type.String(), Type.Null()]),
  coveredUnitsPerDay: Type.Number(),
  /** Expected duration in days; null when it cannot be planned (no baseline or no traffic). */
  durationDays: Type.Union([Type.Number(), Type.Null()]),
  warnings: Type.Array(Type.String()),
});
export type ExperimentSamplePlanView = Static<typeof ExperimentSamplePlanView>;

/** One look at one metric for one treatment variant against control (packages/rollout `ExperimentMetricLook`). */
export const ExperimentMetricResult = Type.Object({
  metric: Type.String(),
  variant: Type.String(),
  role: Type.Enum(['success', 'guardrail'] as const),
  kind: MetricKind,
  direction: Direction,
  mde: Nullable(Type.Number()),
  margin: Nullable(Type.Number()),
  status: Type.Enum(['no_data', 'insufficient', 'waiting_for_plan', 'assessed'] as const),
  maxInformation: Nullable(Type.Number()),
  /** Estimates per arm, the lift (absolute and relative) with its always-valid interval, the tests. */
  summary: Nullable(GuardrailLookSummary),
  superiority: Nullable(TestLook),
  verdict: Type.Enum(['better', 'worse', 'non_inferior', 'inconclusive', 'no_data'] as const),
});

/** One treatment variant's standing at one look. */
export const ExperimentVariantResult = Type.Object({
  variant: Type.String(),
  verdict: Type.Enum(['winner', 'blocked', 'harmful', 'inconclusive'] as const),
  better: Type.Array(Type.String()),
  worse: Type.Array(Type.String()),
  pendingGuardrails: Type.Array(Type.String()),
});

/** The sample-ratio check at one look. */
export const ExperimentSrmResult = Type.Object({
  pValue: Type.Number(),
  threshold: Type.Number(),
  mismatch: Type.Boolean(),
  epochs: Type.Array(
    Type.Object({
      epoch: Type.Integer(),
      expected: Type.Array(Type.Number()),
      observed: Type.Array(Type.Number()),
      chiSquarePValue: Estimate,
    }),
  ),
});

/** Results of an experiment: per metric and variant estimate, lift with interval, verdict, and the recommendation. */
export const ExperimentResults = Type.Object({
  experiment: Type.String(),
  at: Type.String({ format: 'date-time' }),
  status: ExperimentStatus,
  coverage: Type.Number(),
  recommendation: Type.Union([
    Type.Literal('ship'),
    Type.Literal('continue'),
    Type.Literal('abort'),
    Type.Literal('stop'),
  ]),
  rule: Type.String(),
  reason: Type.String(),
  winner: Type.Union([Type.String(), Type.Null()]),
  plannedUnits: Type.Union([Type.Number(), Type.Null()]),
  units: Type.Record(Type.String(), Type.Number()),
  /** Per metric key, per treatment variant. */
  metrics: Type.Record(Type.String(), Type.Record(Type.String(), ExperimentMetricResult)),
  /** Per treatment variant. */
  variants: Type.Record(Type.String(), ExperimentVariantResult),
  srm: Nullable(ExperimentSrmResult),
  applied: Type.Boolean(),
});
export type ExperimentResults = Static<typeof ExperimentResults>;

/** An experiment as the API returns it. */
export const ExperimentView = Type.Object({
  id: Type.String(),
  flag: Type.String(),
  environment: Type.String(),
  status: ExperimentStatus,
  control: Type.String(),
  variants: Type.Array(Type.Object({ variant: Type.String(), weight: Type.Number() })),
  coverage: Type.Number({ description: 'Percent of the bucket space served now (0 while draft)' }),
  plannedCoverage: Type.Number(),
  successMetrics: Type.Array(
    Type.Object({
      metric: Type.String(),
      mde: Type.Number({ description: 'Smallest relative lift worth detecting' }),
      kind: MetricKind,
      direction: Direction,
      category: MetricCategory,
    }),
  ),
  guardrails: Type.Array(RolloutGuardrailView),
  mode: Type.Union([Type.Literal('manual'), Type.Literal('automatic')]),
  autoAbort: Type.Boolean(),
  shippedVariant: Type.Union([Type.String(), Type.Null()]),
  /** The rollout `ship` created, once shipped. */
  rollout: Type.Union([Type.String(), Type.Null()]),
  /** The version an approval names (`POST …/approvals`). */
  version: DocumentVersion,
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  history: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      kind: Type.Enum(['action', 'decision'] as const),
      action: Type.Enum(['start', 'set_coverage', 'ship', 'stop', 'abort', 'continue'] as const),
      rule: Nullable(Type.String()),
      actor: Nullable(Type.String()),
      coverage: Type.Number(),
    }),
  ),
  /** The latest results the controller recorded; null before the first look. */
  latestResults: Type.Union([ExperimentResults, Type.Null()]),
});
export type ExperimentView = Static<typeof ExperimentView>;

export const ExperimentList = Type.Object({ experiments: Type.Array(ExperimentView) });
export type ExperimentList = Static<typeof ExperimentList>;

export const CreatedExperiment = Type.Intersect([
  ExperimentView,
  Type.Object({ samplePlan: ExperimentSamplePlanView }),
]);
export type CreatedExperiment = Static<typeof CreatedExperiment>;

/** Reply of `ship`: the shipped experiment and the running rollout of its winner. */
export const ShippedExperiment = Type.Object({ experiment: ExperimentView, rollout: RolloutView });
export type ShippedExperiment = Static<typeof ShippedExperiment>;

/** The body of `start`, `stop` and `abort`: none (or an empty object). */
export const ExperimentActionInput = Type.Union([
  Type.Null(),
  Type.Object({}, { additionalProperties: false }),
]);
export type ExperimentActionInput = Static<typeof ExperimentActionInput>;
