/**
 * The evidence of a running experiment from the statistics ingestion keeps per variant (analysis id
 * `experiment:<id>`, one arm per variant, one cohort per coverage epoch): what packages/rollout's
 * `decideExperiment` reads. O(cohorts × variants × metrics); raw events are never read here.
 */
import type { ExperimentEvidence, ExperimentMetricEvidence, ExperimentPlan } from '@dimmer/rollout';
import type { SufficientStats } from '@dimmer/stats';
import type { MetricDefinition } from '../metrics/index.ts';
import { cohortArmStats, emptyArmStats, type RolloutAnalysis } from '../rollouts/index.ts';

/** The analysis id of an experiment's statistics (rollout ids have no `:`, so the two never meet). */
export function experimentAnalysisKey(id: string): string {
  return `experiment:${id}`;
}

/** The attempt number an experiment's statistics are kept under (an experiment runs once). */
export const EXPERIMENT_ATTEMPT = 1;

/** Builds `decideExperiment`'s evidence from the stored per-variant statistics. */
export function experimentEvidence(
  plan: ExperimentPlan,
  metrics: readonly MetricDefinition[],
  analysis: RolloutAnalysis,
): ExperimentEvidence {
  const variants = plan.variants.map((v) => v.variant);
  const known = new Set(variants);
  const units: Record<string, number> = {};
  for (const v of variants) units[v] = 0;
  const assignments = new Map<number, Record<string, number>>();
  for (const row of analysis.units) {
    if (!known.has(row.arm)) continue;
    units[row.arm] = (units[row.arm] ?? 0) + row.epochs;
    let counts = assignments.get(row.cohort);
    if (counts === undefined) {
      counts = Object.fromEntries(variants.map((v) => [v, 0]));
      assignments.set(row.cohort, counts);
    }
    counts[row.arm] = (counts[row.arm] ?? 0) + row.assigned;
  }
  const out: Record<string, ExperimentMetricEvidence> = {};
  for (const definition of metrics) {
    const cohorts = new Map<number, Record<string, SufficientStats>>();
    let seen = false;
    for (const row of analysis.stats) {
      if (row.metric !== definition.key || !known.has(row.arm)) continue;
      let arms = cohorts.get(row.cohort);
      if (arms === undefined) {
        arms = Object.fromEntries(variants.map((v) => [v, emptyArmStats(definition.kind)]));
        cohorts.set(row.cohort, arms);
      }
      arms[row.arm] = cohortArmStats(definition.kind, row);
      if (row.sumY !== 0 || row.sumD !== 0) seen = true;
    }
    out[definition.key] = {
      hasData: seen,
      cohorts: [...cohorts.entries()].sort(([a], [b]) => a - b).map(([epoch, arms]) => ({ epoch, arms })),
    };
  }
  return {
    units,
    assignments: [...assignments.entries()]
      .sort(([a], [b]) => a - b)
      .map(([epoch, counts]) => ({ epoch, counts })),
    metrics: out,
  };
}
