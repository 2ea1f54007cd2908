import { describe, expect, it } from 'vitest';
import { compareSemver, parseIsoTimestamp, parseSemver } from './semver.ts';

function cmp(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) throw new Error(`not a version: ${a} or ${b}`);
  return Math.sign(compareSemver(x, y));
}

describe('semantic versions', () => {
  it('orders by semver 2.0 precedence', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0',
      '1.10.0',
      '2.0.0',
    ];
    for (let i = 1; i < ordered.length; i++)
      expect(cmp(ordered[i - 1] as string, ordered[i] as string)).toBe(-1);
    expect(cmp('v1.2.3', '1.2.3+build.7')).toBe(0);
  });

  it('refuses what is not a version', () => {
    for (const text of ['1.2', '01.2.3', '1.2.3-', 'one.two.three', '', '1.2.3.4'])
      expect(parseSemver(text)).toBeNull();
  });
});

describe('ISO timestamps', () => {
  it('parses dates and zoned times to epoch milliseconds', () => {
    expect(parseIsoTimestamp('1970-01-02')).toBe(86_400_000);
    expect(parseIsoTimestamp('1970-01-01T01:00:00+01:00')).toBe(0);
    expect(parseIsoTimestamp('1970-01-01T00:00:01.5Z')).toBe(1_500);
  });

  it('refuses times without a zone and malformed text', () => {
    for (const text of ['2025-03-01T12:00:00', '2025-13-01', 'yesterday', '2025-03-01T25:00Z', ''])
      expect(parseIsoTimestamp(text)).toBeNull();
  });
});
