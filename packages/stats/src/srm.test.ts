import { describe, expect, it } from 'vitest';
import { createSrmState, updateSrm } from './srm.ts';

describe('sequential SRM across stages', () => {
  it('sums log Bayes factors over stages with each stage’s own expected split', () => {
    let state = createSrmState();
    state = updateSrm(state, { stage: '1', expected: [1, 99], counts: [105, 9895] });
    const afterFirst = state.logBayesFactor;
    state = updateSrm(state, { stage: '2', expected: [10, 90], counts: [1000, 9000] });
    const second = updateSrm(createSrmState(), { stage: '2', expected: [10, 90], counts: [1000, 9000] });
    expect(state.logBayesFactor).toBeCloseTo(afterFirst + second.logBayesFactor, 10);
    expect(state.stages.map((s) => s.stage)).toEqual(['1', '2']);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('flags a clear mismatch and the p-value never rises again', () => {
    let state = createSrmState();
    state = updateSrm(state, { stage: '1', expected: [50, 50], counts: [5400, 4600] });
    expect(state.pValue).toBeLessThan(0.001);
    const p = state.pValue;
    state = updateSrm(state, { stage: '1', expected: [50, 50], counts: [4600, 5400] });
    expect(state.pValue).toBe(p);
  });
});
