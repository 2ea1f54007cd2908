/** How a surface holdback's statistics are named in the analysis tables (shared with ingestion). */

/** The arm names of a holdback analysis: units held back, and everyone else on the surface. */
export const HOLDBACK_ARM = 'control';
export const REST_ARM = 'treatment';

/** The analysis id of a surface holdback's statistics in one environment (rollout ids have no `:`). */
export function holdbackAnalysisKey(surface: string, environment: string): string {
  return `holdback:${environment}:${surface}`;
}
