/**
 * One rollout: the stage timeline, current reach, actions with a confirmation that says what will happen,
 * a chart per guardrail, and the decision log with each decision's evidence and the rule that fired.
 */
import { useEffect, useMemo, useState } from 'react';
import type { MetricEvidence, Rollout, RolloutAction, RolloutDecision } from '../api.ts';
import { guardrailNames, guardrailSeries } from '../chart-data.ts';
import { GuardrailChart } from '../components/guardrail-chart.tsx';
import {
  Badge,
  ConfirmDialog,
  PageHeader,
  Pending,
  Time,
  type Tone,
  useLoad,
  useSession,
} from '../components/ui.tsx';
import { allowedActions, describeAction, formatDuration, formatPercent, rolloutReach } from '../describe.ts';
import { href } from '../router.ts';
import { HealthBadge, ReachMeter, stateTone } from './rollouts.tsx';

/** How often a running rollout's page refreshes, in milliseconds. */
const REFRESH_MS = 5_000;

const ACTION_LABEL: Record<RolloutAction, string> = {
  start: 'Start',
  advance: 'Advance',
  pause: 'Pause',
  resume: 'Resume',
  rollback: 'Roll back',
  complete: 'Complete',
};

function decisionTone(action: string): Tone {
  if (action === 'rollback') return 'bad';
  if (action === 'advance' || action === 'complete') return 'good';
  if (action === 'hold') return 'warn';
  return 'info';
}

function num(x: number | null | undefined, digits = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toPrecision(digits) : '—';
}

function Timeline({ rollout }: { rollout: Rollout }) {
  const active = rollout.state === 'running' || rollout.state === 'paused' || rollout.state === 'holding';
  return (
    <ol className="timeline" aria-label="Stages">
      {rollout.stages.map((stage, i) => {
        const done = i < rollout.stage || rollout.state === 'completed';
        const current = i === rollout.stage && active;
        const started = rollout.history?.find((h) => h.stage === i);
        return (
          <li
            // biome-ignore lint/suspicious/noArrayIndexKey: stages are positional
            key={i}
            className={`step${done ? ' step-done' : ''}${current ? ' step-current' : ''}`}
            aria-current={current ? 'step' : undefined}
          >
            <span className="step-dot" aria-hidden="true" />
            <span className="step-title">
              Stage {i + 1}: {formatPercent(stage.reach)}
            </span>
            <span className="muted small">
              {[
                stage.minDuration !== undefined ? `≥ ${formatDuration(stage.minDuration)}` : null,
                stage.minUnitsPerArm !== undefined
                  ? `≥ ${stage.minUnitsPerArm.toLocaleString()} units/arm`
                  : null,
                started ? new Date(started.at).toLocaleString() : null,
                current ? rollout.state.replace('_', ' ') : done ? 'done' : null,
              ]
                .filter((part) => part !== null)
                .join(' · ')}
            </span>
          </li>
        );
      })}
      {rollout.holdback !== undefined && rollout.holdback > 0 ? (
        <li className="step">
          <span className="step-dot" aria-hidden="true" />
          <span className="step-title">Holdback {formatPercent(rollout.holdback)}</span>
          <span className="muted small">kept on control for long-term measurement</span>
        </li>
      ) : null}
    </ol>
  );
}

