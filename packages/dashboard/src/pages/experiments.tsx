/**
 * Experiments (A/B tests) of the chosen environment: flag, state, variants, coverage and the latest
 * recommendation; and the form that plans a new one (the server's sample plan is shown on its page before start).
 */
import type { ExperimentSamplePlanView, ExperimentStatus, ExperimentView } from '@dimmer/api';
import { type FormEvent, useState } from 'react';
import type { Metric, Surface } from '../api.ts';
import { createExperiment, listExperiments } from '../api-admin.ts';
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
import { equalWeights } from '../experiment-verdict.ts';
import { href, navigate } from '../router.ts';
import { ReachMeter } from './rollouts.tsx';

/** Colour of an experiment's state. */
export function experimentTone(status: ExperimentStatus): Tone {
  switch (status) {
    case 'running':
      return 'info';
    case 'shipped':
      return 'good';
    case 'aborted':
      return 'bad';
    default:
      return 'neutral';
  }
}

/** Colour of a recommendation. */
export function recommendationTone(recommendation: string): Tone {
  if (recommendation === 'ship') return 'good';
  if (recommendation === 'abort') return 'bad';
  if (recommendation === 'stop') return 'warn';
  return 'neutral';
}

/** "control 50% · green 50%"; a control not named so is marked ("blue 50% (control) · green 50%"). */
export function describeVariants(experiment: Pick<ExperimentView, 'variants' | 'control'>): string {
  return experiment.variants
    .map(
      (v) =>
        `${v.variant} ${v.weight}%${v.variant === experiment.control && v.variant !== 'control' ? ' (control)' : ''}`,
    )
    .join(' · ');
}

// ---------------------------------------------------------------- the plan made at creation

const PLAN_STORAGE_PREFIX = 'dimmer.experimentPlan.';

/** Keeps the sample plan of a created experiment for its page (the create reply is the only one that has it). */
export function rememberPlan(plan: ExperimentSamplePlanView): void {
  try {
    window.sessionStorage.setItem(PLAN_STORAGE_PREFIX + plan.experiment, JSON.stringify(plan));
  } catch {
    // storage may be disabled: the page then shows the plan only once the experiment runs
  }
}

