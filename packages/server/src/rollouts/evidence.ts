/**
 * The evidence of a rollout attempt from its cohort statistics: packages/rollout's `RolloutEvidence` (what
 * `decide` reads), plus the stats package's estimates per metric for people and the dashboard.
 *
 * A metric whose stored statistics are not finite (or whose estimates come out non-finite) is reported with
 * `validity: 'invalid'` and an `invalidReason`, and handed to `decide` without data: only that guardrail stops
 * informing decisions while the others keep deciding. The builder never fails for data reasons.
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

/** Whether a metric's statistics can be used: an `invalid` one is left out of the decision. */
export type MetricValidity = 'valid' | 'invalid';

/** One metric's evidence as reported: what `decide` reads plus its validity. */
export interface ReportedMetricEvidence extends MetricEvidence {
  validity: MetricValidity;
  /** Which statistic is unusable; only when `validity` is `invalid`. */
  invalidReason?: string;
}

/** Estimates of one metric: per arm over all cohorts, and the cohort-combined comparison. */
export interface MetricEstimates {
  metric: string;
  kind: 'proportion' | 'mean' | 'ratio';
  direction: 'higher_is_worse' | 'lower_is_worse';
  hasData: boolean;
  validity: MetricValidity;
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
  evidence: RolloutEvidence & { metrics: Record<string, ReportedMetricEvidence> };
  estimates: MetricEstimates[];
}

type Definition = RolloutRecord['metrics'][number];
type MetricKind = Definition['kind'];

/** The third-order sums the evidence of a metric of this kind carries. */
const THIRD_ORDER: Record<MetricKind, readonly ThirdOrderSum[]> = {
  proportion: ['sumY3'],
  mean: ['sumY3'],
  ratio: ['sumY3', 'sumY2D', 'sumYD2', 'sumD3'],
};

type ThirdOrderSum = 'sumY3' | 'sumY2D' | 'sumYD2' | 'sumD3';

/** An arm without units: every sum the metric uses is known to be 0. */
export function zero(kind: MetricKind): SufficientStats {
  const out: SufficientStats = { n: 0, sumY: 0, sumY2: 0, sumD: 0, sumD2: 0, sumYD: 0 };
  for (const field of THIRD_ORDER[kind]) out[field] = 0;
  return out;
}

const ARMS = ['treatment', 'control'] as const;
const STAT_FIELDS = ['n', 'sumY', 'sumY2', 'sumD', 'sumD2', 'sumYD'] as const;

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

/** Whether a stored third-order sum can be used (a non-finite one is treated as unknown). */
function known(sum: number | undefined): sum is number {
  return sum !== undefined && Number.isFinite(sum);
}

/**
 * An arm's statistics as the stats package reads them: Σy³ when stored; for a ratio metric Σy²d, Σyd², Σd³ only
 * when all three are stored (a row older than these columns has none, and its skewness is unknown).
 */
export function armStats(kind: MetricKind, row: Omit<CohortStatsRow, 'arm'>): SufficientStats {
  const out: SufficientStats = {
    n: row.n,
    sumY: row.sumY,
    sumY2: row.sumY2,
    sumD: row.sumD,
    sumD2: row.sumD2,
    sumYD: row.sumYD,
  };
  if (known(row.sumY3)) out.sumY3 = row.sumY3;
  if (kind === 'ratio' && known(row.sumY2D) && known(row.sumYD2) && known(row.sumD3)) {
    out.sumY2D = row.sumY2D;
    out.sumYD2 = row.sumYD2;
    out.sumD3 = row.sumD3;
  }
  return out;
}

/** The first unusable statistic of a metric's cohorts, named, or null when every one is a finite number. */
function statsProblem(cohorts: readonly CohortEvidence[]): string | null {
  for (const c of cohorts)
    for (const arm of ARMS)
      for (const field of STAT_FIELDS) {
        const value: unknown = c[arm][field] ?? 0;
        if (typeof value !== 'number' || !Number.isFinite(value) || (field === 'n' && value < 0))
          return `the stored ${field} of the ${arm} arm in cohort ${c.stage} is ${String(value)}, not a finite number`;
      }
  return null;
}

/** Whether every number inside `value` (objects and arrays, recursively) is finite. */
function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (typeof value === 'object' && value !== null) return Object.values(value).every(allFinite);
  return true;
}

/** The estimates of one metric whose statistics are finite. */
function estimateMetric(definition: Definition, cohorts: CohortEvidence[], seen: boolean): MetricEstimates {
  const pooled = cohorts.reduce(
    (acc, c) => ({ treatment: add(acc.treatment, c.treatment), control: add(acc.control, c.control) }),
    { treatment: zero(definition.kind), control: zero(definition.kind) },
  );
  const combined = combineCohorts(definition.kind, cohorts);
  return {
    metric: definition.key,
    kind: definition.kind,
    direction: definition.direction,
    hasData: seen,
    validity: 'valid',
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
  };
}

/** A metric left out of the decision: no data for `decide`, the reason for people. */
function invalidMetric(definition: Definition, reason: string): [ReportedMetricEvidence, MetricEstimates] {
  return [
    { hasData: false, cohorts: [], validity: 'invalid', invalidReason: reason },
    {
      metric: definition.key,
      kind: definition.kind,
      direction: definition.direction,
      hasData: false,
      validity: 'invalid',
      arms: { treatment: null, control: null },
      combined: null,
      relativeLift: null,
    },
  ];
}

/** The evidence and estimates of one metric from its cohorts; an unusable metric is marked invalid. */
function metricReport(
  definition: Definition,
  cohorts: CohortEvidence[],
  seen: boolean,
): [ReportedMetricEvidence, MetricEstimates] {
  const problem = statsProblem(cohorts);
  if (problem !== null) return invalidMetric(definition, problem);
  let estimates: MetricEstimates;
  try {
    estimates = estimateMetric(definition, cohorts, seen);
  } catch (error) {
    return invalidMetric(definition, `its estimates cannot be computed: ${(error as Error).message}`);
  }
  if (!allFinite(estimates)) return invalidMetric(definition, 'its estimates are not finite numbers');
  return [{ hasData: seen, cohorts, validity: 'valid' }, estimates];
}

/** Builds the evidence and estimates of a rollout's current attempt; O(cohorts × metrics). */
export function buildEvidence(rollout: RolloutRecord, analysis: RolloutAnalysis): EvidenceReport {
  const metrics: Record<string, ReportedMetricEvidence> = {};
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
    const [evidence, estimate] = metricReport(definition, cohorts, seen);
    metrics[definition.key] = evidence;
    estimates.push(estimate);
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
