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
import type { CohortStatsRow, RolloutAnalysis, RolloutRecord } from './rollouts.store.ts';

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

type MetricKind = RolloutRecord['metrics'][number]['kind'];

/** The third-order sums the evidence of a metric of this kind carries. */
const THIRD_ORDER: Record<MetricKind, readonly ThirdOrderSum[]> = {
  proportion: ['sumY3'],
  mean: ['sumY3'],
  ratio: ['sumY3', 'sumY2D', 'sumYD2', 'sumD3'],
};

type ThirdOrderSum = 'sumY3' | 'sumY2D' | 'sumYD2' | 'sumD3';

/** An arm without units: every sum the metric uses is known to be 0. */
function zero(kind: MetricKind): SufficientStats {
  const out: SufficientStats = { n: 0, sumY: 0, sumY2: 0, sumD: 0, sumD2: 0, sumYD: 0 };
  for (const field of THIRD_ORDER[kind]) out[field] = 0;
  return out;
}

/** The sum of two arms' statistics; a third-order sum is kept only when both sides know it. */
function add(a: SufficientStats, b: SufficientStats): SufficientStats {
  const out: SufficientStats = {
    n: a.n + b.n,
    sumY: a.sumY + b.sumY,
    sumY2: a.sumY2 + b.sumY2,
    sumD: (a.sumD ?? 0) + (b.sumD ?? 0),
    sumD2: (a.sumD2 ?? 0) + (b.sumD2 ?? 0),
    sumYD: (a.sumYD ?? 0) + (b.sumYD ?? 0),
  };
  for (const field of ['sumY3', 'sumY2D', 'sumYD2', 'sumD3'] as const) {
    const x = a[field];
    const y = b[field];
    if (x !== undefined && y !== undefined) out[field] = x + y;
  }
  return out;
}

/**
 * An arm's statistics as the stats package reads them: Σy³ when stored; for a ratio metric Σy²d, Σyd², Σd³ only
 * when all three are stored (a row older than these columns has none, and its skewness is unknown).
 */
function armStats(kind: MetricKind, row: CohortStatsRow): SufficientStats {
  const out: SufficientStats = {
    n: row.n,
    sumY: row.sumY,
    sumY2: row.sumY2,
    sumD: row.sumD,
    sumD2: row.sumD2,
    sumYD: row.sumYD,
  };
  if (row.sumY3 !== undefined) out.sumY3 = row.sumY3;
  if (kind === 'ratio' && row.sumY2D !== undefined && row.sumYD2 !== undefined && row.sumD3 !== undefined) {
    out.sumY2D = row.sumY2D;
    out.sumYD2 = row.sumYD2;
    out.sumD3 = row.sumD3;
  }
  return out;
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
        cohort = { stage: row.cohort, treatment: zero(definition.kind), control: zero(definition.kind) };
        byCohort.set(row.cohort, cohort);
      }
      cohort[row.arm] = armStats(definition.kind, row);
      if (row.sumY !== 0 || row.sumD !== 0) seen = true;
    }
    const cohorts = [...byCohort.values()].sort((a, b) => a.stage - b.stage);
    metrics[definition.key] = { hasData: seen, cohorts };
    const pooled = cohorts.reduce(
      (acc, c) => ({ treatment: add(acc.treatment, c.treatment), control: add(acc.control, c.control) }),
      { treatment: zero(definition.kind), control: zero(definition.kind) },
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
