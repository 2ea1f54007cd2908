import { describe, expect, it } from 'vitest';
import { DAY_MS, formatDuration, HOUR_MS, MINUTE_MS, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 30 * MINUTE_MS],
    ['2h', 2 * HOUR_MS],
    ['1d', DAY_MS],
    ['1h30m', 90 * MINUTE_MS],
    ['1.5h', 90 * MINUTE_MS],
    ['250ms', 250],
    [0, 0],
    [7_200_000, 7_200_000],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, value: ms });
  });

  it.each([['2 h'], ['2hours'], ['h'], [''], ['-1h'], [-5], [1.5], ['0.0001s'], ['400d'], [null], [true]])(
    'rejects %j with an issue at the given path',
    (input) => {
      const result = parseDuration(input, 'stages[0].minDuration');
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues[0]?.path).toBe('stages[0].minDuration');
    },
  );

  it('formats durations for people', () => {
    expect(formatDuration(90 * MINUTE_MS)).toBe('1h 30m');
    expect(formatDuration(DAY_MS + 2 * HOUR_MS)).toBe('1d 2h');
    expect(formatDuration(0)).toBe('0s');
  });
});
