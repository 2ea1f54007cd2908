import { describe, expect, it } from 'vitest';
import { FixedWindowLimiter } from './rate-limit.ts';

const WINDOW_MS = 60_000;

describe('FixedWindowLimiter', () => {
  it('counts per client within a window and starts a new window after it ends', () => {
    const limiter = new FixedWindowLimiter(WINDOW_MS, 100);
    expect(limiter.hit('a', 1_000)).toEqual({ count: 1, resetAt: 1_000 + WINDOW_MS });
    expect(limiter.hit('a', 2_000).count).toBe(2);
    expect(limiter.hit('b', 2_000).count).toBe(1);
    expect(limiter.hit('a', 1_000 + WINDOW_MS)).toEqual({ count: 1, resetAt: 1_000 + 2 * WINDOW_MS });
  });

  it('sweeps expired windows and never holds more than its bound', () => {
    const limiter = new FixedWindowLimiter(WINDOW_MS, 3);
    for (let i = 0; i < 10; i++) limiter.hit(`client-${i}`, 1_000 + i);
    expect(limiter.size).toBe(3);
    // The oldest windows were forgotten: client-9 is still counted, client-0 starts afresh.
    expect(limiter.hit('client-9', 2_000).count).toBe(2);
    expect(limiter.hit('client-0', 2_000).count).toBe(1);
    limiter.hit('late', 10 * WINDOW_MS);
    expect(limiter.size).toBe(1);
  });
});
