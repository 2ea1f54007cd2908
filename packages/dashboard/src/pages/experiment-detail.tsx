/**
 * One experiment: a banner with the state and the recommendation in words (and the reason), the results per
 * metric and variant with the rollout page's conventions, the sample-ratio check, the sample plan (before the
 * start) or the progress toward it, and the actions: start, grow coverage, stop, abort, and ship the winner
 * as a guarded rollout. The page keeps its data through failed refreshes and recovers on its own.
 */
import type { ExperimentResults, ExperimentSamplePlanView, ExperimentView } from '@dimmer/api';
import { type FormEvent, useState } from 'react';
import {
  experimentAction,
  getExperiment,
  getExperimentResults,
  setExperimentCoverage,
  shipExperiment,
} from '../api-admin.ts';
import { FieldIssues, issuesAt } from '../components/field-issues.tsx';
import { ResultsTable, StaleBanner, VerdictBanner } from '../components/results.tsx';
import { Badge, ConfirmDialog, ErrorMessage, PageHeader, useSession } from '../components/ui.tsx';
import { formatPercent } from '../describe.ts';
import { experimentBanner, experimentRows, sampleProgress, srmStatus } from '../experiment-verdict.ts';
import { formatClock, formatCount, formatDurationMs, formatFraction } from '../format.ts';
import { optional, useLive } from '../live.ts';
import { href, navigate } from '../router.ts';
import { experimentTone, recalledPlan } from './experiments.tsx';
import { ReachMeter } from './rollouts.tsx';

const DAY_MS = 86_400_000;

type Action = 'start' | 'stop' | 'abort' | 'ship';

interface Data {
  experiment: ExperimentView;
  /** The latest recorded look, else (running) a look now. */
  results: ExperimentResults | null;
  /** Whether `results` is a recorded look. */
  recorded: boolean;
}

const LIVE_STATUSES = ['draft', 'running'];

