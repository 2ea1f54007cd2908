/** Rollouts: each with its stage, current reach and health, and a form to plan a new one. */

import type { RolloutPlanPreview } from '@dimmer/api';
import { type FormEvent, useState } from 'react';
import type { Metric, Rollout, RolloutHealth, RolloutInput, Surface } from '../api.ts';
import { createRolloutPlan, planRollout } from '../api-admin.ts';
import { FieldIssues } from '../components/field-issues.tsx';
import { GuardrailPicker, guardrailInputs } from '../components/guardrail-picker.tsx';
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
import { formatDurationMs, formatFraction } from '../format.ts';
import { href, navigate } from '../router.ts';

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
  alarm: 'bad',
};

export function HealthBadge({ health }: { health: RolloutHealth | undefined }) {
  const h = health ?? 'unknown';
  return <Badge tone={HEALTH_TONE[h] ?? 'neutral'}>{h}</Badge>;
}

/** Defaults of packages/rollout, shown in the form so nobody has to guess them. */
const DEFAULT_MIN_DURATION = '24h';
const DEFAULT_MIN_UNITS_PER_ARM = 1_000;
const DEFAULT_REACHES = [1, 10, 50, 100];

interface StageDraft {
  reach: string;
  minDuration: string;
  minUnitsPerArm: string;
}

function defaultStages(): StageDraft[] {
  return DEFAULT_REACHES.map((reach) => ({
    reach: String(reach),
    minDuration: DEFAULT_MIN_DURATION,
    minUnitsPerArm: String(DEFAULT_MIN_UNITS_PER_ARM),
  }));
}

