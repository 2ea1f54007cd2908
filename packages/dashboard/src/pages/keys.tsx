/** Client keys: list (never secrets), create (the secret is shown once), revoke with confirmation. */
import { type FormEvent, useState } from 'react';
import type { ClientKey, ClientKeyKind } from '../api.ts';
import {
  Badge,
  ConfirmDialog,
  ErrorMessage,
  KeySelect,
  PageHeader,
  Pending,
  Time,
  useCan,
  useLoad,
  useSession,
} from '../components/ui.tsx';
import { CreatedSecret } from './created-secret.tsx';
import { TokensSection } from './tokens-section.tsx';

export function KeysPage() {
  const { api, environments, environment } = useSession();
  const allowed = useCan();
  const keys = useLoad(() => api.listKeys(), [api]);
  const [name, setName] = useState('');
  const [env, setEnv] = useState(environment);
  const [kind, setKind] = useState<ClientKeyKind>('server');
  const [origins, setOrigins] = useState('');
  const [rateLimit, setRateLimit] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ key: ClientKey; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<ClientKey | null>(null);
  const [revokeError, setRevokeError] = useState<unknown>(undefined);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const allowedOrigins = origins
        .split(/[\s,]+/)
        .map((o) => o.trim())
        .filter((o) => o !== '');
      const result = await api.createKey({
        name: name.trim(),
        environment: env,
        kind,
        ...(kind === 'browser' ? { allowedOrigins } : {}),
        ...(rateLimit.trim() !== '' ? { rateLimitPerMinute: Number(rateLimit.trim()) } : {}),
      });
      setCreated(result);
      setName('');
      setRateLimit('');
      keys.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async () => {
    if (revoking === null) return;
    setBusy(true);
    try {
      await api.revokeKey(revoking.id);
      setRevoking(null);
      setRevokeError(undefined);
      keys.reload();
    } catch (e) {
      setRevokeError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeader title="Client keys" />
      <p className="muted">
        A <strong>server</strong> key reads an environment’s full config for local evaluation. A{' '}
        <strong>browser</strong> key is public: it only resolves values for the context it sends.
      </p>
      {created !== null ? <CreatedSecret created={created} onDone={() => setCreated(null)} /> : null}
      {allowed('admin', environment) ? (
        <form className="card form" onSubmit={create}>
          <h2>New key</h2>
          <div className="grid-3">
            <div className="field">
              <label htmlFor="key-name">Name</label>
              <input id="key-name" value={name} onChange={(e) => setName(e.target.value)} required />
            </div>
            <KeySelect id="key-env" label="Environment" value={env} items={environments} onChange={setEnv} />
            <div className="field">
              <label htmlFor="key-kind">Kind</label>
              <select id="key-kind" value={kind} onChange={(e) => setKind(e.target.value as ClientKeyKind)}>
                <option value="server">server</option>
                <option value="browser">browser</option>
              </select>
            </div>
          </div>
          {kind === 'browser' ? (
            <div className="field">
              <label htmlFor="key-origins">Allowed origins (space or comma separated)</label>
              <input
                id="key-origins"
                value={origins}
                onChange={(e) => setOrigins(e.target.value)}
                placeholder="https://app.example.com, or * for any origin"
              />
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="key-rate-limit">Requests per minute per route (empty: the server default)</label>
            <input
              id="key-rate-limit"
              type="number"
              min={1}
              step={1}
              value={rateLimit}
              onChange={(e) => setRateLimit(e.target.value)}
            />
          </div>
          <ErrorMessage error={error} />
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={busy || name.trim() === ''}>
              Create key
            </button>
          </div>
        </form>
      ) : (
        <p className="muted" data-testid="keys-read-only">
          Creating and revoking keys needs the admin role in this environment.
        </p>
      )}
      <h2>Keys</h2>
      <Pending loaded={keys} what="keys">
        {(list) =>
          list.length === 0 ? (
            <p className="empty">No client keys yet.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Environment</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Key starts</th>
                    <th scope="col">Created</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((k) => (
                    <tr key={k.id}>
                      <td>{k.name}</td>
                      <td>{k.environment}</td>
                      <td>{k.kind}</td>
                      <td>
                        <code>{k.prefix}…</code>
                      </td>
                      <td>
                        <Time iso={k.createdAt} />
                      </td>
                      <td>
                        {k.revokedAt === null ? (
                          <Badge tone="good">active</Badge>
                        ) : (
                          <Badge tone="bad">revoked</Badge>
                        )}
                      </td>
                      <td>
                        {k.revokedAt === null && allowed('admin', k.environment) ? (
                          <button
                            type="button"
                            className="button button-small"
                            onClick={() => setRevoking(k)}
                          >
                            Revoke<span className="visually-hidden"> {k.name}</span>
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Pending>
      {revoking !== null ? (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          message={
            <p>
              Every SDK using this {revoking.kind} key in {revoking.environment} loses access within a second.
              This cannot be undone.
            </p>
          }
          confirmLabel="Revoke key"
          danger
          busy={busy}
          error={revokeError}
          onConfirm={revoke}
          onCancel={() => {
            setRevoking(null);
            setRevokeError(undefined);
          }}
        />
      ) : null}
      <TokensSection />
    </section>
  );
}