/** The sample plan kept when the experiment was created in this tab, if any. */
export function recalledPlan(id: string): ExperimentSamplePlanView | null {
  try {
    const text = window.sessionStorage.getItem(PLAN_STORAGE_PREFIX + id);
    return text === null ? null : (JSON.parse(text) as ExperimentSamplePlanView);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the form

/** Defaults of packages/rollout's experiment plan, shown so nobody has to guess them. */
const DEFAULT_MIN_DURATION = '7d';
const DEFAULT_MIN_UNITS_PER_ARM = 1_000;
const DEFAULT_COVERAGE = '10';
const DEFAULT_MDE_PERCENT = '5';

interface VariantDraft {
  variant: string;
  included: boolean;
  weight: string;
}

interface SuccessDraft {
  metric: string;
  mde: string;
  baseline: string;
}

function withEqualWeights(list: VariantDraft[]): VariantDraft[] {
  const weights = equalWeights(list.filter((v) => v.included).length);
  let k = 0;
  return list.map((v) => (v.included ? { ...v, weight: String(weights[k++] ?? 0) } : { ...v, weight: '' }));
}

function variantDrafts(variants: readonly string[]): VariantDraft[] {
  return withEqualWeights(variants.map((variant) => ({ variant, included: true, weight: '' })));
}

/** A percent typed in a field as a fraction ("5" → 0.05); NaN stays NaN so the server names the field. */
function percentToFraction(text: string): number {
  return Number(text) / 100;
}

function NewExperiment({ metrics }: { metrics: Metric[] }) {
  const { api, environments, environment } = useSession();
  const flags = useLoad(() => api.listFlags(), [api]);
  const surfaces = useLoad(() => api.listSurfaces().catch((): Surface[] => []), [api]);
  const [flagKey, setFlagKey] = useState('');
  const [env, setEnv] = useState(environment);
  const [id, setId] = useState('');
  const [variants, setVariants] = useState<VariantDraft[] | null>(null);
  const [control, setControl] = useState('');
  const [coverage, setCoverage] = useState(DEFAULT_COVERAGE);
  const [success, setSuccess] = useState<SuccessDraft[] | null>(null);
  const [guardrails, setGuardrails] = useState<string[]>([]);
  const [minDuration, setMinDuration] = useState(DEFAULT_MIN_DURATION);
  const [minUnits, setMinUnits] = useState(String(DEFAULT_MIN_UNITS_PER_ARM));
  const [autoAbort, setAutoAbort] = useState(true);
  const [unitsPerDay, setUnitsPerDay] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const flag = flags.data?.find((f) => f.key === flagKey) ?? flags.data?.[0];
  const variantList = variants ?? variantDrafts(flag ? Object.keys(flag.variants) : []);
  const controlVariant = control || flag?.defaultVariant || '';
  const successList = success ?? [{ metric: metrics[0]?.key ?? '', mde: DEFAULT_MDE_PERCENT, baseline: '' }];
  const surface = surfaces.data?.find((s) => s.key === flag?.surface);
  const required = surface?.guardrails ?? [];
  const flagOff = flag !== undefined && flag.environments[env]?.enabled !== true;
  const included = variantList.filter((v) => v.included);
  const successKeys = successList.map((s) => s.metric);

  const chooseFlag = (key: string) => {
    setFlagKey(key);
    setVariants(null);
    setControl('');
  };
  const setVariant = (index: number, patch: Partial<VariantDraft>) =>
    setVariants(() => {
      const next = variantList.map((v, i) => (i === index ? { ...v, ...patch } : v));
      return patch.included !== undefined ? withEqualWeights(next) : next;
    });
  const setSuccessRow = (index: number, patch: Partial<SuccessDraft>) =>
    setSuccess(successList.map((s, i) => (i === index ? { ...s, ...patch } : s)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (flag === undefined) return;
    setBusy(true);
    setError(undefined);
    const baselines: Record<string, { mean: number }> = {};
    for (const s of successList)
      if (s.baseline.trim() !== '') baselines[s.metric] = { mean: Number(s.baseline) };
    try {
      const created = await createExperiment(api, {
        ...(id.trim() !== '' ? { id: id.trim() } : {}),
        flag: flag.key,
        environment: env,
        control: controlVariant,
        variants: included.map((v) => ({ variant: v.variant, weight: Number(v.weight) })),
        coverage: Number(coverage),
        successMetrics: successList.map((s) => ({ metric: s.metric, mde: percentToFraction(s.mde) })),
        guardrails: guardrailInputs(
          required,
          guardrails.filter((g) => !successKeys.includes(g)),
        ),
        ...(minDuration.trim() !== '' ? { minDuration: minDuration.trim() } : {}),
        ...(minUnits.trim() !== '' ? { minUnitsPerArm: Number(minUnits) } : {}),
        autoAbort,
        ...(unitsPerDay.trim() !== '' ? { expectedUnitsPerDay: Number(unitsPerDay) } : {}),
        ...(Object.keys(baselines).length > 0 ? { expectedBaselines: baselines } : {}),
      });
      rememberPlan(created.samplePlan);
      navigate({ page: 'experiment', id: created.id });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <details className="card">
      <summary className="summary-button">Plan a new experiment</summary>
      <form className="form" onSubmit={submit} noValidate>
        <div className="grid-3">
          <div>
            <KeySelect
              id="ex-flag"
              label="Flag"
              value={flag?.key ?? ''}
              items={flags.data ?? []}
              onChange={chooseFlag}
            />
            <FieldIssues error={error} path="flag" />
          </div>
          <div>
            <KeySelect id="ex-env" label="Environment" value={env} items={environments} onChange={setEnv} />
            <FieldIssues error={error} path="environment" />
          </div>
          <div className="field">
            <label htmlFor="ex-id">Experiment id (optional)</label>
            <input
              id="ex-id"
              value={id}
              placeholder="generated, e.g. ex_…"
              onChange={(e) => setId(e.target.value)}
            />
            <FieldIssues error={error} path="id" />
          </div>
        </div>
        {flagOff ? (
          <p className="notice" role="status" data-testid="flag-off-warning">
            Flag {flag?.key} is <strong>off</strong> in {env}: while it is off every unit gets the default
            variant and the experiment measures nothing. Enable it on the flag’s page first.
          </p>
        ) : null}
        <fieldset className="field">
          <legend>Variants</legend>
          <p className="hint">
            Weights are whole percents of the covered units and sum to 100; they are fixed once the experiment
            starts. Every other variant is compared with the control.
          </p>
          <div className="table-wrap table-cards">
            <table className="stage-table">
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col">In the test</th>
                  <th scope="col">Weight %</th>
                  <th scope="col">Control</th>
                </tr>
              </thead>
              <tbody>
                {variantList.map((v, i) => {
                  const sent = included.indexOf(v);
                  return (
                    <tr key={v.variant}>
                      <th scope="row" data-label="Variant">
                        {v.variant}
                      </th>
                      <td data-label="In the test">
                        <input
                          type="checkbox"
                          aria-label={`Include ${v.variant}`}
                          checked={v.included}
                          onChange={(e) => setVariant(i, { included: e.target.checked })}
                        />
                      </td>
                      <td data-label="Weight %">
                        <input
                          aria-label={`Weight of ${v.variant} in percent`}
                          inputMode="numeric"
                          disabled={!v.included}
                          value={v.weight}
                          onChange={(e) => setVariant(i, { weight: e.target.value })}
                        />
                        {sent >= 0 ? <FieldIssues error={error} path={`variants[${sent}]`} /> : null}
                      </td>
                      <td data-label="Control">
                        <input
                          type="radio"
                          name="ex-control"
                          aria-label={`${v.variant} is the control`}
                          disabled={!v.included}
                          checked={controlVariant === v.variant}
                          onChange={() => setControl(v.variant)}
                        />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <FieldIssues error={error} path="variants" exact />
          <FieldIssues error={error} path="control" />
        </fieldset>
        <div className="grid-3">
          <div className="field">
            <label htmlFor="ex-coverage">Coverage (% of all units)</label>
            <input
              id="ex-coverage"
              inputMode="decimal"
              value={coverage}
              onChange={(e) => setCoverage(e.target.value)}
            />
            <p className="hint">It can grow while the test runs, never shrink.</p>
            <FieldIssues error={error} path="coverage" />
          </div>
          <div className="field">
            <label htmlFor="ex-min-duration">Minimum duration</label>
            <input
              id="ex-min-duration"
              value={minDuration}
              placeholder={DEFAULT_MIN_DURATION}
              onChange={(e) => setMinDuration(e.target.value)}
            />
            <p className="hint">Default {DEFAULT_MIN_DURATION}: a full week sees every weekday.</p>
            <FieldIssues error={error} path="minDuration" />
          </div>
          <div className="field">
            <label htmlFor="ex-min-units">Minimum units per arm</label>
            <input
              id="ex-min-units"
              inputMode="numeric"
              value={minUnits}
              onChange={(e) => setMinUnits(e.target.value)}
            />
            <p className="hint">Before the sample size is planned and the tests start.</p>
            <FieldIssues error={error} path="minUnitsPerArm" />
          </div>
        </div>
        <fieldset className="field">
          <legend>Success metrics</legend>
          <p className="hint">
            What the variant should improve. The minimum detectable effect is the smallest relative
            improvement worth finding (5 = 5%); the current value, when you know it, lets the server say how
            long the test takes.
          </p>
          <div className="table-wrap table-cards">
            <table className="stage-table">
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  <th scope="col">Minimum detectable effect %</th>
                  <th scope="col">Current value (optional)</th>
                  <th scope="col">
                    <span className="visually-hidden">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {successList.map((s, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
                  <tr key={i}>
                    <td data-label="Metric">
                      <select
                        aria-label={`Success metric ${i + 1}`}
                        value={s.metric}
                        onChange={(e) => setSuccessRow(i, { metric: e.target.value })}
                      >
                        {metrics.map((m) => (
                          <option key={m.key} value={m.key}>
                            {m.key}
                          </option>
                        ))}
                      </select>
                      <FieldIssues error={error} path={`successMetrics[${i}].metric`} />
                    </td>
                    <td data-label="MDE %">
                      <input
                        aria-label={`Success metric ${i + 1} minimum detectable effect in percent`}
                        inputMode="decimal"
                        value={s.mde}
                        onChange={(e) => setSuccessRow(i, { mde: e.target.value })}
                      />
                      <FieldIssues error={error} path={`successMetrics[${i}].mde`} />
                    </td>
                    <td data-label="Current value">
                      <input
                        aria-label={`Success metric ${i + 1} current value`}
                        inputMode="decimal"
                        placeholder="e.g. 0.1 for 10%"
                        value={s.baseline}
                        onChange={(e) => setSuccessRow(i, { baseline: e.target.value })}
                      />
                      <FieldIssues error={error} path={`expectedBaselines.${s.metric}`} />
                    </td>
                    <td data-label="">
                      <button
                        type="button"
                        className="button button-small"
                        disabled={successList.length <= 1}
                        onClick={() => setSuccess(successList.filter((_, k) => k !== i))}
                      >
                        Remove success metric {i + 1}
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
            disabled={metrics.length === 0}
            onClick={() =>
              setSuccess([
                ...successList,
                {
                  metric: metrics.find((m) => !successKeys.includes(m.key))?.key ?? metrics[0]?.key ?? '',
                  mde: DEFAULT_MDE_PERCENT,
                  baseline: '',
                },
              ])
            }
          >
            Add a success metric
          </button>
          <FieldIssues error={error} path="successMetrics" exact />
          {metrics.length === 0 ? (
            <p className="muted">
              No metrics yet: <a href={href({ page: 'metric-new' })}>define one</a> first.
            </p>
          ) : null}
        </fieldset>
        <GuardrailPicker
          metrics={metrics}
          required={required}
          surface={surface?.key}
          chosen={guardrails}
          onChange={setGuardrails}
          exclude={successKeys}
          error={error}
        />
        <div className="grid-2">
          <div className="field">
            <label htmlFor="ex-traffic">Expected new units a day (optional, for the plan)</label>
            <input
              id="ex-traffic"
              inputMode="numeric"
              value={unitsPerDay}
              onChange={(e) => setUnitsPerDay(e.target.value)}
            />
            <FieldIssues error={error} path="expectedUnitsPerDay" />
          </div>
          <div className="field field-end">
            <label className="checkbox">
              <input type="checkbox" checked={autoAbort} onChange={(e) => setAutoAbort(e.target.checked)} />
              Abort on its own when a variant harms a metric
            </label>
          </div>
        </div>
        <ErrorMessage error={error} />
        <p className="hint">
          Creating makes a draft: its page shows the server’s sample plan (units per arm, and how long at the
          traffic you expect) before you start it.
        </p>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy || flag === undefined}>
            Create experiment
          </button>
        </div>
      </form>
    </details>
  );
}

// ---------------------------------------------------------------- the list

export function ExperimentsPage() {
  const { api, environment } = useSession();
  const experiments = useLoad(() => listExperiments(api, environment), [api, environment]);
  const metrics = useLoad(() => api.listMetrics().catch((): Metric[] => []), [api]);
  return (
    <section>
      <PageHeader title="Experiments" />
      <p className="muted">
        A/B tests in <strong>{environment}</strong>: fixed weights inside a coverage that only grows, success
        metrics that must improve and guardrails that must not get worse.
      </p>
      <Pending loaded={experiments} what="experiments">
        {(list) => (
          <>
            {metrics.data !== undefined ? <NewExperiment metrics={metrics.data} /> : null}
            {list.length === 0 ? (
              <p className="empty">No experiments in {environment} yet.</p>
            ) : (
              <div className="table-wrap table-cards">
                <table aria-label={`Experiments in ${environment}`}>
                  <thead>
                    <tr>
                      <th scope="col">Experiment</th>
                      <th scope="col">Flag</th>
                      <th scope="col">State</th>
                      <th scope="col">Variants</th>
                      <th scope="col">Coverage</th>
                      <th scope="col">Recommendation</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((e) => (
                      <tr key={e.id}>
                        <th scope="row" data-label="Experiment">
                          <a className="strong" href={href({ page: 'experiment', id: e.id })}>
                            {e.id}
                          </a>
                        </th>
                        <td data-label="Flag">
                          <a href={href({ page: 'flag', key: e.flag })}>{e.flag}</a>
                        </td>
                        <td data-label="State">
                          <Badge tone={experimentTone(e.status)}>{e.status}</Badge>
                        </td>
                        <td data-label="Variants">{describeVariants(e)}</td>
                        <td data-label="Coverage">
                          <ReachMeter percent={e.status === 'draft' ? e.plannedCoverage : e.coverage} />
                          {e.status === 'draft' ? <span className="muted small"> at start</span> : null}
                        </td>
                        <td data-label="Recommended">
                          <RecommendationText experiment={e} />
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

/** The latest recommendation of a running experiment ("ship green"), or what became of an ended one. */
function RecommendationText({ experiment }: { experiment: ExperimentView }) {
  const results = experiment.latestResults;
  if (experiment.status === 'shipped')
    return (
      <span>
        shipped “{experiment.shippedVariant}”
        {experiment.rollout !== null ? (
          <>
            {' '}
            → <a href={href({ page: 'rollout', id: experiment.rollout })}>{experiment.rollout}</a>
          </>
        ) : null}
      </span>
    );
  if (experiment.status !== 'running') return <span className="muted">—</span>;
  if (results === null) return <span className="muted">no look yet</span>;
  return (
    <Badge tone={recommendationTone(results.recommendation)}>
      {results.recommendation}
      {results.winner !== null && results.recommendation === 'ship' ? ` ${results.winner}` : ''}
    </Badge>
  );
}
