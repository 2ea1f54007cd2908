import { describe, expect, it } from 'vitest';
import { formatDuration, formatKeyValues, formatNumber, formatPercent, formatTable } from './output.ts';

describe('output', () => {
  it('aligns table columns on the widest cell without trailing spaces', () => {
    const text = formatTable(
      ['key', 'kind', 'note'],
      [
        ['a', 'boolean', ''],
        ['longer-key', 'string', 'x'],
      ],
    );
    expect(text).toBe('KEY         KIND     NOTE\na           boolean\nlonger-key  string   x\n');
  });

  it('aligns key/value blocks', () => {
    expect(
      formatKeyValues([
        ['key', 'a'],
        ['description', 'b'],
      ]),
    ).toBe('key:          a\ndescription:  b\n');
  });

  it('formats numbers, percentages and durations for people', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(0.000123456)).toBe('0.0001235');
    expect(formatNumber(Number.NaN)).toBe('-');
    expect(formatPercent(0.0234, true)).toBe('+2.34%');
    expect(formatPercent(-0.5, true)).toBe('-50%');
    expect(formatDuration(5_400_000)).toBe('1h 30m');
    expect(formatDuration(90_061_000)).toBe('1d 1h');
    expect(formatDuration(0)).toBe('0s');
  });
});
