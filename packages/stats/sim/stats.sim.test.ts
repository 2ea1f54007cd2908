// Reduced acceptance simulation (2,000 replications; bounds widen with the larger Monte Carlo error).
import { describe, expect, it } from 'vitest';
import { runAll } from './scenarios.ts';

const REDUCED_REPS = 2_000;

describe('statistics acceptance simulation (reduced)', () => {
  const rows = runAll(REDUCED_REPS, () => process.cpuUsage().user / 1000);
  for (const row of rows.filter((r) => r.pass !== null)) {
    it(row.scenario, () => {
      // Per-metric A/A rows carry the verdict of the exact binomial gate with Holm over all of them.
      expect(row.pass, `${row.scenario}: measured ${row.measured}, target ${row.target}`).toBe(true);
    });
  }
});
