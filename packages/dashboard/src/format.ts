/** Number formats of the dashboard: durations, percentages, information and metric values (pure, no DOM). */

const SECOND_MS = 1_000;
const MINUTE_S = 60;
const HOUR_S = 60 * MINUTE_S;
const DAY_S = 24 * HOUR_S;
/** Significant digits of a percentage or a metric value. */
const SIGNIFICANT_DIGITS = 3;
/** Information fractions above this are shown as "over 100% of planned". */
const INFORMATION_CAP = 1;

/**
 * A duration in milliseconds as words a person reads at a glance: "18 s", "5 min", "2 h 30 min", "1 d 4 h".
 * Two units at most; below a second, "under 1 s". Negative or non-finite values give "—".
 */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const total = Math.round(ms / SECOND_MS);
  if (total < 1) return ms === 0 ? '0 s' : 'under 1 s';
  const parts: [number, string][] = [
    [Math.floor(total / DAY_S), 'd'],
    [Math.floor((total % DAY_S) / HOUR_S), 'h'],
    [Math.floor((total % HOUR_S) / MINUTE_S), 'min'],
    [total % MINUTE_S, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ');
}

function trimmed(x: number, digits: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  // Significant digits, but never scientific notation and never more than two decimals for large values.
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return Number(x.toFixed(Math.min(decimals, 6))).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/**
 * A fraction as a percentage with three significant digits at most: 0.021 → "2.1%", 6.253119 → "625%",
 * 0.00031 → "0.031%"; `signed` adds "+" to rises. Non-finite values give "—".
 */
export function formatFraction(fraction: number, options: { signed?: boolean } = {}): string {
  if (!Number.isFinite(fraction)) return '—';
  const text = trimmed(fraction * 100, SIGNIFICANT_DIGITS);
  return `${options.signed === true && fraction > 0 ? '+' : ''}${text}%`;
}

/** How far a test has got: "42% of planned", "over 100% of planned" past the plan, "—" when unknown. */
export function formatInformation(fraction: number | null | undefined): string {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0) return '—';
  if (fraction > INFORMATION_CAP) return 'over 100% of planned';
  if (fraction > 0 && fraction < 0.01) return 'under 1% of planned';
  return `${Math.round(fraction * 100)}% of planned`;
}

/**
 * A metric value: proportions as percentages ("2.1%"), other kinds with three significant digits and
 * thousands separators ("1,234", "0.0123").
 */
export function formatMetricValue(value: number | null | undefined, kind: string | undefined): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  if (kind === 'proportion') return formatFraction(value);
  return trimmed(value, SIGNIFICANT_DIGITS);
}

/** A difference of metric values with its sign: "+13 pp" for proportions (percentage points), else "+0.13". */
export function formatDifference(value: number | null | undefined, kind: string | undefined): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  const sign = value > 0 ? '+' : '';
  if (kind === 'proportion') return `${sign}${trimmed(value * 100, SIGNIFICANT_DIGITS)} pp`;
  // A quantile metric is compared on the relative scale: its difference is Q_T/Q_C − 1.
  if (kind === 'quantile') return `${sign}${trimmed(value * 100, SIGNIFICANT_DIGITS)}%`;
  return `${sign}${trimmed(value, SIGNIFICANT_DIGITS)}`;
}

/** A count with thousands separators, "—" when absent. */
export function formatCount(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** A time of day in UTC with seconds ("13:09:32 UTC"), for sentences that must read the same everywhere. */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(11, 19)} UTC`;
}
