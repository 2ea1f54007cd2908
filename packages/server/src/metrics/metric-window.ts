/** Metric windows in API replies: milliseconds as a compact duration string the validator reads back. */
import { WINDOW_UNTIL_NOW } from './metric.model.ts';

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** `86400000` → `"1d"`, `5400000` → `"1h30m"`, `until_now` unchanged; lossless (parses back to the same ms). */
export function formatWindow(window: number | typeof WINDOW_UNTIL_NOW): string {
  if (window === WINDOW_UNTIL_NOW) return WINDOW_UNTIL_NOW;
  let rest = window;
  let out = '';
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out === '' ? '0s' : out;
}
