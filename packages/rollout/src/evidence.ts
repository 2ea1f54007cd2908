// What the server hands to `decide` at each look: sufficient statistics per metric, cohort and arm, and the
// assignment counts of the sample-ratio check. All counts are cumulative over the current attempt.

import type { EventQuantileStats, QuantileSketch, SufficientStats } from '@dimmer/stats';

export type { SufficientStats } from '@dimmer/stats';

/** One assignment cohort of one metric: units whose current epoch began in stage `stage`, per arm. */
export interface CohortEvidence {
  stage: number;
  treatment: SufficientStats;
  control: SufficientStats;
}

/**
 * A quantile metric's statistics per cohort and arm: a histogram sketch of the per-unit values (scope `unit`) or
 * the event-scope statistics (every event's value plus the per-unit counts the clustered variance needs).
 */
export type QuantileEvidence =
  | {
      scope: 'unit';
      q: number;
      cohorts: { stage: number; treatment: QuantileSketch; control: QuantileSketch }[];
    }
  | {
      scope: 'event';
      q: number;
      cohorts: { stage: number; treatment: EventQuantileStats; control: EventQuantileStats }[];
    };

/** One metric at one look. */
export interface MetricEvidence {
  /**
   * False while the metric's events have not been seen at all in this attempt (e.g. the SDK does not send
   * them yet): a required metric without data blocks advancing.
   */
  hasData: boolean;
  cohorts: CohortEvidence[];
  /** Quantile metrics: the sketches `decide` compares (`cohorts` then holds each arm's value count and sums). */
  quantile?: QuantileEvidence;
}

/** Units first assigned during one stage of this attempt, per arm (the sample-ratio check's counts). */
export interface StageAssignments {
  stage: number;
  treatment: number;
  control: number;
}

/** Everything `decide` needs from one look; plain JSON, cumulative over the attempt. */
export interface RolloutEvidence {
  /** The attempt the sums belong to; evidence from another attempt is refused. */
  attempt: number;
  /** Distinct units in each arm of the comparison so far (the stage minimum counts these). */
  units: { treatment: number; control: number };
  /**
   * Per stage, units whose first exposure in this attempt happened during that stage (units moving from
   * control to treatment are not counted again): their expected split is the stage's allocation.
   */
  assignments: StageAssignments[];
  /** Per guardrail metric key. A guardrail missing here counts as having no data. */
  metrics: Record<string, MetricEvidence>;
  /**
   * Expected new units per day entering the comparison (both arms), used to forecast I_max; when absent it
   * is estimated from `units` and the time since the attempt started.
   */
  unitsPerDay?: number;
}
