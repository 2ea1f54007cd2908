/** Environments: each with its config version, and a form to add one (the server offers no rename yet). */
import { type FormEvent, useState } from 'react';
import type { Environment } from '../api.ts';
import { createEnvironment } from '../api-admin.ts';
import { FieldIssues } from '../components/field-issues.tsx';
import { ErrorMessage, PageHeader, Pending, Time, useLoad, useSession } from '../components/ui.tsx';

export function EnvironmentsPage() {
  const { api } = useSession();
  const list = useLoad(() => api.listEnvironments(), [api]);
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [created, setCreated] = useState<Environment | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setCreated(null);
    try {
      const env = await createEnvironment(api, {
        key: key.trim(),
        ...(name.trim() !== '' ? { name: name.trim() } : {}),
      });
      setCreated(env);
      setKey('');
      setName('');
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeader title="Environments" />
      <form className="form card" onSubmit={submit} noValidate>
        <h2>Add an environment</h2>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="env-key">Key</label>
            <input id="env-key" value={key} placeholder="staging" onChange={(e) => setKey(e.target.value)} />
            <FieldIssues error={error} path="key" />
          </div>
          <div className="field">
            <label htmlFor="env-name">Name</label>
            <input
              id="env-name"
              value={name}
              placeholder="the key"
              onChange={(e) => setName(e.target.value)}
            />
            <FieldIssues error={error} path="name" />
          </div>
        </div>
        <ErrorMessage error={error} />
        {created !== null ? (
          <p className="success" role="status">
            Environment {created.key} created. Reload the page to pick it in the top bar.
          </p>
        ) : null}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            Create environment
          </button>
        </div>
      </form>
      <Pending loaded={list} what="environments">
        {(envs) => (
          <div className="table-wrap table-cards">
            <table>
              <thead>
                <tr>
                  <th scope="col">Environment</th>
                  <th scope="col">Name</th>
                  <th scope="col">Config version</th>
                  <th scope="col">Last change</th>
                </tr>
              </thead>
              <tbody>
                {envs.map((e) => (
                  <tr key={e.key}>
                    <th scope="row" data-label="Environment">
                      {e.key}
                    </th>
                    <td data-label="Name">{e.name}</td>
                    <td data-label="Version">{e.configVersion}</td>
                    <td data-label="Last change">
                      <Time iso={e.committedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Pending>
    </section>
  );
}
