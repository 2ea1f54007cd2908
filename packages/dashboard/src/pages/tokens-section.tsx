/**
 * Admin tokens on the keys page: list (never secrets), create and rotate (the secret is shown once), revoke
 * with confirmation; revoking the last active token needs an explicit second confirmation.
 */
import { type FormEvent, useState } from 'react';
import type { AdminToken } from '../api.ts';
import {
  Badge,
  ConfirmDialog,
  ErrorMessage,
  Pending,
  Time,
  useCan,
  useLoad,
  useSession,
} from '../components/ui.tsx';
import { CreatedSecret } from './created-secret.tsx';

export function TokensSection() {
  const { api } = useSession();
  const admin = useCan()('admin');
  const tokens = useLoad(() => api.listTokens(), [api]);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ key: { name: string }; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<{ token: AdminToken; last: boolean } | null>(null);
  const [revokeError, setRevokeError] = useState<unknown>(undefined);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      tokens.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const create = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const result = await api.createToken(name.trim());
      setCreated({ key: result.token, secret: result.secret });
      setName('');
    });
  };

  const rotate = (token: AdminToken) =>
    run(async () => {
      const result = await api.rotateToken(token.id);
      setCreated({ key: result.token, secret: result.secret });
    });

  const revoke = async () => {
    if (revoking === null) return;
    setBusy(true);
    try {
      await api.revokeToken(revoking.token.id, revoking.last);
      setRevoking(null);
      setRevokeError(undefined);
      tokens.reload();
    } catch (e) {
      setRevokeError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2>Admin tokens</h2>
      <p className="muted">
        Admin tokens sign in to this dashboard, the CLI and the admin API. The audit log names the token
        behind every change (<code>token:&lt;name&gt;</code>).
      </p>
      {created !== null ? (
        <CreatedSecret created={created} what="Admin token" onDone={() => setCreated(null)} />
      ) : null}
      {admin ? (
        <form className="card form" onSubmit={create}>
          <div className="field">
            <label htmlFor="token-name">Name</label>
            <input id="token-name" value={name} onChange={(e) => setName(e.target.value)} required />
          </div>
          <ErrorMessage error={error} />
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={busy || name.trim() === ''}>
              Create token
            </button>
          </div>
        </form>
      ) : null}
      <Pending loaded={tokens} what="admin tokens">
        {(list) => {
          const active = list.filter((t) => t.revokedAt === null).length;
          return (
            <div className="table-wrap table-cards">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Created</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((t) => (
                    <tr key={t.id}>
                      <td data-label="Name">{t.name}</td>
                      <td data-label="Created">
                        <Time iso={t.createdAt} />
                      </td>
                      <td data-label="Status">
                        {t.revokedAt === null ? (
                          <Badge tone="good">active</Badge>
                        ) : (
                          <Badge tone="bad">revoked</Badge>
                        )}
                      </td>
                      <td data-label="Actions">
                        {t.revokedAt === null && admin ? (
                          <>
                            <button
                              type="button"
                              className="button button-small"
                              disabled={busy}
                              onClick={() => void rotate(t)}
                            >
                              Rotate<span className="visually-hidden"> {t.name}</span>
                            </button>{' '}
                            <button
                              type="button"
                              className="button button-small"
                              onClick={() => setRevoking({ token: t, last: active === 1 })}
                            >
                              Revoke<span className="visually-hidden"> {t.name}</span>
                            </button>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Pending>
      {revoking !== null ? (
        <ConfirmDialog
          title={`Revoke admin token “${revoking.token.name}”?`}
          message={
            <p>
              {revoking.last
                ? 'This is the last active admin token: nobody can use the admin API, the CLI or this dashboard afterwards until the server is restarted (a restart creates a new token). '
                : 'Everything using this token loses access within a second. '}
              This cannot be undone.
            </p>
          }
          confirmLabel={revoking.last ? 'Revoke the last token' : 'Revoke token'}
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
    </>
  );
}
