/**
 * Environments: each with its config version, a form to add one, and per row a rename and a delete (the
 * server refuses to delete one that still has client keys, rollouts or experiments, and says which).
 */
import { type FormEvent, useState } from 'react';
import type { Environment } from '../api.ts';
import { createEnvironment, deleteEnvironment, renameEnvironment } from '../api-admin.ts';
import { FieldIssues } from '../components/field-issues.tsx';
import {
  ConfirmDialog,
  ErrorMessage,
  PageHeader,
  Pending,
  Time,
  useLoad,
  useSession,
} from '../components/ui.tsx';

/** One row: its name editable in place, and a delete behind a confirmation. */
function EnvironmentRow({ env, onChanged }: { env: Environment; onChanged(): void }) {
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(env.name);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await renameEnvironment(api, env.key, name.trim());
      setEditing(false);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await deleteEnvironment(api, env.key);
      setConfirming(false);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr data-testid={`env-row-${env.key}`}>
      <th scope="row" data-label="Environment">
        {env.key}
      </th>
      <td data-label="Name">
        {editing ? (
          <form className="inline-form" onSubmit={save} noValidate>
            <label className="visually-hidden" htmlFor={`env-name-${env.key}`}>
              Name of {env.key}
            </label>
            <input id={`env-name-${env.key}`} value={name} onChange={(e) => setName(e.target.value)} />
            <button type="submit" className="button button-primary" disabled={busy}>
              Save
            </button>
            <button type="button" className="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <FieldIssues error={error} path="name" />
          </form>
        ) : (
          env.name
        )}
      </td>
      <td data-label="Version">{env.configVersion}</td>
      <td data-label="Last change">
        <Time iso={env.committedAt} />
      </td>
      <td data-label="Actions">
        {!editing ? (
          <span className="row-actions">
            <button type="button" className="button" onClick={() => setEditing(true)}>
              Rename
            </button>
            <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>
              Delete
            </button>
          </span>
        ) : null}
        {!confirming && error !== undefined && !editing ? <ErrorMessage error={error} /> : null}
        {confirming ? (
          <ConfirmDialog
            title={`Delete environment ${env.key}?`}
            message={
              <p>
                Its state in every flag and its revoked client keys are deleted too. The server refuses while
                active keys, rollouts or experiments refer to it, and names them.
              </p>
            }
            confirmLabel="Delete environment"
            danger
            busy={busy}
            error={error}
            onConfirm={() => void remove()}
            onCancel={() => {
              setConfirming(false);
              setError(undefined);
            }}
          />
        ) : null}
      </td>
    </tr>
  );
}

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
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {envs.map((e) => (
                  <EnvironmentRow key={e.key} env={e} onChanged={list.reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Pending>
    </section>
  );
}
