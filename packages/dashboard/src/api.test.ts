import { describe, expect, it } from 'vitest';
import { toDecision, toRollout } from './api.ts';

describe('reading the rollout package shapes', () => {
  it('flattens a plan with its nested state', () => {
    const r = toRollout({
      id: 'ro_1',
      flag: 'f',
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [
        { reach: 1, minDuration: 7_200_000, minUnitsPerArm: 1000, minEventsPerArm: 30 },
        { reach: 100 },
      ],
      guardrails: [],
      mode: 'automatic',
      state: {
        status: 'rolled_back',
        stageIndex: 1,
        reach: 0,
        attempt: 2,
        stageStartedAt: 0,
        history: [
          { at: 0, kind: 'action', action: 'start', stageIndex: 0, reach: 1 },
          { at: 5, kind: 'decision', action: 'hold', stageIndex: 0, reach: 1 },
        ],
      },
    });
    expect(r).toMatchObject({ state: 'rolled_back', stage: 1, reach: 0, attempt: 2 });
    expect(r.history).toEqual([
      { stage: 0, reach: 1, at: '1970-01-01T00:00:00.000Z', action: 'start', kind: 'action' },
    ]);
  });

  it('maps a decision’s per-metric summary onto the chart’s evidence', () => {
    const d = toDecision(
      {
        at: 1000,
        stageIndex: 0,
        reach: 1,
        action: 'rollback',
        rule: 'deterioration',
        reason: 'crash_rate rose',
        metrics: {
          crash_rate: {
            direction: 'higher_is_worse',
            summary: {
              delta: 0.01,
              se: 0.002,
              interval: [0.005, 0.015],
              relativeLift: 0.5,
              informationFraction: 0.1,
              nTreatment: 10,
              nControl: 90,
              deterioration: { z: 5, boundary: 3.1 },
              nonInferiority: { z: -1, boundary: null, margin: 0.0004 },
              harmDetected: true,
              nonInferior: false,
            },
          },
          revenue: { direction: 'lower_is_worse', summary: null },
        },
        srm: { pValue: 0.3 },
      },
      'ro_1',
      4,
    );
    expect(d).toMatchObject({
      id: 'ro_1-4',
      at: '1970-01-01T00:00:01.000Z',
      stage: 0,
      message: 'crash_rate rose',
    });
    expect(d.evidence.metrics).toEqual([
      {
        metric: 'crash_rate',
        direction: 'higher_is_worse',
        estimate: 0.01,
        se: 0.002,
        interval: [0.005, 0.015],
        relativeLift: 0.5,
        informationFraction: 0.1,
        boundary: 3.1,
        z: 5,
        margin: 0.0004,
        nTreatment: 10,
        nControl: 90,
        deteriorated: true,
        nonInferior: false,
      },
    ]);
    expect(d.evidence.srm).toEqual({ p: 0.3 });
  });
});
