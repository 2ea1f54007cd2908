/** Surfaces: product areas and the guardrail metrics every rollout on them must watch. */
import { PageHeader, Pending, useLoad, useSession } from '../components/ui.tsx';
import { formatPercent } from '../describe.ts';

export function SurfacesPage() {
  const { api } = useSession();
  const surfaces = useLoad(() => api.listSurfaces(), [api]);
  return (
    <section>
      <PageHeader title="Surfaces" />
      <p className="muted">
        A surface lists required guardrails. Every rollout of a flag on that surface gets them and cannot drop
        them.
      </p>
      <Pending loaded={surfaces} what="surfaces">
        {(list) =>
          list.length === 0 ? (
            <p className="empty">No surfaces defined.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Surface</th>
                    <th scope="col">Description</th>
                    <th scope="col">Required guardrails (margin)</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((s) => (
                    <tr key={s.key}>
                      <td className="strong">{s.name ?? s.key}</td>
                      <td>{s.description ?? <span className="muted">—</span>}</td>
                      <td>
                        {s.guardrails.length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          s.guardrails.map((g) => (
                            <span key={g.metric} className="chip">
                              {g.metric}
                              {g.margin !== undefined ? ` (${formatPercent(g.margin * 100)})` : ''}
                            </span>
                          ))
                        )}
                      </td>
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
