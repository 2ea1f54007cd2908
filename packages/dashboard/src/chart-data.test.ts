import { describe, expect, it } from 'vitest';
import type { RolloutDecision } from './api.ts';
import { carryForward, chartMarkers, guardrailNames, guardrailSeries } from './chart-data.ts';
import { historyEntry } from './test-rollout.ts';

function decision(at: string, metrics: RolloutDecision['evidence']['metrics']): RolloutDecision {
  return { id: at, rollout: 'ro', at, action: 'hold', rule: 'r', stage: 0, reach: 1, evidence: { metrics } };
}

const later = decision('2026-01-01T02:00:00Z', [
  {
    metric: 'latency',
    direction: 'lower_is_worse',
    estimate: -1,
    se: 0.5,
    interval: [-2, 0],
    boundary: 3,
    margin: 0.2,
  },
]);
const earlier = decision('2026-01-01T01:00:00Z', [
  { metric: 'crash', estimate: 0.01, se: 0.002, interval: [0.005, 0.015], boundary: null, margin: 0.004 },
  {
    metric: 'latency',
    direction: 'lower_is_worse',
    estimate: -2,
    se: 1,
    interval: [-4, 0],
    boundary: Infinity,
  },
]);

describe('guardrail series', () => {
  it('lists guardrails in first-seen order', () => {
    expect(guardrailNames([later, earlier])).toEqual(['latency', 'crash']);
  });
  it('sorts looks by time and puts boundary and margin on the harmful side of the difference scale', () => {
    const s = guardrailSeries([later, earlier], 'latency');
    expect(s.times).toEqual([Date.parse(earlier.at) / 1000, Date.parse(later.at) / 1000]);
    expect(s.estimate).toEqual([-2, -1]);
    expect(s.lower).toEqual([-4, -2]);
    expect(s.rollback).toEqual([null, -1.5]);
    expect(s.margin).toEqual([null, -0.2]);
    const crash = guardrailSeries([later, earlier], 'crash');
    expect(crash.rollback).toEqual([null]);
    expect(crash.margin).toEqual([0.004]);
  });
});

describe('quantile guardrail series', () => {
  it("carries both arms' quantiles per look, in metric units, with the relative difference as the estimate", () => {
    const p99 = (at: string, control: number, treatment: number) =>
      decision(at, [
        {
          metric: 'request_p99',
          estimate: treatment / control - 1,
          se: 0.1,
          interval: [0, 1],
          boundary: 2.5,
          quantile: { q: 0.99, control, treatment },
        },
      ]);
    const s = guardrailSeries(
      [p99('2026-01-01T02:00:00Z', 250, 750), p99('2026-01-01T01:00:00Z', 240, 300)],
      'request_p99',
    );
    expect(s.quantile).toEqual({ name: 'p99', control: [240, 250], treatment: [300, 750] });
    expect(s.estimate).toEqual([0.25, 2]);
    expect(guardrailSeries([later, earlier], 'latency').quantile).toBeUndefined();
  });
});

describe('step lines and markers', () => {
  it('carries the last finite boundary across looks that have none', () => {
    expect(carryForward([null, 3, null, null, 2, null])).toEqual([null, 3, 3, 3, 2, 2]);
  });

  it('marks stage changes and the rollback with who did them', () => {
    const markers = chartMarkers([
      historyEntry({ at: '2026-01-01T00:00:00Z', action: 'start', reach: 1, actor: 'admin:ops' }),
      historyEntry({ at: '2026-01-01T01:00:00Z', kind: 'decision', action: 'advance', reach: 1 }),
      historyEntry({
        at: '2026-01-01T01:00:00Z',
        action: 'advance',
        stageIndex: 1,
        reach: 10,
        actor: 'controller',
      }),
      historyEntry({
        at: '2026-01-01T02:00:00Z',
        action: 'rollback',
        stageIndex: 1,
        reach: 0,
        actor: 'controller',
      }),
    ]);
    expect(markers.map((m) => [m.kind, m.label])).toEqual([
      ['stage', 'stage 1 (1%) by admin:ops'],
      ['stage', 'stage 2 (10%) by controller'],
      ['rollback', 'rollback by controller'],
    ]);
  });
});
