/** Metrics: how each is computed from tracked events, which direction is harmful, and its margin. */
import type { Metric } from '../api.ts';
import { Badge, PageHeader, Pending, useLoad, useSession } from '../components/ui.tsx';
import { formatFraction } from '../format.ts';
import { href } from '../router.ts';

function definition(m: Metric): string {
  if (m.kind === 'ratio' && m.numerator && m.denominator)
    return `${m.numerator.aggregate ?? 'sum'}(${m.numerator.event}) / ${m.denominator.aggregate ?? 'sum'}(${m.denominator.event})`;
  if (m.kind === 'proportion') return `share of units with ≥ 1 ${m.event ?? '?'}`;
  if (m.kind === 'quantile')
    return `p${Number(((m.q ?? 0) * 100).toPrecision(6))} of ${m.event ?? '?'}${m.scope === 'event' ? ' per event' : ' per unit'}${m.valueUnit ? ` (${m.valueUnit})` : ''}`;
  return `per-unit ${m.event ?? '?'}, averaged`;
}

export function MetricsPage() {
  const { api } = useSession();
  const metrics = useLoad(() => api.listMetrics(), [api]);
  return (
    <section>
      <PageHeader title="Metrics">
        <a className="button button-primary" href={href({ page: 'metric-new' })}>
          New metric
        </a>
      </PageHeader>
      <Pending loaded={metrics} what="metrics">
        {(list) =>
          list.length === 0 ? (
            <p className="empty">No metrics defined.</p>
          ) : (
            <div className="table-wrap table-cards">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Definition</th>
                    <th scope="col">Harmful when</th>
                    <th scope="col">Margin</th>
                    <th scope="col">Window</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((m) => (
                    <tr key={m.key}>
                      <th scope="row" data-label="Metric">
                        <a className="strong" href={href({ page: 'metric', key: m.key })}>
                          {m.key}
                        </a>
                        {m.description ? <div className="muted small">{m.description}</div> : null}
                      </th>
                      <td data-label="Kind">{m.kind}</td>
                      <td data-label="Definition">
                        <code>{definition(m)}</code>
                        {m.cap !== undefined ? <span className="muted"> · capped at {m.cap}</span> : null}
                      </td>
                      <td data-label="Harmful when">
                        <Badge tone="warn">{m.direction === 'higher_is_worse' ? 'higher' : 'lower'}</Badge>
                      </td>
                      <td data-label="Margin">{m.margin !== undefined ? formatFraction(m.margin) : '—'}</td>
                      <td data-label="Window">{m.window ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Pending>
    </section>
  );
}
