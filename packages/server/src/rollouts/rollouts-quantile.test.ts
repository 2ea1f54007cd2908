/**
 * Quantile guardrails through the HTTP API with simulated traffic and the controller: a change that makes the
 * slowest 3% of page loads 60% slower and the rest 5% faster (p99 up by about 60%, mean within 1%) is rolled
 * back on the p99 guardrail, in unit scope and in event scope (requests clustered by unit), while the same
 * traffic with identical arms (A/A) is not. Seeded, so every run is the same.
 */
import { describe, expect, it } from 'vitest';
import { runLatencyRollout as runRollout } from '../../testing/quantile-sim.ts';

describe('quantile guardrails in a rollout', () => {
  it('roll back a p99 regression whose mean barely moves (unit scope)', async () => {
    const { rollout, evidence } = await runRollout({
      regressed: true,
      guardrails: ['page_load_p99', 'page_load_mean'],
      steps: 8,
      seed: 71,
    });
    expect(rollout.state, rollout.latestDecision?.reason).toBe('rolled_back');
    const decision = rollout.latestDecision;
    expect(decision.rule).toBe('deterioration');
    expect(decision.reason).toMatch(/^page_load_p99 is worse in treatment/);
    expect(decision.reason).toMatch(/p99 \d+(\.\d+)? vs \d+/);
    const look = decision.metrics.page_load_p99;
    expect(look.kind).toBe('quantile');
    expect(look.quantile.treatment / look.quantile.control).toBeGreaterThan(1.3);
    // The mean guardrail saw no harm: its arms are within a few percent.
    expect(decision.metrics.page_load_mean.summary.harmDetected).toBe(false);
    const mean = evidence.estimates.find((e: { metric: string }) => e.metric === 'page_load_mean');
    expect(Math.abs(mean.arms.treatment.mean / mean.arms.control.mean - 1)).toBeLessThan(0.04);
    const p99 = evidence.estimates.find((e: { metric: string }) => e.metric === 'page_load_p99');
    expect(p99.quantile.treatment).toBeGreaterThan(p99.quantile.control);
  }, 180_000);

  it('roll back the same regression of request latency in event scope', async () => {
    const { rollout, evidence } = await runRollout({
      regressed: true,
      guardrails: ['request_p99'],
      steps: 8,
      seed: 72,
    });
    expect(rollout.state, rollout.latestDecision?.reason).toBe('rolled_back');
    expect(rollout.latestDecision.rule).toBe('deterioration');
    const look = rollout.latestDecision.metrics.request_p99;
    expect(look.quantile.scope).toBe('event');
    // Percentiles of requests, several per unit: more values than units in each arm.
    const est = evidence.estimates.find((e: { metric: string }) => e.metric === 'request_p99');
    expect(est.quantile.valuesTreatment).toBeGreaterThan(2 * est.quantile.nTreatment);
    expect(est.quantile.valuesControl).toBeGreaterThan(2 * est.quantile.nControl);
  }, 180_000);

  it('do not roll back identical arms (A/A), with the minimum information met and α spent', async () => {
    const { rollout, evidence } = await runRollout({
      regressed: false,
      guardrails: ['page_load_p99', 'request_p99'],
      steps: 6,
      seed: 73,
    });
    expect(rollout.state, rollout.latestDecision?.reason).toBe('running');
    for (const metric of ['page_load_p99', 'request_p99']) {
      const look = rollout.latestDecision.metrics[metric];
      expect(look.status).toBe('assessed');
      expect(look.quantile.minimumInformationMet).toBe(true);
      expect(look.summary.deterioration.boundary).not.toBeNull();
      expect(look.summary.harmDetected).toBe(false);
      const est = evidence.estimates.find((e: { metric: string }) => e.metric === metric);
      expect(Math.abs(est.quantile.treatment / est.quantile.control - 1)).toBeLessThan(0.2);
    }
  }, 180_000);
});
