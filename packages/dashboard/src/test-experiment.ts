/** Test support: experiment and results replies in the shape of the API, for the dashboard's unit tests. */
import type { ExperimentResults, ExperimentView, GuardrailLookSummary } from '@dimmer/api';

/** Conversion 10.0% → 11.0% for green: significantly better by the superiority test (z 4.2 over 2.4). */
export function sampleWinSummary(): GuardrailLookSummary {
  return {
    look: 5,
    informationFraction: 0.62,
    information: 40_000,
    delta: 0.01,
    se: 0.0024,
    interval: [0.002, 0.018],
    relativeLift: 0.1,
    relativeLiftSe: 0.026,
    relativeLiftInterval: [0.02, 0.18],
    meanTreatment: 0.11,
    meanControl: 0.1,
    nTreatment: 70_000,
    nControl: 70_000,
    deterioration: { z: -4.2, boundary: 3.1, rejected: false, mode: 'group-sequential' },
    nonInferiority: { z: 4.2, boundary: 2.4, rejected: true, mode: 'group-sequential', margin: 0 },
    harmDetected: false,
    nonInferior: true,
    verdict: 'non_inferior',
  };
}

/** Crash rate 2.0% → 1.98% for green: within its 20% margin (non-inferiority z 3.5 over 2.0). */
export function sampleGuardSummary(): GuardrailLookSummary {
  return {
    ...sampleWinSummary(),
    delta: -0.0002,
    se: 0.0007,
    interval: [-0.0024, 0.002],
    relativeLift: -0.01,
    relativeLiftSe: 0.035,
    relativeLiftInterval: [-0.11, 0.09],
    meanTreatment: 0.0198,
    meanControl: 0.02,
    deterioration: { z: -0.3, boundary: 3.1, rejected: false, mode: 'group-sequential' },
    nonInferiority: { z: 3.5, boundary: 2.0, rejected: true, mode: 'group-sequential', margin: 0.004 },
  };
}

/** A running 50/50 experiment `ex_button` on `checkout-button` at 20% coverage, started at 10:00 UTC. */
export function sampleExperimentView(): ExperimentView {
  return {
    id: 'ex_button',
    flag: 'checkout-button',
    environment: 'production',
    status: 'running',
    control: 'control',
    variants: [
      { variant: 'control', weight: 50 },
      { variant: 'green', weight: 50 },
    ],
    coverage: 20,
    plannedCoverage: 20,
    successMetrics: [
      {
        metric: 'conversion',
        mde: 0.05,
        kind: 'proportion',
        direction: 'lower_is_worse',
        category: 'business',
      },
    ],
    guardrails: [
      {
        metric: 'crash_rate',
        margin: 0.2,
        required: true,
        kind: 'proportion',
        direction: 'higher_is_worse',
        category: 'reliability',
      },
    ],
    mode: 'manual',
    autoAbort: true,
    shippedVariant: null,
    rollout: null,
    startedAt: '2026-12-01T10:00:00.000Z',
    endedAt: null,
    createdAt: '2026-12-01T09:00:00.000Z',
    updatedAt: '2026-12-01T10:00:00.000Z',
    history: [
      {
        at: '2026-12-01T10:00:00.000Z',
        kind: 'action',
        action: 'start',
        rule: null,
        actor: 'alice',
        coverage: 20,
      },
    ],
    latestResults: null,
  };
}

/** The look that recommends shipping green: conversion better, crash_rate non-inferior, the split sound. */
export function sampleShipResults(): ExperimentResults {
  return {
    experiment: 'ex_button',
    at: '2026-12-03T10:00:00.000Z',
    status: 'running',
    coverage: 20,
    recommendation: 'ship',
    rule: 'winner',
    reason:
      'Ship green: conversion +10% relative for green, significantly better; every guardrail non-inferior.',
    winner: 'green',
    plannedUnits: 226_000,
    units: { control: 70_000, green: 70_000 },
    metrics: {
      conversion: {
        green: {
          metric: 'conversion',
          variant: 'green',
          role: 'success',
          kind: 'proportion',
          direction: 'lower_is_worse',
          mde: 0.05,
          margin: null,
          status: 'assessed',
          maxInformation: 64_000,
          summary: sampleWinSummary(),
          superiority: sampleWinSummary().nonInferiority,
          verdict: 'better',
        },
      },
      crash_rate: {
        green: {
          metric: 'crash_rate',
          variant: 'green',
          role: 'guardrail',
          kind: 'proportion',
          direction: 'higher_is_worse',
          mde: null,
          margin: 0.2,
          status: 'assessed',
          maxInformation: 64_000,
          summary: sampleGuardSummary(),
          superiority: null,
          verdict: 'non_inferior',
        },
      },
    },
    variants: {
      green: {
        variant: 'green',
        verdict: 'winner',
        better: ['conversion'],
        worse: [],
        pendingGuardrails: [],
      },
    },
    srm: { pValue: 0.71, threshold: 0.001, mismatch: false, epochs: [] },
    applied: false,
  };
}
