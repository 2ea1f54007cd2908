/**
 * Pieces shared by the rollout and experiment pages: the verdict banner, the results table (cards on narrow
 * screens, every verdict visible) and the stale banner of a live page whose refresh failed.
 */
import { useEffect, useState } from 'react';
import { ApiError } from '../api.ts';
import { formatClock, formatDurationMs } from '../format.ts';
import type { Banner, ResultRow } from '../verdict.ts';
import { Badge, type Tone } from './ui.tsx';

const ONE_SECOND_MS = 1_000;

/** The colour of a row's verdict. */
export function verdictTone(verdict: ResultRow['verdict']): Tone {
  if (verdict === 'harm' || verdict === 'worse') return 'bad';
  if (verdict === 'non-inferior' || verdict === 'better') return 'good';
  return 'neutral';
}

/** The banner at the top of a rollout or an experiment: what happened, who acted, why, and what next. */
export function VerdictBanner({ banner }: { banner: Banner }) {
  return (
    <section
      className={`verdict verdict-${banner.tone}${banner.alarm === true ? ' verdict-alarm' : ''}`}
      aria-label="Verdict"
      data-testid="verdict-banner"
      {...(banner.alarm === true ? { role: 'alert' } : {})}
    >
      <p className="verdict-headline">{banner.headline}</p>
      {banner.reason !== undefined ? <p className="verdict-reason">{banner.reason}</p> : null}
      {banner.lastAction !== undefined ? (
        <p className="verdict-last" data-testid="last-action">
          {banner.lastAction}
        </p>
      ) : null}
      <p className="verdict-next">
        <strong>Next:</strong> {banner.next}
      </p>
      {banner.note !== undefined ? (
        <details className="small">
          <summary>The server’s full note</summary>
          <p>{banner.note}</p>
        </details>
      ) : null}
    </section>
  );
}

/**
 * The results table: one row per guardrail of a rollout, or per metric and variant of an experiment (a Variant
 * column appears when the rows name one). Cards on narrow screens, each cell carrying its column name.
 */
export function ResultsTable({
  rows,
  caption,
  empty = 'No guardrail results yet: the controller has not looked.',
}: {
  rows: ResultRow[];
  caption: string;
  empty?: string;
}) {
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  const byVariant = rows.some((r) => r.variant !== undefined);
  const metricLabel = byVariant ? 'Metric' : 'Guardrail';
  const treatmentLabel = byVariant ? 'Variant value' : 'Treatment';
  return (
    <div className="table-wrap table-cards">
      {caption !== '' ? <p className="muted small table-note">{caption}</p> : null}
      <table
        className="results"
        data-testid="results"
        aria-label={caption || (byVariant ? 'Results per metric and variant' : 'Results per guardrail')}
      >
        <thead>
          <tr>
            <th scope="col">{metricLabel}</th>
            {byVariant ? <th scope="col">Variant</th> : null}
            <th scope="col">Verdict</th>
            <th scope="col">Control</th>
            <th scope="col">{treatmentLabel}</th>
            <th scope="col">Difference</th>
            <th scope="col">{byVariant ? 'Relative lift' : 'Relative change'}</th>
            <th scope="col">Test</th>
            <th scope="col">Information</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.metric}/${r.variant ?? ''}`}>
              <th scope="row" data-label={metricLabel}>
                {r.metric}
                {r.role !== undefined ? <span className="muted small"> {r.role}</span> : null}
                {r.required ? <span className="muted small"> required</span> : null}
              </th>
              {byVariant ? (
                <td data-label="Variant" className="strong">
                  {r.variant}
                </td>
              ) : null}
              <td data-label="Verdict">
                <Badge tone={verdictTone(r.verdict)}>{r.verdict}</Badge>
              </td>
              <td data-label="Control">{r.control}</td>
              <td data-label={treatmentLabel}>{r.treatment}</td>
              <td data-label="Difference">{r.difference}</td>
              <td data-label={byVariant ? 'Relative lift' : 'Relative change'}>{r.relative}</td>
              <td data-label="Test" className="small">
                {r.test}
              </td>
              <td data-label="Information">{r.information}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Shown while a live page's refresh keeps failing: the error, when the data is from, and the next retry. */
export function StaleBanner({
  error,
  fetchedAt,
  retryAt,
  onRetry,
}: {
  error: unknown;
  fetchedAt: number | null;
  retryAt: number | null;
  onRetry(): void;
}) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ONE_SECOND_MS);
    return () => window.clearInterval(timer);
  }, []);
  const message =
    error instanceof ApiError
      ? `${error.message} (HTTP ${error.status})`
      : error instanceof Error
        ? error.message
        : String(error);
  const wait = retryAt === null ? null : Math.max(0, retryAt - now);
  return (
    <div className="stale" role="status" data-testid="stale-banner">
      <strong>Could not refresh: {message}</strong>
      <span>
        {fetchedAt !== null
          ? ` Showing what the server said at ${formatClock(new Date(fetchedAt).toISOString())}.`
          : ''}
        {wait !== null ? ` Retrying in ${formatDurationMs(Math.max(ONE_SECOND_MS, wait))}.` : ''}
      </span>{' '}
      <button type="button" className="button button-quiet-dark" onClick={onRetry}>
        Retry now
      </button>
    </div>
  );
}