function SamplePlan({ plan }: { plan: ExperimentSamplePlanView }) {
  const source =
    plan.traffic.source === 'expected'
      ? 'as stated'
      : plan.traffic.source === 'observed'
        ? 'observed'
        : 'assumed: nothing stated';
  return (
    <div className="forecast" data-testid="sample-plan">
      <p>
        At {formatCount(plan.traffic.unitsPerDay)} new units a day ({source}),{' '}
        {formatCount(plan.coveredUnitsPerDay)} of them in the experiment:{' '}
        <strong>
          {plan.coveredUnits === null
            ? 'the sample size cannot be planned yet'
            : `${formatCount(plan.coveredUnits)} units in all`}
        </strong>
        {plan.durationDays !== null ? (
          <>
            , about <strong>{formatDurationMs(plan.durationDays * DAY_MS)}</strong>
          </>
        ) : null}
        {plan.drivingMetric !== null ? ` (set by ${plan.drivingMetric})` : ''}.
      </p>
      <div className="table-wrap table-cards">
        <table aria-label="Required sample per arm">
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Units needed</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(plan.unitsPerArm).map(([variant, n]) => (
              <tr key={variant}>
                <th scope="row" data-label="Variant">
                  {variant}
                </th>
                <td data-label="Units needed">
                  {n === null ? 'unknown (no current value)' : formatCount(n)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {plan.metrics.length > 0 ? (
        <ul className="small">
          {plan.metrics.map((m) => (
            <li key={m.metric}>
              {m.metric} ({m.role}): {m.role === 'success' ? 'find a lift of' : 'show it within'}{' '}
              {formatFraction(m.relativeEffect)} with {formatFraction(m.power)} power at α{' '}
              {Number(m.alpha.toPrecision(2))}: {formatCount(m.coveredUnits)} units
            </li>
          ))}
        </ul>
      ) : null}
      {plan.warnings.length > 0 ? (
        <ul className="warnings" aria-label="Plan warnings">
          {plan.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function CoverageForm({ experiment, onChanged }: { experiment: ExperimentView; onChanged(): void }) {
  const { api } = useSession();
  const [value, setValue] = useState(String(experiment.coverage));
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await setExperimentCoverage(api, experiment.id, Number(value));
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="coverage-form" onSubmit={submit} noValidate aria-label="Coverage">
      <div className="field">
        <label htmlFor="ex-grow">New coverage (% of all units)</label>
        <div className="inline">
          <input id="ex-grow" inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" className="button" disabled={busy}>
            Grow coverage
          </button>
        </div>
        <p className="hint">
          Coverage only grows: each variant’s range grows inside its own slice, so nobody changes variant.
        </p>
        <FieldIssues error={error} path="coverage" />
      </div>
      {error !== undefined && issuesAt(error, 'coverage').length === 0 ? (
        <ErrorMessage error={error} title="The server refused the coverage:" />
      ) : null}
    </form>
  );
}

function describeShip(experiment: ExperimentView, variant: string): string {
  return `The experiment ends and a guarded rollout of “${variant}” starts on flag ${experiment.flag} in ${experiment.environment}, on the same salt: every unit that saw “${variant}” keeps it, and the rollout grows to everyone stage by stage while its guardrails hold.`;
}

const ACTION_TEXT: Record<Exclude<Action, 'ship'>, { label: string; text: string; danger: boolean }> = {
  start: {
    label: 'Start',
    text: 'The experiment’s rule goes on the flag: the covered units are split by the weights at once.',
    danger: false,
  },
  stop: {
    label: 'Stop',
    text: 'The experiment ends without a winner: its rule is removed and the flag serves what it served before.',
    danger: false,
  },
  abort: {
    label: 'Abort',
    text: 'The experiment ends because of harm or a broken split: its rule is removed at once.',
    danger: true,
  },
};

export function ExperimentDetailPage({ id }: { id: string }) {
  const { api } = useSession();
  const live = useLive<Data>(
    [api, id],
    async () => {
      const experiment = await getExperiment(api, id);
      // The latest recorded look is the one the recommendation stands on (as on a rollout's page); before
      // the first one, a look now.
      const results =
        experiment.latestResults ??
        (experiment.status === 'running' ? await optional(() => getExperimentResults(api, id)) : null);
      return { experiment, results, recorded: experiment.latestResults !== null };
    },
    (data) => LIVE_STATUSES.includes(data.experiment.status),
  );
  const [pending, setPending] = useState<Action | null>(null);
  const [shipVariant, setShipVariant] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(undefined);

  if (live.data === undefined) {
    if (live.error !== undefined)
      return (
        <section>
          <PageHeader title={`Experiment ${id}`} />
          <ErrorMessage error={live.error} title="Could not load this experiment." />
          <p className="muted" role="status">
            Retrying on its own.{' '}
            <button type="button" className="button" onClick={live.refresh}>
              Retry now
            </button>
          </p>
        </section>
      );
    return (
      <p className="muted" role="status">
        Loading this experiment…
      </p>
    );
  }

  const { experiment, results, recorded } = live.data;
  const running = experiment.status === 'running';
  const treatments = experiment.variants.map((v) => v.variant).filter((v) => v !== experiment.control);
  const winner = results?.recommendation === 'ship' ? results.winner : null;
  const chosen = shipVariant || winner || treatments[0] || '';
  const srm = srmStatus(results);
  const progress = sampleProgress(experiment, results, Date.now());
  const plan = experiment.status === 'draft' ? recalledPlan(experiment.id) : null;
  const open = (action: Action) => {
    setActionError(undefined);
    setPending(action);
  };
  const act = async () => {
    if (pending === null) return;
    setBusy(true);
    setActionError(undefined);
    try {
      if (pending === 'ship') {
        const shipped = await shipExperiment(api, experiment.id, chosen);
        setPending(null);
        navigate({ page: 'rollout', id: shipped.rollout.id });
        return;
      }
      await experimentAction(api, experiment.id, pending);
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
            <span className="muted">Experiment</span> {experiment.id}
          </>
        }
      >
        {experiment.status === 'draft' ? (
          <button type="button" className="button button-primary" onClick={() => open('start')}>
            Start
          </button>
        ) : null}
        {running ? (
          <>
            <button
              type="button"
              className={winner !== null ? 'button button-primary' : 'button'}
              onClick={() => open('ship')}
            >
              {winner !== null ? `Ship ${winner}` : 'Ship…'}
            </button>
            <button type="button" className="button" onClick={() => open('stop')}>
              Stop
            </button>
            <button type="button" className="button button-danger" onClick={() => open('abort')}>
              Abort
            </button>
          </>
        ) : null}
      </PageHeader>
      {live.error !== undefined ? (
        <StaleBanner
          error={live.error}
          fetchedAt={live.fetchedAt}
          retryAt={live.retryAt}
          onRetry={live.refresh}
        />
      ) : null}
      <VerdictBanner banner={experimentBanner(experiment, results)} />
      <dl className="facts">
        <div>
          <dt>Flag</dt>
          <dd>
            <a href={href({ page: 'flag', key: experiment.flag })}>{experiment.flag}</a> in{' '}
            {experiment.environment}
          </dd>
        </div>
        <div>
          <dt>State</dt>
          <dd>
            <Badge tone={experimentTone(experiment.status)}>{experiment.status}</Badge>{' '}
            <span className="muted small">
              {experiment.autoAbort ? 'aborts on harm by itself' : 'recommends only'}
            </span>
          </dd>
        </div>
        <div>
          <dt>{experiment.status === 'draft' ? 'Coverage at start' : 'Coverage'}</dt>
          <dd data-testid="coverage">
            <ReachMeter
              percent={experiment.status === 'draft' ? experiment.plannedCoverage : experiment.coverage}
            />
          </dd>
        </div>
        <div>
          <dt>Units per variant</dt>
          <dd data-testid="units">
            {experiment.variants
              .map(
                (v) =>
                  `${v.variant} ${v.weight}%${results !== null ? `: ${formatCount(results.units[v.variant] ?? 0)}` : ''}`,
              )
              .join(' · ')}
          </dd>
        </div>
        <div>
          <dt>Split check (SRM)</dt>
          <dd data-testid="srm">
            <Badge tone={srm.tone}>{srm.label}</Badge> <span className="small">{srm.text}</span>
          </dd>
        </div>
        {experiment.rollout !== null ? (
          <div>
            <dt>Rollout of the winner</dt>
            <dd>
              <a href={href({ page: 'rollout', id: experiment.rollout })} data-testid="shipped-rollout">
                {experiment.rollout}
              </a>
            </dd>
          </div>
        ) : null}
      </dl>
      {running ? (
        <CoverageForm key={experiment.coverage} experiment={experiment} onChanged={live.refresh} />
      ) : null}
      <h2>Results</h2>
      <ResultsTable
        rows={experimentRows(experiment, results)}
        caption={
          results !== null
            ? `${recorded ? 'Latest look' : 'Now (before the first recorded look)'}, ${formatClock(results.at)}: each treatment variant against ${experiment.control}. Intervals are those of the test that decided, on the log-ratio scale for relative lifts.`
            : ''
        }
        empty={
          experiment.status === 'draft'
            ? 'No results before the start.'
            : 'No results yet: the server has not looked.'
        }
      />
      <h2>Sample</h2>
      {experiment.status === 'draft' ? (
        plan !== null ? (
          <SamplePlan plan={plan} />
        ) : (
          <p className="muted">
            The sample plan is shown when the experiment is created from this dashboard; once it runs, the
            planned sample and the time to reach it at the observed traffic appear here.
          </p>
        )
      ) : (
        <p data-testid="sample-progress">{progress.text}</p>
      )}
      <h2>Metrics</h2>
      <ul className="metric-list">
        {experiment.successMetrics.map((m) => (
          <li key={m.metric}>
            <strong>{m.metric}</strong> <span className="muted small">success</span>: should improve; smallest
            lift worth finding {formatFraction(m.mde)}
          </li>
        ))}
        {experiment.guardrails.map((g) => (
          <li key={g.metric}>
            <strong>{g.metric}</strong>{' '}
            <span className="muted small">guardrail{g.required ? ', required by the surface' : ''}</span>:
            must not get worse by more than {formatFraction(g.margin)}
          </li>
        ))}
      </ul>
      <h2>History</h2>
      {experiment.history.length === 0 ? (
        <p className="empty">Nothing yet.</p>
      ) : (
        <ol className="decisions" aria-label="History">
          {[...experiment.history].reverse().map((h, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: history entries have no id
            <li key={i} className="decision">
              <div className="decision-head">
                <Badge tone={h.kind === 'action' ? experimentTone(experiment.status) : 'neutral'}>
                  {h.action.replace('_', ' ')}
                </Badge>
                {h.rule !== null ? <code>{h.rule}</code> : null}
                <span className="small">{formatClock(h.at)}</span>
                <span className="muted small">
                  {h.kind === 'action' ? `by ${h.actor ?? 'a person'}` : 'recommended at a look'} · coverage{' '}
                  {formatPercent(h.coverage)}
                </span>
              </div>
            </li>
          ))}
        </ol>
      )}
      {pending === 'ship' ? (
        <ConfirmDialog
          title={`Ship “${chosen}” from experiment ${experiment.id}?`}
          message={
            <>
              {treatments.length > 1 ? (
                <div className="field">
                  <label htmlFor="ship-variant">Variant to ship</label>
                  <select id="ship-variant" value={chosen} onChange={(e) => setShipVariant(e.target.value)}>
                    {treatments.map((v) => (
                      <option key={v} value={v}>
                        {v}
                      </option>
                    ))}
                  </select>
                </div>
              ) : null}
              <p>{describeShip(experiment, chosen)}</p>
              {chosen !== winner ? (
                <p className="notice">
                  The server does not recommend shipping “{chosen}” now
                  {results !== null ? `: ${results.reason}` : '.'}
                </p>
              ) : null}
            </>
          }
          confirmLabel={`Ship ${chosen}`}
          busy={busy}
          error={actionError}
          onConfirm={act}
          onCancel={() => setPending(null)}
        />
      ) : pending !== null ? (
        <ConfirmDialog
          title={`${ACTION_TEXT[pending].label} experiment ${experiment.id}?`}
          message={<p>{ACTION_TEXT[pending].text}</p>}
          confirmLabel={ACTION_TEXT[pending].label}
          danger={ACTION_TEXT[pending].danger}
          busy={busy}
          error={actionError}
          onConfirm={act}
          onCancel={() => setPending(null)}
        />
      ) : null}
    </section>
  );
}
