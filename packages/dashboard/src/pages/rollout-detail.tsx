/**
 * One rollout: a banner that says what happened, who acted and what to do next; the recommendation waiting
 * for a person (manual mode) with an Apply button; the results per guardrail; the forecast; the stages;
 * a chart per guardrail over the whole rollout; and the decision log with repeated holds folded.
 * The page keeps its data through failed refreshes and recovers on its own.
 */

import type { PlanReply, RolloutView } from '@dimmer/api';
import { useMemo, useState } from 'react';
import type { RolloutAction } from '../api.ts';
import { type DecisionDetail, type LiveUnits, shippedFrom } from '../api-admin.ts';
import { chartMarkers, guardrailNames, guardrailSeries, seriesFromChart } from '../chart-data.ts';
import { GuardrailChart } from '../components/guardrail-chart.tsx';
import { ResultsTable, StaleBanner, VerdictBanner } from '../components/results.tsx';
import {
  Badge,
  ConfirmDialog,
  ErrorMessage,
  PageHeader,
  Time,
  type Tone,
  useCan,
  useLoad,
  useSession,
} from '../components/ui.tsx';
import { decisionActions, decisionLog } from '../decision-log.ts';
import { allowedActions, describeAction, formatPercent, rolloutReach } from '../describe.ts';
import { formatClock, formatCount, formatDurationMs, formatFraction } from '../format.ts';
import { useLiveRollout } from '../live-rollout.ts';
import { href } from '../router.ts';
import {
  type Banner,
  describeRecommendation,
  lastActionText,
  resultRows,
  rolloutBanner,
} from '../verdict.ts';

/** The banner with the rollout's last action under its headline, when there is one. */
function withLastAction(banner: Banner, last: string | null): Banner {
  return last === null ? banner : { ...banner, lastAction: last };
}

import { HealthBadge, ReachMeter, stateTone } from './rollouts.tsx';

const ACTION_LABEL: Record<RolloutAction, string> = {
  start: 'Start',
  advance: 'Advance',
  pause: 'Pause',
  resume: 'Resume',
  rollback: 'Roll back',
  complete: 'Complete',
};
/** Power below which the forecast is flagged. */
const POWER_TARGET = 0.8;

function decisionTone(action: string): Tone {
  if (action === 'rollback') return 'bad';
  if (action === 'advance' || action === 'complete') return 'good';
  if (action === 'hold') return 'warn';
  return 'info';
}

function isAction(x: string): x is RolloutAction {
  return ['start', 'advance', 'pause', 'resume', 'rollback', 'complete'].includes(x);
}

function Recommendation({
  rollout,
  decisions,
  onApply,
}: {
  rollout: RolloutView;
  decisions: DecisionDetail[];
  onApply(action: RolloutAction): void;
}) {
  const rec = rollout.recommendation;
  if (rec === null) return null;
  const decision = decisions.find((d) => d.id === String(rec.decision)) ?? decisions[0];
  const action = rec.action;
  return (
    <section className="card recommendation" aria-label="Recommendation" data-testid="recommendation">
      <h2>
        Recommended: <Badge tone={decisionTone(action)}>{action}</Badge>
      </h2>
      <p className="strong">
        {describeRecommendation(rollout, decision, action, rec.toStage)}{' '}
        <span className="muted small">({formatClock(rec.at)})</span>
      </p>
      <details>
        <summary>The controller’s full note</summary>
        <p className="small">{rec.reason}</p>
      </details>
      <ResultsTable rows={resultRows(decision)} caption="The evidence behind the recommendation" />
      {isAction(action) ? (
        <button
          type="button"
          className={action === 'rollback' ? 'button button-danger' : 'button button-primary'}
          onClick={() => onApply(action)}
        >
          Apply: {ACTION_LABEL[action]}
        </button>
      ) : (
        <p className="muted">This recommendation has no matching action.</p>
      )}
    </section>
  );
}

