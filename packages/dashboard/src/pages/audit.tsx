/** The audit log: filters by resource type, key, actor and time; newest first; "Load more" pages on. */
import { type FormEvent, Fragment, useEffect, useState } from 'react';
import { AUDIT_RESOURCE_TYPES, type AuditEntry, type AuditFilter } from '../api.ts';
import { ErrorMessage, PageHeader, Time, useSession } from '../components/ui.tsx';

const PAGE_SIZE = 50;

function Change({ entry }: { entry: AuditEntry }) {
  return (
    <details>
      <summary>
        Before / after{' '}
        <span className="visually-hidden">
          of {entry.action} {entry.resourceKey}
        </span>
      </summary>
      <div className="grid-2">
        <div>
          <h4>Before</h4>
          <pre className="code-block json-full">{JSON.stringify(entry.before, null, 2) ?? 'null'}</pre>
        </div>
        <div>
          <h4>After</h4>
          <pre className="code-block json-full">{JSON.stringify(entry.after, null, 2) ?? 'null'}</pre>
        </div>
      </div>
    </details>
  );
}

export function AuditPage() {
  const { api } = useSession();
  const [form, setForm] = useState({ resourceType: '', key: '', actor: '', since: '' });
  const [filter, setFilter] = useState<AuditFilter>({});
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const load = async (f: AuditFilter, after: string | null) => {
    setBusy(true);
    setError(undefined);
    try {
      const page = await api.listAudit({
        ...f,
        limit: PAGE_SIZE,
        ...(after !== null ? { cursor: after } : {}),
      });
      setEntries((prev) => (after === null ? page.entries : [...(prev ?? []), ...page.entries]));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: load only when the applied filter changes
  useEffect(() => {
    void load(filter, null);
  }, [filter, api]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next: AuditFilter = {};
    const resourceType = AUDIT_RESOURCE_TYPES.find((t) => t === form.resourceType);
    if (resourceType !== undefined) next.resourceType = resourceType;
    if (form.key.trim() !== '') next.key = form.key.trim();
    if (form.actor.trim() !== '') next.actor = form.actor.trim();
    if (form.since !== '') {
      const date = new Date(form.since);
      if (!Number.isNaN(date.getTime())) next.since = date.toISOString();
    }
    setFilter(next);
  };

  return (
    <section>
      <PageHeader title="Audit log" />
      <form className="card filters" onSubmit={apply} aria-label="Audit filters">
        <div className="field">
          <label htmlFor="audit-type">Resource</label>
          <select
            id="audit-type"
            value={form.resourceType}
            onChange={(e) => setForm({ ...form, resourceType: e.target.value })}
          >
            <option value="">any</option>
            {AUDIT_RESOURCE_TYPES.map((t) => (
              <option key={t} value={t}>
                {t.replace('_', ' ')}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-key">Key</label>
          <input
            id="audit-key"
            value={form.key}
            onChange={(e) => setForm({ ...form, key: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input
            id="audit-actor"
            value={form.actor}
            onChange={(e) => setForm({ ...form, actor: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-since">Since</label>
          <input
            id="audit-since"
            type="datetime-local"
            value={form.since}
            onChange={(e) => setForm({ ...form, since: e.target.value })}
          />
        </div>
        <div className="field field-end">
          <button type="submit" className="button button-primary">
            Apply filters
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {entries === null ? (
        <p className="muted" role="status">
          Loading the audit log…
        </p>
      ) : entries.length === 0 ? (
        <p className="empty">No entries match.</p>
      ) : (
        <div className="table-wrap table-cards">
          <table className="audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Environment</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <Fragment key={e.id}>
                  <tr className="audit-entry">
                    <td data-label="When">
                      <Time iso={e.at} />
                    </td>
                    <td data-label="Actor">{e.actor}</td>
                    <td data-label="Action">
                      <code>{e.action}</code>
                    </td>
                    <td data-label="Resource">
                      <span className="muted">{e.resourceType.replace('_', ' ')}</span> {e.resourceKey}
                    </td>
                    <td data-label="Environment">{e.environment ?? <span className="muted">—</span>}</td>
                  </tr>
                  <tr className="audit-change">
                    <td colSpan={5} data-label="Change">
                      <Change entry={e} />
                    </td>
                  </tr>
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor !== null ? (
        <button type="button" className="button" onClick={() => load(filter, cursor)} disabled={busy}>
          Load more
        </button>
      ) : null}
    </section>
  );
}
