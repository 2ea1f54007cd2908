import type { DecisionView, RolloutView } from '@dimmer/api';
import { describe, expect, it } from 'vitest';
import { toDecision, toRollout } from './api.ts';
import { sampleRolloutView } from './test-rollout.ts';

const testLook = (z: number | null, boundary: number | null) =>
  ({ z, boundary, rejected: false, mode: 'group-sequential' }) as const;

describe('reading the rollout reply', () => {
  it('keeps the rollout as the server sends it and reduces its history to the actions', () => {
    const view: RolloutView = {
      ...sampleRolloutView(),
      state: 'rolled_back',
      stage: 1,
      reach: 0,
      attempt: 2,
      health: 'failing',
      history: [
        {
          at: '2026-01-01T00:00:00.000Z',
          kind: 'action',
          action: 'start',
          rule: null,
          actor: 'admin',
          attempt: 1,
          stageIndex: 0,
          reach: 1,
        },
        {
          at: '2026-01-01T00:00:05.000Z',
          kind: 'decision',
          action: 'hold',
          rule: 'min_units',
          actor: 'controller',
          attempt: 1,
          stageIndex: 0,
          reach: 1,
        },
      ],
      latestDecision: null,
      recommendation: null,
    };
    const r = toRollout(view);
    expect(r).toMatchObject({ state: 'rolled_back', stage: 1, reach: 0, attempt: 2, health: 'failing' });
    expect(r.history).toEqual([{ stage: 0, reach: 1, at: '2026-01-01T00:00:00.000Z', action: 'start' }]);
  });

  it('maps a decision’s per-metric summary onto the chart’s evidence', () => {
    const summary = {
      look: 3,
      informationFraction: 0.1,
      information: 2_500,
      delta: 0.01,
      se: 0.002,
      interval: [0.005, 0.015],
      relativeLift: 0.5,
      relativeLiftSe: 0.1,
      relativeLiftInterval: [0.3, 0.7],
      meanTreatment: 0.03,
      meanControl: 0.02,
      nTreatment: 10,
      nControl: 90,
      deterioration: testLook(5, 3.1),
      nonInferiority: { ...testLook(-1, null), margin: 0.0004 },
      harmDetected: true,
      nonInferior: false,
      verdict: 'harm_detected',
    } as const;
    const look = {
      kind: 'proportion',
      required: true,
      margin: 0.02,
      status: 'assessed',
      maxInformation: 25_000,
      events: null,
      canary: null,
    } as const;
    const decision: DecisionView = {
      id: 4,
      rollout: 'ro_1',
      actor: 'controller',
      at: '1970-01-01T00:00:01.000Z',
      attempt: 1,
      status: 'running',
      stageIndex: 0,
      reach: 1,
      action: 'rollback',
      rule: 'deterioration',
      reason: 'crash_rate rose',
      toStage: null,
      metrics: {
        crash_rate: {
          ...look,
          metric: 'crash_rate',
          direction: 'higher_is_worse',
          summary: { ...summary, interval: [0.005, 0.015], relativeLiftInterval: [0.3, 0.7] },
          relativeChange: null,
        },
        revenue: {
          ...look,
          metric: 'revenue',
          direction: 'lower_is_worse',
          status: 'no_data',
          summary: null,
          relativeChange: null,
        },
        latency: {
          ...look,
          metric: 'latency',
          direction: 'lower_is_worse',
          summary: { ...summary, se: null, interval: [null, null], relativeLiftInterval: [null, null] },
          relativeChange: null,
        },
      },
      srm: { pValue: 0.3, threshold: 0.001, mismatch: false, logBayesFactor: -2, stages: [] },
      checks: null,
      applied: true,
      event: null,
      count: 1,
      firstAt: '1970-01-01T00:00:01.000Z',
      lastAt: '1970-01-01T00:00:01.000Z',
    };
    const d = toDecision(decision);
    expect(d).toMatchObject({
      id: '4',
      at: '1970-01-01T00:00:01.000Z',
      stage: 0,
      message: 'crash_rate rose',
      actor: 'controller',
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
