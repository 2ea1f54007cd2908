import { describe, expect, it } from 'vitest';
import {
  formatClock,
  formatDifference,
  formatDurationMs,
  formatFraction,
  formatInformation,
  formatMetricValue,
} from './format.ts';

describe('formatDurationMs', () => {
  it('uses at most two units with spaces', () => {
    expect(formatDurationMs(18_000)).toBe('18 s');
    expect(formatDurationMs(9_000_000)).toBe('2 h 30 min');
    expect(formatDurationMs(86_400_000)).toBe('1 d');
    expect(formatDurationMs(100_800_000)).toBe('1 d 4 h');
    expect(formatDurationMs(300_000)).toBe('5 min');
    expect(formatDurationMs(90_000)).toBe('1 min 30 s');
    expect(formatDurationMs(254)).toBe('under 1 s');
    expect(formatDurationMs(0)).toBe('0 s');
    expect(formatDurationMs(-1)).toBe('—');
  });
});

describe('formatFraction', () => {
  it('keeps three significant digits and no noise', () => {
    expect(formatFraction(0.021)).toBe('2.1%');
    expect(formatFraction(0.153)).toBe('15.3%');
    expect(formatFraction(6.253119)).toBe('625%');
    expect(formatFraction(0.00031)).toBe('0.031%');
    expect(formatFraction(13.5)).toBe('1,350%');
    expect(formatFraction(0.05, { signed: true })).toBe('+5%');
    expect(formatFraction(-0.97, { signed: true })).toBe('-97%');
    expect(formatFraction(Number.NaN)).toBe('—');
  });
});

describe('formatInformation', () => {
  it('is a share of the plan, capped', () => {
    expect(formatInformation(0.42)).toBe('42% of planned');
    expect(formatInformation(9.65)).toBe('over 100% of planned');
    expect(formatInformation(0.0007)).toBe('under 1% of planned');
    expect(formatInformation(undefined)).toBe('—');
  });
});

describe('metric values', () => {
  it('shows proportions as percentages and differences in percentage points', () => {
    expect(formatMetricValue(0.0187, 'proportion')).toBe('1.87%');
    expect(formatMetricValue(1234.5, 'mean')).toBe('1,235');
    expect(formatMetricValue(0.012345, 'ratio')).toBe('0.0123');
    expect(formatDifference(0.1305, 'proportion')).toBe('+13.1 pp');
    expect(formatDifference(-0.25, 'mean')).toBe('-0.25');
  });

  it('writes clock times in UTC', () => {
    expect(formatClock('2026-12-03T13:09:32.695Z')).toBe('13:09:32 UTC');
  });
});