function NewRollout({ metrics }: { metrics: Metric[] }) {
  const { api, environments, environment } = useSession();
  const flags = useLoad(() => api.listFlags(), [api]);
  const surfaces = useLoad(() => api.listSurfaces().catch((): Surface[] => []), [api]);
  const [id, setId] = useState('');
  const [flagKey, setFlagKey] = useState('');
  const [env, setEnv] = useState(environment);
  const [treatment, setTreatment] = useState('');
  const [stages, setStages] = useState<StageDraft[]>(defaultStages);
  const [holdback, setHoldback] = useState('0');
  const [unitsPerDay, setUnitsPerDay] = useState('');
  const [guardrails, setGuardrails] = useState<string[]>([]);
  const [mode, setMode] = useState<'automatic' | 'manual'>('automatic');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const flag = flags.data?.find((f) => f.key === flagKey) ?? flags.data?.[0];
  const variants = flag ? Object.keys(flag.variants).filter((v) => v !== flag.defaultVariant) : [];
  const surface = surfaces.data?.find((s) => s.key === flag?.surface);
  const required = surface?.guardrails ?? [];
  const flagOff = flag !== undefined && flag.environments[env]?.enabled !== true;

  const setStage = (index: number, patch: Partial<StageDraft>) =>
    setStages((list) => list.map((s, i) => (i === index ? { ...s, ...patch } : s)));

  const [preview, setPreview] = useState<RolloutPlanPreview | null>(null);

  /** The create body from the form (the same for the dry run and the create). */
  const input = (): RolloutInput | null => {
    if (flag === undefined) return null;
    return {
      ...(id.trim() !== '' ? { id: id.trim() } : {}),
      flag: flag.key,
      environment: env,
      treatment: treatment || variants[0] || '',
      control: flag.defaultVariant,
      stages: stages.map((s) => ({
        reach: Number(s.reach),
        ...(s.minDuration.trim() !== '' ? { minDuration: s.minDuration.trim() } : {}),
        ...(s.minUnitsPerArm.trim() !== '' ? { minUnitsPerArm: Number(s.minUnitsPerArm) } : {}),
      })),
      ...(holdback.trim() !== '' && Number(holdback) !== 0 ? { holdback: Number(holdback) } : {}),
      guardrails: guardrailInputs(required, guardrails),
      mode,
      ...(unitsPerDay.trim() !== '' ? { expectedUnitsPerDay: Number(unitsPerDay) } : {}),
    };
  };

  /** The server's dry run: the same validation as create, the forecast per stage and the warnings. */
  const check = async () => {
    const body = input();
    if (body === null) return;
    setBusy(true);
    setError(undefined);
    setPreview(null);
    try {
      setPreview(await planRollout(api, body));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = input();
    if (body === null) return;
    setBusy(true);
    setError(undefined);
    try {
      const rollout = await createRolloutPlan(api, body);
      navigate({ page: 'rollout', id: rollout.id });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <details className="card">
      <summary className="summary-button">Plan a new rollout</summary>
      <form className="form" onSubmit={submit} noValidate>
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
        {flagOff ? (
          <p className="notice" role="status" data-testid="flag-off-warning">
            Flag {flag?.key} is <strong>off</strong> in {env}: while it is off every unit gets the default
            variant and the rollout measures nothing. Enable it on the flag’s page first.
          </p>
        ) : null}
        <div className="grid-3">
          <div className="field">
            <label htmlFor="ro-id">Rollout id (optional)</label>
            <input
              id="ro-id"
              value={id}
              placeholder="generated, e.g. ro_…"
              onChange={(e) => setId(e.target.value)}
            />
            <FieldIssues error={error} path="id" />
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
          <div className="field">
            <label htmlFor="ro-holdback">Holdback (% kept on control at the end)</label>
            <input
              id="ro-holdback"
              inputMode="decimal"
              value={holdback}
              onChange={(e) => setHoldback(e.target.value)}
            />
            <FieldIssues error={error} path="holdback" />
          </div>
        </div>
        <fieldset className="field">
          <legend>Stages</legend>
          <p className="hint">
            Each stage runs at least its minimum duration and until each arm holds its minimum units (defaults{' '}
            {DEFAULT_MIN_DURATION} and {DEFAULT_MIN_UNITS_PER_ARM.toLocaleString('en-US')} units per arm).
            Durations like 30m, 2h, 1d.
          </p>
          <div className="table-wrap table-cards">
            <table className="stage-table">
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col">Reach %</th>
                  <th scope="col">Minimum duration</th>
                  <th scope="col">Minimum units per arm</th>
                  <th scope="col">
                    <span className="visually-hidden">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {stages.map((s, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: stages are positional
                  <tr key={i}>
                    <th scope="row" data-label="Stage">
                      {i + 1}
                    </th>
                    <td data-label="Reach %">
                      <input
                        aria-label={`Stage ${i + 1} reach in percent`}
                        inputMode="decimal"
                        value={s.reach}
                        onChange={(e) => setStage(i, { reach: e.target.value })}
                      />
                      <FieldIssues error={error} path={`stages[${i}].reach`} />
                    </td>
                    <td data-label="Min. duration">
                      <input
                        aria-label={`Stage ${i + 1} minimum duration`}
                        value={s.minDuration}
                        placeholder={DEFAULT_MIN_DURATION}
                        onChange={(e) => setStage(i, { minDuration: e.target.value })}
                      />
                      <FieldIssues error={error} path={`stages[${i}].minDuration`} />
                    </td>
                    <td data-label="Min. units/arm">
                      <input
                        aria-label={`Stage ${i + 1} minimum units per arm`}
                        inputMode="numeric"
                        value={s.minUnitsPerArm}
                        placeholder={String(DEFAULT_MIN_UNITS_PER_ARM)}
                        onChange={(e) => setStage(i, { minUnitsPerArm: e.target.value })}
                      />
                      <FieldIssues error={error} path={`stages[${i}].minUnitsPerArm`} />
                    </td>
                    <td data-label="">
                      <button
                        type="button"
                        className="button button-small"
                        disabled={stages.length <= 1}
                        onClick={() => setStages((list) => list.filter((_, k) => k !== i))}
                      >
                        Remove stage {i + 1}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <button
            type="button"
            className="button button-small"
            onClick={() =>
              setStages((list) => [
                ...list,
                {
                  reach: '100',
                  minDuration: DEFAULT_MIN_DURATION,
                  minUnitsPerArm: String(DEFAULT_MIN_UNITS_PER_ARM),
                },
              ])
            }
          >
            Add a stage
          </button>
          <FieldIssues error={error} path="stages" />
        </fieldset>
        <GuardrailPicker
          metrics={metrics}
          required={required}
          surface={surface?.key}
          chosen={guardrails}
          onChange={setGuardrails}
          error={error}
        />
        <div className="field">
          <label htmlFor="ro-traffic">Expected new units a day (optional, for the forecast)</label>
          <input
            id="ro-traffic"
            inputMode="numeric"
            value={unitsPerDay}
            onChange={(e) => setUnitsPerDay(e.target.value)}
          />
          <FieldIssues error={error} path="expectedUnitsPerDay" />
        </div>
        <ErrorMessage error={error} />
        {preview !== null ? <PlanPreview preview={preview} /> : null}
        <p className="hint">
          Check the plan to see the server’s forecast (what each stage can detect, and when) and its warnings;
          creating makes a draft you start from its page.
        </p>
        <div className="form-actions">
          <button
            type="button"
            className="button"
            disabled={busy || flag === undefined}
            onClick={() => void check()}
          >
            Check plan
          </button>
          <button type="submit" className="button button-primary" disabled={busy || flag === undefined}>
            Create rollout
          </button>
        </div>
      </form>
    </details>
  );
}

/** The dry run's answer: warnings first, then each stage's expected schedule and what it can detect. */
function PlanPreview({ preview }: { preview: RolloutPlanPreview }) {
  const metrics = preview.plan.guardrails.map((g) => g.metric);
  return (
    <div className="card plan-preview" data-testid="plan-preview">
      <h3>
        Forecast at {Math.round(preview.forecast.traffic.unitsPerDay).toLocaleString('en-US')} units a day
      </h3>
      {preview.warnings.length > 0 ? (
        <ul className="notice" data-testid="plan-warnings">
          {preview.warnings.map((w) => (
            <li key={w.message} data-code={w.code}>
              {w.message}
            </li>
          ))}
        </ul>
      ) : (
        <p className="success">No warnings.</p>
      )}
      {preview.requiredGuardrails.length > 0 ? (
        <p>
          Required by the surface (cannot be removed):{' '}
          {preview.requiredGuardrails
            .map((g) => `${g.metric} (margin ${formatFraction(g.margin)})`)
            .join(', ')}
        </p>
      ) : null}
      <div className="table-wrap table-cards">
        <table>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">Reach</th>
              <th scope="col">Expected</th>
              {metrics.map((m) => (
                <th key={m} scope="col">
                  {m} detects
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {preview.schedule.map((st) => (
              <tr key={st.index}>
                <th scope="row" data-label="Stage">
                  {st.index + 1}
                </th>
                <td data-label="Reach">{formatPercent(st.reach)}</td>
                <td data-label="Expected">
                  {formatDurationMs(st.startsAfterMs)} → {formatDurationMs(st.endsAfterMs)}
                </td>
                {metrics.map((m) => {
                  const d = st.detects[m];
                  return (
                    <td key={m} data-label={`${m} detects`}>
                      {d === null || d === undefined ? '—' : `+${formatFraction(d)}`}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
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
              <div className="table-wrap table-cards">
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
                        <th scope="row" data-label="Rollout">
                          <a className="strong" href={href({ page: 'rollout', id: r.id })}>
                            {r.id}
                          </a>
                        </th>
                        <td data-label="Flag">
                          <a href={href({ page: 'flag', key: r.flag })}>{r.flag}</a>
                        </td>
                        <td data-label="Environment">{r.environment}</td>
                        <td data-label="State">
                          <Badge tone={stateTone(r.state)}>{r.state.replace('_', ' ')}</Badge>
                        </td>
                        <td data-label="Stage">
                          {r.stage + 1} of {r.stages.length}
                        </td>
                        <td data-label="Reach">
                          <ReachMeter percent={rolloutReach(r)} />
                        </td>
                        <td data-label="Health">
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
