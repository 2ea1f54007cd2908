/** The shell: sign-in (through the identity provider, or with an admin token kept in sessionStorage), the navigation, and the page for the route. */
import { type FormEvent, useEffect, useState } from 'react';
import { roleOf } from './access.ts';
import {
  Api,
  ApiError,
  type AuthConfig,
  type Environment,
  fetchAuthConfig,
  type Me,
  PATHS,
  TOKEN_STORAGE_KEY,
} from './api.ts';
import { ErrorMessage, type Session, SessionContext } from './components/ui.tsx';
import { AuditPage } from './pages/audit.tsx';
import { EnvironmentsPage } from './pages/environments.tsx';
import { ExperimentDetailPage } from './pages/experiment-detail.tsx';
import { ExperimentsPage } from './pages/experiments.tsx';
import { FlagDetailPage } from './pages/flag-detail.tsx';
import { FlagEditPage } from './pages/flag-edit.tsx';
import { FlagNewPage } from './pages/flag-new.tsx';
import { FlagsPage } from './pages/flags.tsx';
import { KeysPage } from './pages/keys.tsx';
import { MetricFormPage } from './pages/metric-form.tsx';
import { MetricsPage } from './pages/metrics.tsx';
import { PlaygroundPage } from './pages/playground.tsx';
import { RolloutDetailPage } from './pages/rollout-detail.tsx';
import { RolloutsPage } from './pages/rollouts.tsx';
import { SegmentFormPage, SegmentsPage } from './pages/segments.tsx';
import { SurfaceFormPage } from './pages/surface-form.tsx';
import { SurfacesPage } from './pages/surfaces.tsx';
import { href, type Route, useRoute } from './router.ts';

const ENV_STORAGE_KEY = 'dimmer.environment';
const PREFERRED_ENVIRONMENT = 'production';

