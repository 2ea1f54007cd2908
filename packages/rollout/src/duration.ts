// Durations in plans and metric windows: numbers are milliseconds, strings are `90s`, `30m`, `2h`, `1d` or a
// sum of such parts (`1h30m`). Parsed once at validation; everything downstream works in milliseconds.

import type { ValidationResult } from '@dimmer/core';
import { describe, Issues } from './issues.ts';

/** Milliseconds per second, minute, hour and day. */
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** Longest duration a plan or metric may name: one year, in milliseconds. */
export const MAX_DURATION_MS = 366 * DAY_MS;

const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a duration into milliseconds: a non-negative integer number of milliseconds, or a string of one or
 * more `<number><unit>` parts with units ms, s, m, h, d (`"90s"`, `"2h"`, `"1h30m"`). `path` names the field
 * in issues.
 */
export function parseDuration(input: unknown, path = '$'): ValidationResult<number> {
  const issues = new Issues();
  const expected =
    'a duration: milliseconds as an integer, or a string like "90s", "30m", "2h", "1d", "1h30m"';
  let ms = Number.NaN;
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0) ms = input;
  } else if (typeof input === 'string' && input.length > 0 && input.length <= 32) {
    PART.lastIndex = 0;
    let total = 0;
    let end = 0;
    for (let m = PART.exec(input); m !== null; m = PART.exec(input)) {
      total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
      end = PART.lastIndex;
    }
    if (end === input.length) ms = total;
  }
  if (Number.isNaN(ms)) {
    issues.add(path, `expected ${expected}, got ${describe(input)}`);
    return issues.result(0);
  }
  if (!Number.isInteger(ms)) issues.add(path, `expected a whole number of milliseconds, got ${ms} ms`);
  else if (ms > MAX_DURATION_MS) issues.add(path, `expected at most 366 days, got ${formatDuration(ms)}`);
  return issues.result(ms);
}

/** Formats milliseconds for people, largest units first: `1d 2h`, `90m` becomes `1h 30m`, `0s` for zero. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return `${ms}`;
  const parts: string[] = [];
  let rest = Math.round(Math.abs(ms));
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', HOUR_MS],
    ['m', MINUTE_MS],
    ['s', SECOND_MS],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (parts.length === 0) return '0s';
  return (ms < 0 ? '-' : '') + parts.slice(0, 2).join(' ');
}
