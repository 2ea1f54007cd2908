// Reduced quantile simulation: few replications (the bounds widen with the Monte Carlo error); the full run is
// `npm run sim:stats`.
import { describe, expect, it } from 'vitest';
import { QUANTILE_SEED, quantileScenarios } from './quantile-scenarios.ts';

const REDUCED_REPS = { unit: 150, event: 40 };

describe('quantile metrics simulation (reduced)', () => {
  const rows = quantileScenarios(REDUCED_REPS, QUANTILE_SEED);
  it('reports A/A and power rows for both scopes and both tails', () => {
    expect(rows.filter((r) => r.scenario.startsWith('Q. A/A false rollback')).length).toBe(8);
    expect(rows.some((r) => r.scenario.includes('event scope: p99 guardrail rolls back by day 7'))).toBe(
      true,
    );
  });
  for (const row of rows.filter((r) => r.pass !== null)) {
    it(row.scenario, () => {
      expect(row.pass, `${row.scenario}: measured ${row.measured}, target ${row.target}`).toBe(true);
    });
  }
});
