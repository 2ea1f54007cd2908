/** Flags: search, and each flag's status in every environment. */
import type { FlagEnvironment } from '@dimmer/core';
import { useDeferredValue, useState } from 'react';
import { Badge, PageHeader, Pending, useCan, useLoad, useSession } from '../components/ui.tsx';
import { href } from '../router.ts';

function envStatus(env: FlagEnvironment | undefined) {
  if (env === undefined) return <Badge tone="neutral">not set</Badge>;
  const rules = env.rules.length;
  const rollout = env.rules.some((r) => r.rollout !== undefined);
  return (
    <span className="env-status">
      <Badge tone={env.enabled ? 'good' : 'neutral'}>{env.enabled ? 'on' : 'off'}</Badge>
      <span className="muted small">
        {rules} rule{rules === 1 ? '' : 's'}
        {rollout ? ' · rollout' : ''}
      </span>
    </span>
  );
}

export function FlagsPage() {
  const { api, environments } = useSession();
  const allowed = useCan();
  const [search, setSearch] = useState('');
  const [archived, setArchived] = useState(false);
  const q = useDeferredValue(search.trim());
  const flags = useLoad(() => api.listFlags({ q, archived }), [api, q, archived]);

  return (
    <section>
      <PageHeader title="Flags">
        {allowed('edit') ? (
          <a className="button button-primary" href={href({ page: 'flag-new' })}>
            New flag
          </a>
        ) : null}
      </PageHeader>
      <div className="toolbar">
        <label className="grow">
          <span className="visually-hidden">Search flags</span>
          <input
            type="search"
            placeholder="Search by key or description"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} />
          Include archived
        </label>
      </div>
      <Pending loaded={flags} what="flags">
        {(list) =>
          list.length === 0 ? (
            <p className="empty">
              {q === '' ? 'No flags yet. ' : `No flag matches “${q}”. `}
              <a href={href({ page: 'flag-new' })}>Create a flag</a>.
            </p>
          ) : (
            <div className="table-wrap">
              <table className="flags-table">
                <thead>
                  <tr>
                    <th scope="col">Flag</th>
                    <th scope="col">Kind</th>
                    {environments.map((e) => (
                      <th scope="col" key={e.key}>
                        {e.name || e.key}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {list.map((flag) => (
                    <tr key={flag.key}>
                      <td>
                        <a href={href({ page: 'flag', key: flag.key })} className="strong">
                          {flag.key}
                        </a>
                        {flag.archived ? <Badge tone="warn">archived</Badge> : null}
                        {flag.description ? <div className="muted small">{flag.description}</div> : null}
                      </td>
                      <td>{flag.kind}</td>
                      {environments.map((e) => (
                        <td key={e.key} data-label={e.name || e.key}>
                          {envStatus(flag.environments[e.key])}
                        </td>
                      ))}
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