function EvidenceTable({ metrics }: { metrics: MetricEvidence[] }) {
  if (metrics.length === 0) return <p className="muted">No guardrail evidence in this decision.</p>;
  return (
    <div className="table-wrap">
      <table className="evidence">
        <thead>
          <tr>
            <th scope="col">Guardrail</th>
            <th scope="col">Difference</th>
            <th scope="col">Lift</th>
            <th scope="col">Interval</th>
            <th scope="col">z / boundary</th>
            <th scope="col">Info</th>
            <th scope="col">n (T / C)</th>
            <th scope="col">Verdict</th>
          </tr>
        </thead>
        <tbody>
          {metrics.map((m) => (
            <tr key={m.metric}>
              <td className="strong">{m.metric}</td>
              <td>{num(m.estimate)}</td>
              <td>{m.relativeLift !== undefined ? formatPercent(m.relativeLift * 100) : '—'}</td>
              <td>
                [{num(m.interval?.[0])}, {num(m.interval?.[1])}]
              </td>
              <td>
                {num(m.z)} / {m.boundary === null || m.boundary === undefined ? '∞' : num(m.boundary)}
              </td>
              <td>
                {m.informationFraction !== undefined ? formatPercent(m.informationFraction * 100) : '—'}
              </td>
              <td>
                {m.nTreatment?.toLocaleString() ?? '—'} / {m.nControl?.toLocaleString() ?? '—'}
              </td>
              <td>
                {m.deteriorated ? (
                  <Badge tone="bad">harm</Badge>
                ) : m.nonInferior ? (
                  <Badge tone="good">non-inferior</Badge>
                ) : (
                  <Badge tone="neutral">open</Badge>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DecisionLog({ decisions }: { decisions: RolloutDecision[] }) {
  const newestFirst = [...decisions].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  if (newestFirst.length === 0)
    return <p className="empty">No decisions yet: the controller records one at every look.</p>;
  return (
    <ol className="decisions" aria-label="Decision log">
      {newestFirst.map((d) => (
        <li key={d.id} className="decision card" data-testid="decision">
          <div className="decision-head">
            <Badge tone={decisionTone(d.action)}>{d.action}</Badge>
            <span>
              rule <code>{d.rule}</code>
            </span>
            <span className="muted small">
              <Time iso={d.at} /> · stage {d.stage + 1} · reach {formatPercent(d.reach)}
              {d.actor !== undefined ? ` · by ${d.actor}` : ''}
            </span>
          </div>
          {d.message ? <p>{d.message}</p> : null}
          <details>
            <summary>Evidence</summary>
            <EvidenceTable metrics={d.evidence?.metrics ?? []} />
            {d.evidence?.srm ? (
              <p className="small">
                Sample-ratio check: always-valid p = {num(d.evidence.srm.p)}
                {d.evidence.srm.action ? ` (${d.evidence.srm.action})` : ''}
              </p>
            ) : null}
          </details>
        </li>
      ))}
    </ol>
  );
}

export function RolloutDetailPage({ id }: { id: string }) {
  const { api } = useSession();
  const loaded = useLoad(async () => {
    const [rollout, decisions] = await Promise.all([api.getRollout(id), api.listDecisions(id)]);
    return { rollout, decisions };
  }, [api, id]);
  const [pending, setPending] = useState<RolloutAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const running = loaded.data?.rollout.state === 'running';
  const { reload } = loaded;

  useEffect(() => {
    if (!running || pending !== null) return;
    const timer = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [running, pending, reload]);

  const series = useMemo(() => {
    const data = loaded.data;
    if (data === undefined) return [];
    const names = guardrailNames(data.decisions);
    for (const g of data.rollout.guardrails) if (!names.includes(g.metric)) names.push(g.metric);
    return names.map((name) => guardrailSeries(data.decisions, name));
  }, [loaded.data]);

  const act = async () => {
    if (pending === null) return;
    setBusy(true);
    setActionError(undefined);
    try {
      await api.rolloutAction(id, pending);
      setPending(null);
      reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Pending loaded={loaded} what="this rollout">
      {({ rollout, decisions }) => (
        <section>
          <PageHeader
            title={
              <>
                <span className="muted">Rollout</span> {rollout.id}
              </>
            }
          >
            {allowedActions(rollout).map((action) => (
              <button
                key={action}
                type="button"
                className={action === 'rollback' ? 'button button-danger' : 'button'}
                onClick={() => {
                  setActionError(undefined);
                  setPending(action);
                }}
              >
                {ACTION_LABEL[action]}
              </button>
            ))}
          </PageHeader>
          <dl className="facts">
            <div>
              <dt>Flag</dt>
              <dd>
                <a href={href({ page: 'flag', key: rollout.flag })}>{rollout.flag}</a> in{' '}
                {rollout.environment}
              </dd>
            </div>
            <div>
              <dt>Change</dt>
              <dd>
                {rollout.control} → <strong>{rollout.treatment}</strong>
              </dd>
            </div>
            <div>
              <dt>State</dt>
              <dd>
                <Badge tone={stateTone(rollout.state)}>{rollout.state.replace('_', ' ')}</Badge>{' '}
                <span className="muted small">
                  {rollout.mode}
                  {rollout.attempt > 1 ? ` · attempt ${rollout.attempt}` : ''}
                </span>
              </dd>
            </div>
            <div>
              <dt>Health</dt>
              <dd>
                <HealthBadge health={rollout.health} />
              </dd>
            </div>
            <div>
              <dt>Current reach</dt>
              <dd data-testid="current-reach">
                <ReachMeter percent={rolloutReach(rollout)} />
              </dd>
            </div>
          </dl>
          <h2>Stages</h2>
          <Timeline rollout={rollout} />
          <h2>Guardrails</h2>
          {series.length === 0 ? (
            <p className="muted">This rollout has no guardrails.</p>
          ) : (
            <div className="charts">
              {series.map((s) =>
                s.times.length === 0 ? (
                  <p key={s.metric} className="muted">
                    <strong>{s.metric}</strong>: no looks yet.
                  </p>
                ) : (
                  <GuardrailChart key={s.metric} series={s} />
                ),
              )}
            </div>
          )}
          <h2>Decisions</h2>
          <DecisionLog decisions={decisions} />
          {pending !== null ? (
            <ConfirmDialog
              title={`${ACTION_LABEL[pending]} rollout ${rollout.id}?`}
              message={<p>{describeAction(rollout, pending)}</p>}
              confirmLabel={ACTION_LABEL[pending]}
              danger={pending === 'rollback'}
              busy={busy}
              error={actionError}
              onConfirm={act}
              onCancel={() => setPending(null)}
            />
          ) : null}
        </section>
      )}
    </Pending>
  );
}
