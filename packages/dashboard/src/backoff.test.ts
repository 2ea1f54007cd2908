import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    expect(backoffDelay(0)).toBe(0);
    expect(backoffDelay(1)).toBe(BACKOFF_BASE_MS);
    expect(backoffDelay(2)).toBe(2 * BACKOFF_BASE_MS);
    expect(backoffDelay(3)).toBe(4 * BACKOFF_BASE_MS);
    expect(backoffDelay(50)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 250 })).toBe(250);
  });

  it('shortens by at most a fifth with jitter and never grows', () => {
    for (const jitter of [0, 0.3, 0.99]) {
      const d = backoffDelay(2, { jitter });
      expect(d).toBeLessThanOrEqual(2 * BACKOFF_BASE_MS);
      expect(d).toBeGreaterThanOrEqual(0.8 * 2 * BACKOFF_BASE_MS);
    }
  });
});
