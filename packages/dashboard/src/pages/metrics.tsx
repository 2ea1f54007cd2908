/** Metrics: how each is computed from tracked events, which direction is harmful, and its margin. */
import type { Metric } from '../api.ts';
import { Badge, PageHeader, Pending, useLoad, useSession } from '../components/ui.tsx';
import { formatPercent } from '../describe.ts';

function definition(m: Metric): string {
  if (m.kind === 'ratio' && m.numerator && m.denominator)
    return `${m.numerator.aggregate ?? 'sum'}(${m.numerator.event}) / ${m.denominator.aggregate ?? 'sum'}(${m.denominator.event})`;
  if (m.kind === 'proportion') return `share of units with ≥ 1 ${m.event ?? '?'}`;
  return `per-unit ${m.event ?? '?'}, averaged`;
}

export function MetricsPage() {
  const { api } = useSession();
  const metrics = useLoad(() => api.listMetrics(), [api]);
  return (
    <section>
      <PageHeader title="Metrics" />
      <Pending loaded={metrics} what="metrics">
        {(list) =>
          list.length === 0 ? (
            <p className="empty">No metrics defined.</p>
          ) : (
            <div className="table-wrap">
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
                      <td>
                        <span className="strong">{m.key}</span>
                        {m.description ? <div className="muted small">{m.description}</div> : null}
                      </td>
                      <td>{m.kind}</td>
                      <td>
                        <code>{definition(m)}</code>
                        {m.cap !== undefined ? <span className="muted"> · capped at {m.cap}</span> : null}
                      </td>
                      <td>
                        <Badge tone="warn">{m.direction === 'higher_is_worse' ? 'higher' : 'lower'}</Badge>
                      </td>
                      <td>{m.margin !== undefined ? formatPercent(m.margin * 100) : '—'}</td>
                      <td>{m.window ?? '—'}</td>
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
