/** Rollouts: each with its stage, current reach and health, and a form to plan a new one. */
import { type FormEvent, useState } from 'react';
import type { Metric, Rollout, RolloutHealth } from '../api.ts';
import {
  Badge,
  ErrorMessage,
  KeySelect,
  PageHeader,
  Pending,
  type Tone,
  useLoad,
  useSession,
} from '../components/ui.tsx';
import { formatPercent, rolloutReach } from '../describe.ts';
import { href, navigate } from '../router.ts';

const DEFAULT_STAGES = '1, 10, 50, 100';

/** Colour of a rollout state label. */
export function stateTone(state: Rollout['state']): Tone {
  switch (state) {
    case 'running':
      return 'info';
    case 'completed':
      return 'good';
    case 'rolled_back':
      return 'bad';
    case 'paused':
      return 'warn';
    default:
      return 'neutral';
  }
}

const HEALTH_TONE: Record<RolloutHealth, Tone> = {
  healthy: 'good',
  warning: 'warn',
  failing: 'bad',
  unknown: 'neutral',
};

export function HealthBadge({ health }: { health: RolloutHealth | undefined }) {
  const h = health ?? 'unknown';
  return <Badge tone={HEALTH_TONE[h] ?? 'neutral'}>{h}</Badge>;
}

function NewRollout({ metrics }: { metrics: Metric[] }) {
  const { api, environments, environment } = useSession();
  const flags = useLoad(() => api.listFlags(), [api]);
  const [flagKey, setFlagKey] = useState('');
  const [env, setEnv] = useState(environment);
  const [treatment, setTreatment] = useState('');
  const [stages, setStages] = useState(DEFAULT_STAGES);
  const [guardrails, setGuardrails] = useState<string[]>([]);
  const [mode, setMode] = useState<'automatic' | 'manual'>('automatic');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const flag = flags.data?.find((f) => f.key === flagKey) ?? flags.data?.[0];
  const variants = flag ? Object.keys(flag.variants).filter((v) => v !== flag.defaultVariant) : [];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (flag === undefined) return;
    const reaches = stages
      .split(/[\s,]+/)
      .filter((s) => s !== '')
      .map(Number);
    if (reaches.length === 0 || reaches.some((r) => !Number.isFinite(r) || r <= 0 || r > 100)) {
      setError(new Error('Stages: give reach percentages between 0 and 100, e.g. 1, 10, 50, 100.'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.createRollout({
        flag: flag.key,
        environment: env,
        treatment: treatment || variants[0] || '',
        control: flag.defaultVariant,
        stages: reaches.map((reach) => ({ reach })),
        guardrails: guardrails.map((metric) => ({ metric })),
        mode,
      });
      navigate({ page: 'rollout', id: created.id });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <details className="card">
      <summary className="summary-button">Plan a new rollout</summary>
      <form className="form" onSubmit={submit}>
        <div className="grid-3">
          <KeySelect
            id="ro-flag"
            label="Flag"
            value={flag?.key ?? ''}
            items={flags.data ?? []}
            onChange={setFlagKey}
          />
          <KeySelect id="ro-env" label="Environment" value={env} items={environments} onChange={setEnv} />
          <div className="field">
            <label htmlFor="ro-treatment">Treatment variant</label>
            <select
              id="ro-treatment"
              value={treatment || variants[0] || ''}
              onChange={(e) => setTreatment(e.target.value)}
            >
              {variants.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
            <p className="hint">Control is the default variant{flag ? ` (“${flag.defaultVariant}”)` : ''}.</p>
          </div>
        </div>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="ro-stages">Stages (reach in %)</label>
            <input id="ro-stages" value={stages} onChange={(e) => setStages(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="ro-mode">Mode</label>
            <select
              id="ro-mode"
              value={mode}
              onChange={(e) => setMode(e.target.value as 'automatic' | 'manual')}
            >
              <option value="automatic">automatic (the controller acts)</option>
              <option value="manual">manual (it recommends, you click)</option>
            </select>
          </div>
        </div>
        <fieldset className="field">
          <legend>Guardrails</legend>
          {metrics.length === 0 ? (
            <p className="muted">No metrics to choose from; the surface’s required guardrails still apply.</p>
          ) : (
            metrics.map((m) => (
              <label key={m.key} className="checkbox">
                <input
                  type="checkbox"
                  checked={guardrails.includes(m.key)}
                  onChange={(e) =>
                    setGuardrails((g) => (e.target.checked ? [...g, m.key] : g.filter((k) => k !== m.key)))
                  }
                />
                {m.key}
              </label>
            ))
          )}
        </fieldset>
        <ErrorMessage error={error} />
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy || flag === undefined}>
            Create rollout
          </button>
        </div>
      </form>
    </details>
  );
}

export function RolloutsPage() {
  const { api } = useSession();
  const rollouts = useLoad(() => api.listRollouts(), [api]);
  const metrics = useLoad(() => api.listMetrics().catch(() => []), [api]);
  return (
    <section>
      <PageHeader title="Rollouts" />
      <Pending loaded={rollouts} what="rollouts">
        {(list) => (
          <>
            <NewRollout metrics={metrics.data ?? []} />
            {list.length === 0 ? (
              <p className="empty">No rollouts yet.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Rollout</th>
                      <th scope="col">Flag</th>
                      <th scope="col">Environment</th>
                      <th scope="col">State</th>
                      <th scope="col">Stage</th>
                      <th scope="col">Reach</th>
                      <th scope="col">Health</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((r) => (
                      <tr key={r.id}>
                        <td>
                          <a className="strong" href={href({ page: 'rollout', id: r.id })}>
                            {r.id}
                          </a>
                        </td>
                        <td>
                          <a href={href({ page: 'flag', key: r.flag })}>{r.flag}</a>
                        </td>
                        <td>{r.environment}</td>
                        <td>
                          <Badge tone={stateTone(r.state)}>{r.state.replace('_', ' ')}</Badge>
                        </td>
                        <td>
                          {r.stage + 1} of {r.stages.length}
                        </td>
                        <td>
                          <ReachMeter percent={rolloutReach(r)} />
                        </td>
                        <td>
                          <HealthBadge health={r.health} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Pending>
    </section>
  );
}

/** A thin bar with the reach written beside it. */
export function ReachMeter({ percent }: { percent: number }) {
  return (
    <span className="reach">
      <span className="reach-track" aria-hidden="true">
        <span className="reach-fill" style={{ width: `${Math.min(100, Math.max(0, percent))}%` }} />
      </span>
      <span>{formatPercent(percent)}</span>
    </span>
  );
}
