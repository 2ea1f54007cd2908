// Reduced acceptance simulation (2,000 replications; bounds widen with the larger Monte Carlo error).
import { describe, expect, it } from 'vitest';
import { runAll } from './scenarios.ts';

const REDUCED_REPS = 2_000;

describe('statistics acceptance simulation (reduced)', () => {
  const rows = runAll(REDUCED_REPS, () => performance.now());
  for (const row of rows.filter((r) => r.pass !== null)) {
    it(row.scenario, () => {
      // Per-metric A/A rows are many simultaneous checks of one bound; they are gated on the bound that
      // allows for their number (see Row.multiplicityBound). Every other row is gated on its own verdict.
      const pass = row.multiplicityBound === undefined ? row.pass : row.measured <= row.multiplicityBound;
      expect(pass, `${row.scenario}: measured ${row.measured}, target ${row.target}`).toBe(true);
    });
  }
});
