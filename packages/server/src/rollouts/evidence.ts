/**
 * The evidence of a rollout attempt from its cohort statistics: exactly packages/rollout's `RolloutEvidence`
 * (what `decide` reads), plus the stats package's estimates per metric for people and the dashboard.
 */
import type { CohortEvidence, MetricEvidence, RolloutEvidence } from '@dimmer/rollout';
import {
  type ArmEstimate,
  type CombinedEstimate,
  combineCohorts,
  estimateArm,
  relativeLift,
  type SufficientStats,
} from '@dimmer/stats';
import type { RolloutAnalysis, RolloutRecord } from './rollouts.store.ts';

/** Estimates of one metric: per arm over all cohorts, and the cohort-combined comparison. */
export interface MetricEstimates {
  metric: string;
  kind: 'proportion' | 'mean' | 'ratio';
  direction: 'higher_is_worse' | 'lower_is_worse';
  hasData: boolean;
  /** Per arm, the cohorts' statistics summed (null with fewer than 2 units). */
  arms: { treatment: ArmEstimate | null; control: ArmEstimate | null };
  /** Treatment − control combined over cohorts with inverse-variance weights; null while no cohort is usable. */
  combined: CombinedEstimate | null;
  /** μ_T/μ_C − 1 of the combined means, with its delta-method standard error. */
  relativeLift: { lift: number; se: number } | null;
}

/** The reply of `GET /api/v1/rollouts/{id}/evidence`. */
export interface EvidenceReport {
  rollout: string;
  attempt: number;
  stage: number;
  state: RolloutRecord['state'];
  evidence: RolloutEvidence;
  estimates: MetricEstimates[];
}

function zero(): SufficientStats {
  return { n: 0, sumY: 0, sumY2: 0, sumD: 0, sumD2: 0, sumYD: 0 };
}

function add(a: SufficientStats, b: SufficientStats): SufficientStats {
  return {
    n: a.n + b.n,
    sumY: a.sumY + b.sumY,
    sumY2: a.sumY2 + b.sumY2,
    sumD: (a.sumD ?? 0) + (b.sumD ?? 0),
    sumD2: (a.sumD2 ?? 0) + (b.sumD2 ?? 0),
    sumYD: (a.sumYD ?? 0) + (b.sumYD ?? 0),
  };
}

/** Builds the evidence and estimates of a rollout's current attempt; O(cohorts × metrics). */
export function buildEvidence(rollout: RolloutRecord, analysis: RolloutAnalysis): EvidenceReport {
  const metrics: Record<string, MetricEvidence> = {};
  const estimates: MetricEstimates[] = [];
  for (const definition of rollout.metrics) {
    const byCohort = new Map<number, CohortEvidence>();
    let seen = false;
    for (const row of analysis.stats) {
      if (row.metric !== definition.key) continue;
      let cohort = byCohort.get(row.cohort);
      if (!cohort) {
        cohort = { stage: row.cohort, treatment: zero(), control: zero() };
        byCohort.set(row.cohort, cohort);
      }
      cohort[row.arm] = {
        n: row.n,
        sumY: row.sumY,
        sumY2: row.sumY2,
        sumD: row.sumD,
        sumD2: row.sumD2,
        sumYD: row.sumYD,
      };
      if (row.sumY !== 0 || row.sumD !== 0) seen = true;
    }
    const cohorts = [...byCohort.values()].sort((a, b) => a.stage - b.stage);
    metrics[definition.key] = { hasData: seen, cohorts };
    const pooled = cohorts.reduce(
      (acc, c) => ({ treatment: add(acc.treatment, c.treatment), control: add(acc.control, c.control) }),
      { treatment: zero(), control: zero() },
    );
    const combined = combineCohorts(definition.kind, cohorts);
    estimates.push({
      metric: definition.key,
      kind: definition.kind,
      direction: definition.direction,
      hasData: seen,
      arms: {
        treatment: estimateArm(definition.kind, pooled.treatment),
        control: estimateArm(definition.kind, pooled.control),
      },
      combined,
      relativeLift:
        combined === null || combined.meanControl === 0
          ? null
          : (({ lift, se }) => ({ lift, se }))(
              relativeLift({
                meanTreatment: combined.meanTreatment,
                meanControl: combined.meanControl,
                varianceTreatment: combined.varianceTreatment,
                varianceControl: combined.varianceControl,
              }),
            ),
    });
  }
  const units = { treatment: 0, control: 0 };
  const assignments = new Map<number, { stage: number; treatment: number; control: number }>();
  for (const row of analysis.units) {
    units[row.arm] += row.epochs;
    const a = assignments.get(row.cohort) ?? { stage: row.cohort, treatment: 0, control: 0 };
    a[row.arm] += row.assigned;
    assignments.set(row.cohort, a);
  }
  return {
    rollout: rollout.id,
    attempt: rollout.attempt,
    stage: rollout.stage,
    state: rollout.state,
    evidence: {
      attempt: rollout.attempt,
      units,
      assignments: [...assignments.values()].sort((a, b) => a.stage - b.stage),
      metrics,
    },
    estimates,
  };
}
