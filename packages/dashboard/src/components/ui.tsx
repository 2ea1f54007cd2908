/** Small shared pieces: the session context, a data-loading hook, error display, badges and a confirm dialog. */
import type { ValidationIssue } from '@dimmer/core';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { can } from '../access.ts';
import { type Api, ApiError, type Environment, type Me, type Permission } from '../api.ts';

/** What every page needs: the API client, the caller, the environments and the one currently chosen. */
export interface Session {
  api: Api;
  /** The caller (person or token) and its roles. */
  me: Me;
  environments: Environment[];
  environment: string;
  setEnvironment(key: string): void;
  signOut(): void;
}

/** Whether the signed-in caller's role allows `permission` in `environment` (undefined: every environment). */
export function useCan(): (permission: Exclude<Permission, 'self'>, environment?: string) => boolean {
  const session = useSession();
  return (permission, environment) => can(session.me, permission, environment);
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session; pages render only inside it. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession outside the signed-in app');
  return session;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change and keeps the latest answer; stale answers are dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names the inputs in deps
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    latest.current().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** The validation issues of an error, when it has any. */
export function issuesOf(error: unknown): ValidationIssue[] {
  return error instanceof ApiError ? error.issues : [];
}

/** An error box: the API's message and each validation issue with its path. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string | undefined }) {
  if (error === undefined || error === null) return null;
  const message = error instanceof Error ? error.message : String(error);
  const issues = issuesOf(error);
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="error" role="alert">
      <strong>
        {title ?? (code === 'VALIDATION_FAILED' ? 'The server rejected this:' : 'Something went wrong:')}
      </strong>
      {issues.length > 0 ? (
        <ul className="issues">
          {issues.map((issue) => (
            <li key={`${issue.path}:${issue.message}`}>
              <code>{issue.path || '(document)'}</code> {issue.message}
            </li>
          ))}
        </ul>
      ) : (
        <p>{message}</p>
      )}
    </div>
  );
}

/** Loading, error or content; a planned route that the server lacks gets a plain notice instead of an error. */
export function Pending<T>({
  loaded,
  what,
  children,
}: {
  loaded: Loaded<T>;
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (loaded.error !== undefined) {
    if (loaded.error instanceof ApiError && loaded.error.routeMissing)
      return (
        <p className="notice" role="status">
          This server does not offer {what} yet.
        </p>
      );
    return <ErrorMessage error={loaded.error} />;
  }
  if (loaded.data === undefined)
    return (
      <p className="muted" role="status">
        Loading {what}…
      </p>
    );
  return <>{children(loaded.data)}</>;
}

export type Tone = 'good' | 'bad' | 'warn' | 'neutral' | 'info';

/** A small coloured label; the text carries the meaning, colour only repeats it. */
export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** A page title with optional actions on the right. */
export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children !== undefined ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}

/** A modal confirmation (native `<dialog>`: focus stays inside, Escape cancels). */
export function ConfirmDialog({
  title,
  message,
  confirmLabel,
  danger,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: unknown;
  onConfirm(): void;
  onCancel(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="confirm-title">{title}</h2>
      <div className="dialog-body">{message}</div>
      <ErrorMessage error={error} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          className={danger ? 'button button-danger' : 'button button-primary'}
          onClick={onConfirm}
          disabled={busy}
        >
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** A date-time in the reader's locale, with the ISO value as a machine-readable attribute. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (iso === null || iso === undefined) return <span className="muted">—</span>;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span>{iso}</span>;
  return <time dateTime={iso}>{date.toLocaleString()}</time>;
}

/** A labelled drop-down over items named by their `key` (flags, environments). */
export function KeySelect({
  id,
  label,
  value,
  items,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  items: readonly { key: string }[];
  onChange(key: string): void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {items.map((item) => (
          <option key={item.key} value={item.key}>
            {item.key}
          </option>
        ))}
      </select>
    </div>
  );
}
