/** Human output (aligned tables, key/value blocks, number formats) and `--json` output, shared by every command. */

/** Spaces between table columns. */
const COLUMN_GAP = 2;
/** Shown where a value is absent. */
export const NONE = '-';

/** Visible width of a string, ignoring ANSI colour codes. */
function width(text: string): number {
  return [...text.replace(/\u001b\[[0-9;]*m/g, '')].length;
}

/**
 * Formats rows as a table aligned on the widest cell of each column, with an upper-case header row; the last
 * column is not padded, so lines carry no trailing spaces. Returns the lines joined, ending in a newline.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers.map((h) => h.toUpperCase()), ...rows];
  const widths = headers.map((_, c) => Math.max(...all.map((row) => width(row[c] ?? ''))));
  const lines = all.map((row) =>
    headers
      .map((_, c) => {
        const cell = row[c] ?? '';
        return c === headers.length - 1
          ? cell
          : cell + ' '.repeat((widths[c] ?? 0) - width(cell) + COLUMN_GAP);
      })
      .join('')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** Formats `label: value` pairs with the values aligned. */
export function formatKeyValues(pairs: readonly (readonly [string, string])[]): string {
  const w = Math.max(0, ...pairs.map(([k]) => width(k) + 1));
  return `${pairs.map(([k, v]) => `${`${k}:`.padEnd(w + COLUMN_GAP)}${v}`.trimEnd()).join('\n')}\n`;
}

/** Pretty JSON with a final newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A value for a table cell: strings as they are, absent as `-`, anything else as compact JSON. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return NONE;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** A number with at most `digits` significant digits and thousands separators for integers. */
export function formatNumber(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || Number.isNaN(x)) return NONE;
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString('en-US');
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return String(Number(x.toPrecision(digits)));
}

/** A fraction as a percentage (0.0123 → `1.23%`), optionally with a sign. */
export function formatPercent(fraction: number | null | undefined, signed = false): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return NONE;
  const v = Number((fraction * 100).toPrecision(3));
  return `${signed && v > 0 ? '+' : ''}${v}%`;
}

/** Milliseconds for people, largest units first: `1d 2h`, `1h 30m`, `45s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return NONE;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  let rest = Math.round(Math.abs(ms));
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  if (parts.length === 0) return rest > 0 ? `${rest}ms` : '0s';
  return parts.slice(0, 2).join(' ');
}

/** An ISO time or epoch milliseconds as `YYYY-MM-DD HH:MM:SS` UTC. */
export function formatTime(value: unknown): string {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) return NONE;
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}
