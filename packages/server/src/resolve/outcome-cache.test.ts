import type { EvaluationResult } from '@dimmer/core';
import { describe, expect, it } from 'vitest';
import type { ConfigState } from '../client-deps.ts';
import { MAX_OUTCOMES_PER_FLAG, OutcomeJsonCache } from './outcome-cache.ts';

const state = (version: number) => ({ environment: 'production', version }) as ConfigState;
const success: EvaluationResult = {
  flagKey: 'f',
  value: true,
  variant: 'on',
  reason: 'TARGETING_MATCH',
  ruleId: 'r',
};

describe('OutcomeJsonCache', () => {
  it('writes an outcome once per version and again for a new version, value or message', () => {
    const cache = new OutcomeJsonCache();
    let writes = 0;
    const write = (result: EvaluationResult) => `${++writes}:${JSON.stringify(result)}`;
    const v1 = state(1);
    const first = cache.text(v1, success, write);
    expect(cache.text(v1, { ...success }, write)).toBe(first);
    expect(writes).toBe(1);
    cache.text(state(2), success, write);
    cache.text(v1, { ...success, value: false }, write);
    cache.text(v1, { ...success, ruleId: 'other' }, write);
    expect(writes).toBe(4);
    // A message depends on the context: such results are written every time.
    const skipped = { ...success, reason: 'DEFAULT' as const, errorMessage: 'rule "r" was skipped' };
    cache.text(v1, skipped, write);
    cache.text(v1, skipped, write);
    cache.text(v1, { flagKey: 'nope', reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' }, write);
    expect(writes).toBe(7);
  });

  it('keeps at most MAX_OUTCOMES_PER_FLAG outcomes of a flag and still answers past it', () => {
    const cache = new OutcomeJsonCache();
    const v1 = state(1);
    let writes = 0;
    const write = (result: EvaluationResult) => `${++writes}:${String(result.value)}`;
    const values = Array.from({ length: MAX_OUTCOMES_PER_FLAG + 1 }, (_, i) => ({ n: i }));
    for (const value of values) cache.text(v1, { ...success, value }, write);
    expect(cache.text(v1, { ...success, value: values[0] as { n: number } }, write)).toBe(
      '1:[object Object]',
    );
    expect(cache.text(v1, { ...success, value: values.at(-1) as { n: number } }, write)).toBe(
      `${MAX_OUTCOMES_PER_FLAG + 2}:[object Object]`,
    );
  });
});