function readStored(key: string): string | null {
  try {
    return window.sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStored(key: string, value: string | null): void {
  try {
    if (value === null) window.sessionStorage.removeItem(key);
    else window.sessionStorage.setItem(key, value);
  } catch {
    // storage may be disabled; the session then lasts until reload
  }
}

/** Whom the server says the caller is, with the environments: what the shell needs to render. */
interface SignedIn {
  api: Api;
  me: Me;
  environments: Environment[];
}

export function App() {
  const [token, setToken] = useState<string | null>(() => readStored(TOKEN_STORAGE_KEY));
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [checking, setChecking] = useState(true);
  const [signInError, setSignInError] = useState<unknown>(undefined);
  const [authConfig, setAuthConfig] = useState<AuthConfig | null>(null);

  useEffect(() => {
    let live = true;
    fetchAuthConfig().then(
      (config) => live && setAuthConfig(config),
      () => live && setAuthConfig({ oidc: null, tokenSignIn: true }),
    );
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    let live = true;
    // With a stored token, that token; otherwise the session cookie of a sign-in through the provider.
    const api = new Api(token);
    setChecking(true);
    // Who the caller is first: without a session cookie or token that is the one 401 of the sign-in page.
    api
      .me()
      .then(async (me) => [me, await api.listEnvironments()] as const)
      .then(
        ([me, environments]) => {
          if (!live) return;
          setSignedIn({ api, me, environments });
          setChecking(false);
        },
        (error: unknown) => {
          if (!live) return;
          setSignedIn(null);
          setChecking(false);
          if (token !== null) {
            writeStored(TOKEN_STORAGE_KEY, null);
            setToken(null);
            setSignInError(error);
          } else if (!(error instanceof ApiError && error.status === 401)) setSignInError(error);
        },
      );
    return () => {
      live = false;
    };
  }, [token]);

  const signIn = (candidate: string) => {
    writeStored(TOKEN_STORAGE_KEY, candidate);
    setSignInError(undefined);
    setToken(candidate);
  };
  const signOut = () => {
    const api = signedIn?.api;
    writeStored(TOKEN_STORAGE_KEY, null);
    const done = () => {
      setSignedIn(null);
      setToken(null);
    };
    // A person's session ends on the server too; the page returns to sign-in once it has.
    if (api !== undefined && !api.usesToken) api.logout().then(done, done);
    else done();
  };

  if (checking)
    return (
      <main className="center" id="main">
        <p role="status">Signing in…</p>
      </main>
    );
  if (signedIn === null) return <SignIn onSignIn={signIn} error={signInError} config={authConfig} />;
  return <Shell signedIn={signedIn} signOut={signOut} />;
}

function SignIn({
  onSignIn,
  error,
  config,
}: {
  onSignIn(token: string): void;
  error: unknown;
  config: AuthConfig | null;
}) {
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = value.trim();
    if (trimmed !== '') onSignIn(trimmed);
  };
  const unauthorized = error instanceof ApiError && (error.status === 401 || error.status === 403);
  const returnTo = `/${window.location.hash}`;
  return (
    <main className="center" id="main">
      <div className="card signin">
        <h1>
          <span className="logo" aria-hidden="true" /> Dimmer
        </h1>
        {config?.oidc ? (
          <p>
            <a
              className="button button-primary"
              href={`${PATHS.login}?returnTo=${encodeURIComponent(returnTo)}`}
            >
              Sign in with {config.oidc.providerName}
            </a>
          </p>
        ) : null}
        <form onSubmit={submit}>
          <p className="muted">
            {config?.oidc ? 'Or sign in with an admin token' : 'Sign in with an admin token'}. It stays in
            this browser tab only.
          </p>
          <label htmlFor="token">Admin token</label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="dmr_admin_…"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            required
          />
          {error !== undefined ? (
            <ErrorMessage
              error={error}
              title={unauthorized ? 'That token was not accepted.' : 'Could not reach the server.'}
            />
          ) : null}
          <button type="submit" className="button">
            Sign in with token
          </button>
        </form>
      </div>
    </main>
  );
}

const NAV: { label: string; route: Route; pages: Route['page'][] }[] = [
  { label: 'Flags', route: { page: 'flags' }, pages: ['flags', 'flag', 'flag-new', 'flag-edit'] },
  { label: 'Rollouts', route: { page: 'rollouts' }, pages: ['rollouts', 'rollout'] },
  { label: 'Experiments', route: { page: 'experiments' }, pages: ['experiments', 'experiment'] },
  { label: 'Metrics', route: { page: 'metrics' }, pages: ['metrics', 'metric-new', 'metric'] },
  { label: 'Surfaces', route: { page: 'surfaces' }, pages: ['surfaces', 'surface-new', 'surface'] },
  { label: 'Segments', route: { page: 'segments' }, pages: ['segments', 'segment-new', 'segment'] },
  { label: 'Environments', route: { page: 'environments' }, pages: ['environments'] },
  { label: 'Audit log', route: { page: 'audit' }, pages: ['audit'] },
  { label: 'Keys', route: { page: 'keys' }, pages: ['keys'] },
  { label: 'Playground', route: { page: 'playground' }, pages: ['playground'] },
];

function Shell({ signedIn, signOut }: { signedIn: SignedIn; signOut(): void }) {
  const { api, me, environments } = signedIn;
  const route = useRoute();
  const [environment, setEnvironmentState] = useState(() => {
    const stored = readStored(ENV_STORAGE_KEY);
    if (stored !== null && environments.some((e) => e.key === stored)) return stored;
    return environments.find((e) => e.key === PREFERRED_ENVIRONMENT)?.key ?? environments[0]?.key ?? '';
  });
  const session: Session = {
    api,
    me,
    environments,
    environment,
    setEnvironment: (key) => {
      writeStored(ENV_STORAGE_KEY, key);
      setEnvironmentState(key);
    },
    signOut,
  };

  useEffect(() => {
    const name = NAV.find((n) => n.pages.includes(route.page))?.label ?? 'Dimmer';
    document.title = `${name} · Dimmer`;
  }, [route.page]);

  return (
    <SessionContext.Provider value={session}>
      <button type="button" className="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header className="topbar">
        <a className="brand" href={href({ page: 'flags' })}>
          <span className="logo" aria-hidden="true" /> Dimmer
        </a>
        <nav aria-label="Main" className="nav">
          <ul>
            {NAV.map((item) => (
              <li key={item.label}>
                <a
                  href={href(item.route)}
                  aria-current={item.pages.includes(route.page) ? 'page' : undefined}
                >
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-tools">
          <label className="env-picker">
            <span>Environment</span>
            <select value={environment} onChange={(e) => session.setEnvironment(e.target.value)}>
              {environments.map((e) => (
                <option key={e.key} value={e.key}>
                  {e.name || e.key}
                </option>
              ))}
            </select>
          </label>
          <span className="whoami" title={me.actor}>
            {me.name ?? me.actor} · <span data-testid="role">{roleOf(me, environment) ?? 'no role'}</span>
          </span>
          <button type="button" className="button button-quiet" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="content">
        <Page route={route} />
      </main>
    </SessionContext.Provider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'flags':
      return <FlagsPage />;
    case 'flag-new':
      return <FlagNewPage />;
    case 'flag':
      return <FlagDetailPage flagKey={route.key} />;
    case 'flag-edit':
      return <FlagEditPage flagKey={route.key} />;
    case 'rollouts':
      return <RolloutsPage />;
    case 'rollout':
      return <RolloutDetailPage id={route.id} />;
    case 'experiments':
      return <ExperimentsPage />;
    case 'experiment':
      return <ExperimentDetailPage id={route.id} />;
    case 'surfaces':
      return <SurfacesPage />;
    case 'surface-new':
      return <SurfaceFormPage />;
    case 'surface':
      return <SurfaceFormPage key={route.key} surfaceKey={route.key} />;
    case 'metrics':
      return <MetricsPage />;
    case 'metric-new':
      return <MetricFormPage />;
    case 'metric':
      return <MetricFormPage key={route.key} metricKey={route.key} />;
    case 'segments':
      return <SegmentsPage />;
    case 'segment-new':
      return <SegmentFormPage />;
    case 'segment':
      return <SegmentFormPage key={route.key} segmentKey={route.key} />;
    case 'environments':
      return <EnvironmentsPage />;
    case 'audit':
      return <AuditPage />;
    case 'keys':
      return <KeysPage />;
    case 'playground':
      return <PlaygroundPage {...(route.flag !== undefined ? { initialFlag: route.flag } : {})} />;
    case 'not-found':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{route.path}</code>. <a href={href({ page: 'flags' })}>Go to flags</a>.
          </p>
        </section>
      );
  }
}
