/**
 * The holdback report: everyone else on the surface ("rest", arm `treatment` of the analysis) against the
 * surface holdback (arm `control`), per required metric, from the statistics ingestion keeps under analysis id
 * `holdback:<environment>:<surface>` (no raw event is read). Per metric: arm means, the cohort-combined difference, the
 * relative lift with an always-valid (normal-mixture confidence sequence) interval on the log-ratio scale, and a
 * verdict in the metric's harm direction. Pure.
 */
import type { HoldbackMetricReport, HoldbackReport, SurfaceHoldbackView } from '@dimmer/api';
import { combineCohorts, confidenceSequenceHalfWidth, relativeLift } from '@dimmer/stats';
import type { MetricDefinition } from '../metrics/index.ts';
import { cohortArmStats, emptyArmStats, type RolloutAnalysis } from '../rollouts/index.ts';
import { HOLDBACK_ARM, REST_ARM } from './holdback-naming.ts';

/** Two-sided level of the report's always-valid intervals. */
export const HOLDBACK_REPORT_ALPHA = 0.05;
/** rest/holdback − 1 with exp(ln ratio ± k·SE_log) − 1 (always above −100%); null when a mean is not positive. */
function logRatio(t: number, c: number, seRel: number, k: number): [number, number] | null {
  if (!(t > 0 && c > 0) || !Number.isFinite(seRel) || !Number.isFinite(k)) return null;
  const seLog = (seRel * c) / t;
  const l = Math.log(t / c);
  return [Math.exp(l - k * seLog) - 1, Math.exp(l + k * seLog) - 1];
}

function metricReport(definition: MetricDefinition, analysis: RolloutAnalysis): HoldbackMetricReport {
  const kind = definition.kind;
  const byCohort = new Map<
    number,
    { treatment: ReturnType<typeof emptyArmStats>; control: ReturnType<typeof emptyArmStats> }
  >();
  let seen = false;
  for (const row of analysis.stats) {
    if (row.metric !== definition.key) continue;
    const cohort = byCohort.get(row.cohort) ?? {
      treatment: emptyArmStats(kind),
      control: emptyArmStats(kind),
    };
    cohort[row.arm] = cohortArmStats(kind, row);
    byCohort.set(row.cohort, cohort);
    if (row.sumY !== 0 || row.sumD !== 0) seen = true;
  }
  const cohorts = [...byCohort.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  const nOf = (arm: 'treatment' | 'control') => cohorts.reduce((sum, c) => sum + c[arm].n, 0);
  const base = {
    metric: definition.key,
    kind,
    direction: definition.direction,
    hasData: seen,
    holdback: { n: nOf('control'), mean: null as number | null },
    rest: { n: nOf('treatment'), mean: null as number | null },
  };
  let combined: ReturnType<typeof combineCohorts> = null;
  try {
    combined = seen ? combineCohorts(kind, cohorts) : null;
  } catch {
    combined = null;
  }
  if (combined === null || !Number.isFinite(combined.se))
    return {
      ...base,
      delta: null,
      se: null,
      relativeLift: null,
      interval: null,
      verdict: seen ? 'inconclusive' : 'no_data',
    };
  const n = combined.nTreatment + combined.nControl;
  // Tuned to the data at hand: the interval is tightest around the current sample and valid at every look.
  const halfWidth = confidenceSequenceHalfWidth({
    se: combined.se,
    n,
    tuningN: n,
    alpha: HOLDBACK_REPORT_ALPHA,
    sides: 2,
  });
  const lift = relativeLift({
    meanTreatment: combined.meanTreatment,
    meanControl: combined.meanControl,
    varianceTreatment: combined.varianceTreatment,
    varianceControl: combined.varianceControl,
  });
  const k = combined.se > 0 ? halfWidth / combined.se : Number.POSITIVE_INFINITY;
  const interval = logRatio(combined.meanTreatment, combined.meanControl, lift.se, k);
  const lower = combined.delta - halfWidth;
  const upper = combined.delta + halfWidth;
  const harm = definition.direction === 'higher_is_worse' ? 1 : -1;
  const verdict =
    lower > 0 || upper < 0 ? (harm * combined.delta > 0 ? 'worse' : 'better') : ('inconclusive' as const);
  return {
    ...base,
    holdback: { n: base.holdback.n, mean: combined.meanControl },
    rest: { n: base.rest.n, mean: combined.meanTreatment },
    delta: combined.delta,
    se: combined.se,
    relativeLift: Number.isFinite(lift.lift) ? lift.lift : null,
    interval,
    verdict,
  };
}

/** The report of a holdback from its analysis. */
export function holdbackReport(input: {
  surface: string;
  environment: string;
  at: number;
  holdback: SurfaceHoldbackView;
  metrics: readonly MetricDefinition[];
  analysis: RolloutAnalysis;
}): HoldbackReport {
  const units = { holdback: 0, rest: 0 };
  for (const row of input.analysis.units) {
    if (row.arm === HOLDBACK_ARM) units.holdback += row.epochs;
    if (row.arm === REST_ARM) units.rest += row.epochs;
  }
  return {
    surface: input.surface,
    environment: input.environment,
    at: new Date(input.at).toISOString(),
    holdback: input.holdback,
    units,
    alpha: HOLDBACK_REPORT_ALPHA,
    metrics: input.metrics.map((m) => metricReport(m, input.analysis)),
  };
}
