/** Surfaces: product areas and the guardrail metrics every rollout on them must watch. */
import { PageHeader, Pending, useLoad, useSession } from '../components/ui.tsx';
import { formatFraction } from '../format.ts';
import { href } from '../router.ts';

export function SurfacesPage() {
  const { api } = useSession();
  const surfaces = useLoad(() => api.listSurfaces(), [api]);
  return (
    <section>
      <PageHeader title="Surfaces">
        <a className="button button-primary" href={href({ page: 'surface-new' })}>
          New surface
        </a>
      </PageHeader>
      <p className="muted">
        A surface lists required guardrails. Every rollout of a flag on that surface gets them and cannot drop
        them.
      </p>
      <Pending loaded={surfaces} what="surfaces">
        {(list) =>
          list.length === 0 ? (
            <p className="empty">No surfaces defined.</p>
          ) : (
            <div className="table-wrap table-cards">
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
                      <th scope="row" data-label="Surface">
                        <a className="strong" href={href({ page: 'surface', key: s.key })}>
                          {s.name ?? s.key}
                        </a>
                      </th>
                      <td data-label="Description">{s.description ?? <span className="muted">—</span>}</td>
                      <td data-label="Required">
                        {s.guardrails.length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          s.guardrails.map((g) => (
                            <span key={g.metric} className="chip">
                              {g.metric}
                              {g.margin !== undefined ? ` (${formatFraction(g.margin)})` : ''}
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