function Forecast({ plan, rollout }: { plan: PlanReply; rollout: RolloutView }) {
  const { traffic, forecast } = plan;
  const metrics = rollout.guardrails.map((g) => g.metric);
  const weak = Object.entries(forecast.powerPerMetric).filter(([, p]) => p < POWER_TARGET);
  return (
    <div className="forecast" data-testid="forecast">
      <p className="small">
        At {formatCount(traffic.unitsPerDay)} new units a day (
        {traffic.source === 'observed'
          ? 'observed'
          : traffic.source === 'expected'
            ? 'as stated'
            : 'assumed: nothing observed or stated yet'}
        ):
      </p>
      <div className="table-wrap table-cards">
        <table>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">Runs about</th>
              <th scope="col">Units per arm by the end</th>
              <th scope="col">Smallest regression it catches (80% power)</th>
            </tr>
          </thead>
          <tbody>
            {forecast.stages.map((s) => (
              <tr key={s.index}>
                <th scope="row" data-label="Stage">
                  {s.index + 1}: {formatPercent(s.reach)}
                </th>
                <td data-label="Runs about">{formatDurationMs(s.durationMs)}</td>
                <td data-label="Units per arm">
                  {formatCount(s.expectedUnitsPerArm.treatment)} treatment /{' '}
                  {formatCount(s.expectedUnitsPerArm.control)} control
                </td>
                <td data-label="Detects">
                  {metrics
                    .map((m) => {
                      const mde = s.mdePerMetric[m];
                      if (mde === undefined || mde === null)
                        return `${m}: unknown (${s.index === forecast.stages.length - 1 ? 'the last stage is watched by a confidence sequence' : 'no baseline yet'})`;
                      return `${m}: ${mde.relative !== null ? formatFraction(mde.relative, { signed: true }) : mde.absolute.toPrecision(2)}`;
                    })
                    .join('; ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {Object.keys(forecast.powerPerMetric).length > 0 ? (
        <p className="small">
          Power to show each guardrail within its margin:{' '}
          {Object.entries(forecast.powerPerMetric)
            .map(([m, p]) => `${m} ${formatFraction(p)}`)
            .join(', ')}
          .
        </p>
      ) : null}
      {weak.length > 0 || forecast.warnings.length > 0 ? (
        <ul className="warnings" aria-label="Forecast warnings">
          {weak.map(([m, p]) => (
            <li key={`power-${m}`}>
              {m}: only {formatFraction(p)} power (below 80%): lengthen the stages or widen the margin.
            </li>
          ))}
          {forecast.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function Timeline({ rollout }: { rollout: RolloutView }) {
  const base = rollout;
  const active = base.state === 'running' || base.state === 'paused' || base.state === 'holding';
  return (
    <ol className="timeline" aria-label="Stages">
      {rollout.stages.map((stage, i) => {
        const done = i < base.stage || base.state === 'completed';
        const current = i === base.stage && active;
        const started = rollout.history.find(
          (h) =>
            h.kind === 'action' && h.stageIndex === i && (h.action === 'advance' || h.action === 'start'),
        );
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
                stage.minDuration > 0 ? `at least ${formatDurationMs(stage.minDuration)}` : null,
                stage.minUnitsPerArm > 0 ? `${formatCount(stage.minUnitsPerArm)} units per arm` : null,
                started ? `began ${formatClock(started.at)}` : null,
                current ? base.state.replace('_', ' ') : done ? 'done' : null,
              ]
                .filter((part) => part !== null)
                .join(' · ')}
            </span>
          </li>
        );
      })}
      {rollout.holdback > 0 ? (
        <li className="step">
          <span className="step-dot" aria-hidden="true" />
          <span className="step-title">Holdback {formatPercent(rollout.holdback)}</span>
          <span className="muted small">kept on control for long-term measurement</span>
        </li>
      ) : null}
    </ol>
  );
}

function DecisionLog({ decisions }: { decisions: DecisionDetail[] }) {
  const [filter, setFilter] = useState('all');
  const entries = useMemo(() => decisionLog(decisions, filter), [decisions, filter]);
  const actions = decisionActions(decisions);
  if (decisions.length === 0)
    return <p className="empty">No decisions yet: the controller records one at every look.</p>;
  return (
    <>
      <div className="field field-inline">
        <label htmlFor="decision-filter">Show</label>
        <select id="decision-filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
          <option value="all">
            every change ({decisions.length} {decisions.length === 1 ? 'look' : 'looks'})
          </option>
          {actions.map((a) => (
            <option key={a} value={a}>
              {a} only
            </option>
          ))}
        </select>
      </div>
      <ol className="decisions" aria-label="Decision log">
        {entries.map(({ decision: d, count, firstAt, lastAt }) => (
          <li key={d.id} className="decision" data-testid="decision">
            <div className="decision-head">
              <Badge tone={decisionTone(d.action)}>{d.action}</Badge>
              <code>{d.rule}</code>
              {count > 1 ? (
                <span className="small" data-testid="decision-repeat">
                  ×{count}, {formatClock(firstAt)}–{formatClock(lastAt)}
                </span>
              ) : (
                <span className="small">
                  <Time iso={d.at} />
                </span>
              )}
              <span className="muted small">
                stage {d.stage + 1} · reach {formatPercent(d.reach)}
                {d.applied === false && d.action !== 'hold' ? ' · recommended, not applied' : ''}
                {d.applied === true && d.action !== 'hold' ? ' · applied by the controller' : ''}
              </span>
            </div>
            {d.message ? <p className="decision-reason">{d.message}</p> : null}
            {d.looks.length > 0 ? (
              <details>
                <summary>Evidence</summary>
                <ResultsTable rows={resultRows(d)} caption={`Guardrails at ${formatClock(d.at)}`} />
              </details>
            ) : null}
          </li>
        ))}
      </ol>
    </>
  );
}

function LiveUnitsText({ units }: { units: LiveUnits | null }) {
  if (units === null) return <span className="muted">—</span>;
  return (
    <span data-testid="live-units">
      {formatCount(units.treatment)} treatment / {formatCount(units.control)} control
    </span>
  );
}

export function RolloutDetailPage({ id }: { id: string }) {
  const { api } = useSession();
  const allowed = useCan();
  const live = useLiveRollout(api, id);
  const [pending, setPending] = useState<{ action: RolloutAction; applying: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const { detail: rollout, decisions, chart } = live;

  const charts = useMemo(() => {
    if (rollout === undefined) return [];
    const names = chart !== null ? Object.keys(chart.metrics) : guardrailNames(decisions);
    for (const g of rollout.guardrails) if (!names.includes(g.metric)) names.push(g.metric);
    const kinds = new Map<string, string | undefined>(rollout.guardrails.map((g) => [g.metric, g.kind]));
    for (const d of decisions) for (const l of d.looks) if (!kinds.has(l.metric)) kinds.set(l.metric, l.kind);
    // The server's chart covers every look of the rollout; the decision log (folded) is the fallback.
    return names.map((name) => ({
      series: chart !== null ? seriesFromChart(chart, name) : guardrailSeries(decisions, name),
      kind: kinds.get(name),
    }));
  }, [rollout, decisions, chart]);
  const markers = useMemo(() => chartMarkers(rollout?.history ?? []), [rollout]);
  const flag = rollout?.flag;
  const environment = rollout?.environment;
  const origin = useLoad(
    async () =>
      flag === undefined || environment === undefined ? null : shippedFrom(api, { id, flag, environment }),
    [api, id, flag, environment],
  );

  if (rollout === undefined) {
    if (live.error !== undefined)
      return (
        <section>
          <PageHeader title={`Rollout ${id}`} />
          <ErrorMessage error={live.error} title="Could not load this rollout." />
          <p className="muted" role="status">
            Retrying on its own
            {live.retryAt !== null ? ` at ${formatClock(new Date(live.retryAt).toISOString())}` : ''}.{' '}
            <button type="button" className="button" onClick={live.refresh}>
              Retry now
            </button>
          </p>
        </section>
      );
    return (
      <p className="muted" role="status">
        Loading this rollout…
      </p>
    );
  }

  const base = rollout;
  const latestWithEvidence = decisions.find((d) => d.looks.length > 0);
  const act = async () => {
    if (pending === null) return;
    setBusy(true);
    setActionError(undefined);
    try {
      await api.rolloutAction(id, pending.action);
      setPending(null);
      live.refresh();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeader
        title={
          <>
            <span className="muted">Rollout</span> {base.id}
          </>
        }
      >
        {allowedActions(base).map((action) => (
          <button
            key={action}
            type="button"
            className={action === 'rollback' ? 'button button-danger' : 'button'}
            disabled={!allowed('release', base.environment)}
            title={
              allowed('release', base.environment)
                ? undefined
                : `Needs the releaser role in ${base.environment}`
            }
            onClick={() => {
              setActionError(undefined);
              setPending({ action, applying: false });
            }}
          >
            {ACTION_LABEL[action]}
          </button>
        ))}
      </PageHeader>
      {live.error !== undefined ? (
        <StaleBanner
          error={live.error}
          fetchedAt={live.fetchedAt}
          retryAt={live.retryAt}
          onRetry={live.refresh}
        />
      ) : null}
      <VerdictBanner banner={withLastAction(rolloutBanner(rollout, decisions), lastActionText(rollout))} />
      <Recommendation
        rollout={rollout}
        decisions={decisions}
        onApply={(action) => {
          setActionError(undefined);
          setPending({ action, applying: true });
        }}
      />
      <dl className="facts">
        <div>
          <dt>Flag</dt>
          <dd>
            <a href={href({ page: 'flag', key: base.flag })}>{base.flag}</a> in {base.environment}
          </dd>
        </div>
        {origin.data != null ? (
          <div>
            <dt>Ships the winner of</dt>
            <dd>
              <a href={href({ page: 'experiment', id: origin.data.id })} data-testid="shipped-from">
                {origin.data.id}
              </a>
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Change</dt>
          <dd>
            {base.control} → <strong>{base.treatment}</strong>
          </dd>
        </div>
        <div>
          <dt>State</dt>
          <dd>
            <Badge tone={stateTone(base.state)}>{base.state.replace('_', ' ')}</Badge>{' '}
            <span className="muted small">
              {base.mode}
              {base.attempt > 1 ? ` · attempt ${base.attempt}` : ''}
            </span>
          </dd>
        </div>
        <div>
          <dt>Health</dt>
          <dd>
            <HealthBadge health={base.health} />
          </dd>
        </div>
        <div>
          <dt>Current reach</dt>
          <dd data-testid="current-reach">
            <ReachMeter percent={rolloutReach(base)} />
          </dd>
        </div>
        <div>
          <dt>Units so far</dt>
          <dd>
            <LiveUnitsText units={live.units} />
          </dd>
        </div>
      </dl>
      <h2>Results</h2>
      <ResultsTable
        rows={resultRows(latestWithEvidence)}
        caption={
          latestWithEvidence
            ? `Latest look, ${formatClock(latestWithEvidence.at)}. Intervals are those of the test that decided, on the log-ratio scale for relative changes.`
            : ''
        }
      />
      {live.forecast !== null ? (
        base.state === 'draft' ? (
          <>
            <h2>Forecast</h2>
            <Forecast plan={live.forecast} rollout={rollout} />
          </>
        ) : (
          <details className="card">
            <summary>Forecast: what each stage can detect</summary>
            <Forecast plan={live.forecast} rollout={rollout} />
          </details>
        )
      ) : null}
      <h2>Stages</h2>
      <Timeline rollout={rollout} />
      <h2>Guardrails over time</h2>
      {charts.length === 0 ? (
        <p className="muted">This rollout has no guardrails.</p>
      ) : (
        <div className="charts">
          {charts.map(({ series, kind }) =>
            series.times.length === 0 ? (
              <p key={series.metric} className="muted">
                <strong>{series.metric}</strong>: no looks yet.
              </p>
            ) : (
              <GuardrailChart key={series.metric} series={series} kind={kind} markers={markers} />
            ),
          )}
        </div>
      )}
      <h2>Decisions</h2>
      <DecisionLog decisions={decisions} />
      {pending !== null ? (
        <ConfirmDialog
          title={`${pending.applying ? 'Apply the recommendation: ' : ''}${ACTION_LABEL[pending.action]} rollout ${base.id}?`}
          message={<p>{describeAction(base, pending.action)}</p>}
          confirmLabel={ACTION_LABEL[pending.action]}
          danger={pending.action === 'rollback'}
          busy={busy}
          error={actionError}
          onConfirm={act}
          onCancel={() => setPending(null)}
        />
      ) : null}
    </section>
  );
}
