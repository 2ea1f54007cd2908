import { describe, expect, it } from 'vitest';
import type { DemoDecision, DemoFrame, GuardrailEstimate } from './model.ts';
import { ansiRewind, estimateText, formatDecisionLine, formatFrame, progressBar } from './view.ts';

const estimate: GuardrailEstimate = {
  status: 'assessed',
  verdict: 'harm_detected',
  harmDetected: true,
  nonInferior: false,
  delta: 0.04,
  interval: [0.01, 0.07],
  relativeLift: 2,
  relativeLiftInterval: [0.5, 3.5],
  meanControl: 0.02,
  meanTreatment: 0.06,
  nControl: 5000,
  nTreatment: 600,
  canary: null,
  quantile: null,
  test: 'rollback',
  margin: 0.1,
};

const rollback: DemoDecision = {
  rollout: 'r1',
  at: '2030-01-01T10:00:00.000Z',
  elapsedMs: 3_600_000,
  action: 'rollback',
  rule: 'deterioration',
  reason: `crash_rate is worse in treatment ${'and this reason is long '.repeat(10)}`,
  applied: true,
  status: 'running',
  stage: 1,
  reach: 20,
  toStage: null,
  triggeredBy: ['crash_rate'],
  metrics: { crash_rate: estimate },
};

const frame: DemoFrame = {
  elapsedMs: 3_600_000,
  users: 6000,
  events: 33_000,
  rollouts: [
    {
      id: 'r1',
      flag: 'payment-sheet-v2',
      story: 'bad',
      status: 'rolled_back',
      stageIndex: 1,
      stageCount: 4,
      reach: 0,
      holdback: 2,
      stageReaches: [5, 20, 50, 98],
      latest: rollback,
    },
  ],
};

describe('demo view', () => {
  it('draws reach as a bar with the next stage marked', () => {
    expect(progressBar(50, 98)).toBe(`[${'█'.repeat(15)}${'░'.repeat(14)}|]`);
    expect(progressBar(5, 20)).toBe(`[${'█'.repeat(2)}${'░'.repeat(4)}|${'░'.repeat(23)}]`);
    expect(progressBar(0, undefined)).toBe(`[${'░'.repeat(30)}]`);
    expect(progressBar(100, undefined)).toBe(`[${'█'.repeat(30)}]`);
  });

  it('shows an estimate as a relative lift with its interval, or why there is none', () => {
    expect(estimateText(estimate)).toBe('+200% [+50%, +350%]');
    expect(estimateText({ ...estimate, relativeLift: null, status: 'no_data' })).toBe('no data yet');
    expect(estimateText(undefined)).toBe('waiting for the first look');
  });

  it('keeps every frame line within the terminal width so the frame redraws in place', () => {
    const text = formatFrame(frame, ['crash_rate', 'error_rate'], 70);
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(69);
    expect(text).toContain('…');
    expect(text).toContain('ROLLED BACK');
    expect(text).toContain('HARM');
    expect(text).toContain('waiting for the first look');
    expect(ansiRewind(0)).toBe('');
    expect(ansiRewind(3)).toBe('\u001b[3F\u001b[J');
  });

  it('writes an applied decision as one plain line with the reach it moved', () => {
    const line = formatDecisionLine(rollback, frame.rollouts[0] as DemoFrame['rollouts'][number]);
    expect(line).toMatch(/^\[\+1h\] payment-sheet-v2: rollback 20% → 0% \(deterioration\)\. crash_rate/);
    expect(line.endsWith('\n')).toBe(true);
  });
});
