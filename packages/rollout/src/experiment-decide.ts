// decideExperiment(plan, state, evidence, now): one look at a running A/B test. Every treatment variant is
// compared with control on every metric with the same group-sequential tests rollouts use (stats'
// `assessGuardrail`): a deterioration test on every metric, non-inferiority on guardrails, and on success metrics
// a superiority test, which is the non-inferiority test with a zero margin at level α/(S·T) and ρ = 2. Spotify's
// rule decides: ship iff some success metric is significantly better, every guardrail is significantly
// non-inferior, nothing deteriorated and the split is sound; abort on deterioration; otherwise continue (or stop
// once the planned sample is reached with no winner). Pure and deterministic.

import { reachToBuckets } from '@dimmer/core';
import {
  assessGuardrail,
  type CohortStats,
  combineCohorts,
  createGuardrailState,
  DEFAULT_NON_INFERIORITY_RHO,
  DEFAULT_ROLLBACK_ALPHA,
  DEFAULT_SRM_THRESHOLD,
  type Direction,
  type GuardrailConfig,
  type GuardrailLookSummary,
  harmSign,
  type SufficientStats,
  srmChiSquare,
  type TestLook,
  updateSrm,
} from '@dimmer/stats';
import { unitVariance } from './decide.ts';
import { DAY_MS, formatDuration, MINUTE_MS } from './duration.ts';
import { type ExperimentPlan, servedBuckets, WEIGHT_TOTAL } from './experiment-plan.ts';
import {
  coveredShare,
  type MetricBaseline,
  planExperimentSample,
  superiorityAlpha,
} from './experiment-planning.ts';
import {
  appendExperimentHistory,
  createExperimentMonitoring,
  type ExperimentEvent,
  type ExperimentMonitor,
  type ExperimentMonitoring,
  type ExperimentState,
  transitionExperiment,
} from './experiment-state.ts';
import type { MetricKind } from './metric.ts';

/** One assignment cohort of one metric: units first exposed during coverage epoch `epoch`, per variant. */
export interface ExperimentCohortEvidence {
  epoch: number;
  /** Sufficient statistics per variant name. */
  arms: Record<string, SufficientStats>;
}

/** One metric at one look. */
export interface ExperimentMetricEvidence {
  /** False while none of the metric's events has been seen. */
  hasData: boolean;
  cohorts: ExperimentCohortEvidence[];
}

/** Units first assigned during one coverage epoch, per variant (the sample-ratio check's counts). */
export interface ExperimentAssignments {
  epoch: number;
  counts: Record<string, number>;
}

/** Everything `decideExperiment` needs from one look; plain JSON, cumulative since the start. */
export interface ExperimentEvidence {
  /** Distinct units per variant so far. */
  units: Record<string, number>;
  assignments: ExperimentAssignments[];
  /** Per metric key (success metrics and guardrails). A metric missing here has no data. */
  metrics: Record<string, ExperimentMetricEvidence>;
  /** New units a day entering the experiment (all arms); default: estimated from `units` and the time since start. */
  unitsPerDay?: number;
}

/** What the experiment should do. `stop`: the planned sample is reached and no variant won. */
export type ExperimentRecommendation = 'ship' | 'continue' | 'abort' | 'stop';

/** The rule behind a recommendation. */
export type ExperimentDecisionRule =
  /** Abort: a metric's deterioration boundary was crossed for some variant. */
  | 'deterioration'
  /** Continue or abort (per `srmAction`): the sequential SRM test found a sample-ratio mismatch. */
  | 'srm'
  /** Continue: the experiment is not running. */
  | 'not_running'
  /** Continue: a count or sum in the evidence is not usable. */
  | 'invalid_evidence'
  /** Continue: an arm holds fewer than `minUnitsPerArm` units, so the sample is not planned yet. */
  | 'min_units'
  /** Continue: no success metric has usable data in every arm yet, so the sample is not planned yet. */
  | 'missing_data'
  /** Continue: a variant won but the minimum duration has not passed. */
  | 'min_duration'
  /** Continue: a variant is better on a success metric but some guardrail is not yet shown non-inferior. */
  | 'guardrails_pending'
  /** Continue: no success metric is significantly better yet. */
  | 'superiority_pending'
  /** Stop: every success metric reached its planned information with no winner. */
  | 'no_winner'
  /** Ship: Spotify's rule holds for the winner. */
  | 'winner';

/** How one variant fared on one metric. */
export type ExperimentMetricVerdict = 'better' | 'worse' | 'non_inferior' | 'inconclusive' | 'no_data';

/** One metric for one treatment variant against control at one look. */
export interface ExperimentMetricLook {
  metric: string;
  variant: string;
  role: 'success' | 'guardrail';
  kind: MetricKind;
  direction: Direction;
  /** Success metrics: relative MDE; guardrails: relative margin. */
  mde: number | null;
  margin: number | null;
  status: 'no_data' | 'insufficient' | 'waiting_for_plan' | 'assessed';
  maxInformation: number | null;
  /** Estimates, relative lift and its always-valid interval, z, boundaries, n: the statistics engine's summary. */
  summary: GuardrailLookSummary | null;
  /** Success metrics: the superiority test (Z = improvement / SE against its boundary). */
  superiority: TestLook | null;
  verdict: ExperimentMetricVerdict;
}

/** One treatment variant's standing. */
export interface ExperimentVariantLook {
  variant: string;
  /** `winner`: ship rule holds; `blocked`: better on a success metric but a guardrail is not yet non-inferior. */
  verdict: 'winner' | 'blocked' | 'harmful' | 'inconclusive';
  better: string[];
  worse: string[];
  /** Guardrails not yet shown non-inferior. */
  pendingGuardrails: string[];
}

/** The sample-ratio check at one look. */
export interface ExperimentSrmLook {
  pValue: number;
  threshold: number;
  mismatch: boolean;
  /** Per epoch: expected shares in percent and observed counts (plan order), and a χ² p-value for display only. */
  epochs: { epoch: number; expected: number[]; observed: number[]; chiSquarePValue: number | null }[];
}

/** The outcome of one look; plain JSON. */
export interface ExperimentDecision {
  at: number;
  status: ExperimentState['status'];
  coverage: number;
  recommendation: ExperimentRecommendation;
  rule: ExperimentDecisionRule;
  /** A sentence a person understands, naming the metric, the variant and the numbers. */
  reason: string;
  /** For `ship`: the variant to keep. */
  winner: string | null;
  /** The planned sample (covered units, all arms), once frozen. */
  plannedUnits: number | null;
  /** Per metric key, per treatment variant. */
  metrics: Record<string, Record<string, ExperimentMetricLook>>;
  variants: Record<string, ExperimentVariantLook>;
  srm: ExperimentSrmLook | null;
  /** True when `nextState` already has the recommendation applied (automatic mode). */
  applied: boolean;
  event: ExperimentEvent | null;
  /** The state to store: tests extended by this look, history appended, the action when applied. */
  nextState: ExperimentState;
}

/** Shortest window over which the traffic rate is estimated when the evidence gives none. */
const MIN_RATE_WINDOW_MS = MINUTE_MS;

function percentText(x: number, signed = false): string {
  const v = Number((x * 100).toPrecision(3));
  return Number.isFinite(v) ? `${signed && v > 0 ? '+' : ''}${v}%` : String(x);
}

function numberText(x: number): string {
  return Number.isFinite(x) ? x.toLocaleString('en-US', { maximumSignificantDigits: 4 }) : String(x);
}

function treatments(plan: ExperimentPlan): string[] {
  return plan.variants.filter((v) => v.variant !== plan.control).map((v) => v.variant);
}

function weightOf(plan: ExperimentPlan, variant: string): number {
  return plan.variants.find((v) => v.variant === variant)?.weight ?? Number.NaN;
}

function isCount(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

/** The path of the first malformed number in the evidence, or null when every count and sum is usable. */
function evidenceProblem(evidence: ExperimentEvidence): string | null {
  for (const [v, n] of Object.entries(evidence.units ?? {}))
    if (!isCount(n)) return `units.${v} must be a count`;
  for (const [i, a] of (evidence.assignments ?? []).entries()) {
    if (!Number.isInteger(a.epoch) || !Object.values(a.counts ?? {}).every(isCount))
      return `assignments[${i}] must hold an epoch index and counts`;
  }
  for (const [key, m] of Object.entries(evidence.metrics ?? {})) {
    for (const [i, c] of (m.cohorts ?? []).entries()) {
      for (const [v, st] of Object.entries(c.arms ?? {})) {
        const sums = [st?.sumY, st?.sumY2, st?.sumD ?? 0, st?.sumD2 ?? 0, st?.sumYD ?? 0];
        if (!isCount(st?.n) || !sums.every((x) => typeof x === 'number' && Number.isFinite(x)))
          return `metrics.${key}.cohorts[${i}].arms.${v} must hold a count n and finite sums`;
      }
    }
  }
  return null;
}

/** The cohorts of one metric as treatment-versus-control pairs for `variant`, ordered by epoch. */
function pairCohorts(
  plan: ExperimentPlan,
  ev: ExperimentMetricEvidence | undefined,
  variant: string,
): CohortStats[] {
  const empty: SufficientStats = { n: 0, sumY: 0, sumY2: 0 };
  return [...(ev?.cohorts ?? [])]
    .sort((a, b) => a.epoch - b.epoch)
    .map((c) => ({ treatment: c.arms[variant] ?? empty, control: c.arms[plan.control] ?? empty }));
}

interface MetricSpec {
  metric: string;
  role: 'success' | 'guardrail';
  kind: MetricKind;
  direction: Direction;
  mde: number | null;
  margin: number | null;
}

function specs(plan: ExperimentPlan): MetricSpec[] {
  return [
    ...plan.successMetrics.map((s) => ({
      metric: s.metric,
      role: 'success' as const,
      kind: s.kind,
      direction: s.direction,
      mde: s.mde,
      margin: null,
    })),
    ...plan.guardrails.map((g) => ({
      metric: g.metric,
      role: 'guardrail' as const,
      kind: g.kind,
      direction: g.direction,
      mde: null,
      margin: g.margin,
    })),
  ];
}

/** Units per unit of information and per-unit variance for `variant` against control: 100/w_T + 100/w_C. */
function pairFactor(plan: ExperimentPlan, variant: string): number {
  return WEIGHT_TOTAL / weightOf(plan, variant) + WEIGHT_TOTAL / weightOf(plan, plan.control);
}

/**
 * Freezes the planned sample at the first look where every arm holds `minUnitsPerArm` units and some success
 * metric has a usable comparison: baselines are the control means and pooled per-unit
 * variances seen so far, the traffic the rate seen so far.
 */
function planSample(
  plan: ExperimentPlan,
  state: ExperimentState,
  evidence: ExperimentEvidence,
  now: number,
): { plannedUnits: number | null; rule: 'min_units' | 'missing_data' | null } {
  const small = plan.variants.some((v) => !((evidence.units[v.variant] ?? 0) >= plan.minUnitsPerArm));
  if (small) return { plannedUnits: null, rule: 'min_units' };
  const baselines: Record<string, MetricBaseline> = {};
  for (const spec of specs(plan)) {
    let variance = Number.NaN;
    let mean = Number.NaN;
    for (const variant of treatments(plan)) {
      if (spec.kind === 'quantile') continue;
      const cohorts = pairCohorts(plan, evidence.metrics[spec.metric], variant);
      const estimate =
        evidence.metrics[spec.metric]?.hasData === true ? combineCohorts(spec.kind, cohorts) : null;
      if (estimate === null) continue;
      mean = estimate.meanControl;
      const v = unitVariance(spec.kind, cohorts);
      variance = Number.isNaN(variance) ? v : Math.max(variance, v);
    }
    if (Number.isFinite(variance) && variance > 0 && Number.isFinite(mean))
      baselines[spec.metric] = { mean, variance };
  }
  // Plan as soon as one success metric can be planned: waiting for every metric would also hold back the
  // deterioration tests. A metric without data yet is tested against the sample planned without it.
  if (!plan.successMetrics.some((m) => baselines[m.metric] !== undefined))
    return { plannedUnits: null, rule: 'missing_data' };
  const total = Object.values(evidence.units).reduce((a, n) => a + n, 0);
  const elapsed = Math.max(MIN_RATE_WINDOW_MS, now - (state.startedAt ?? now));
  const coveredPerDay =
    evidence.unitsPerDay !== undefined && evidence.unitsPerDay > 0
      ? evidence.unitsPerDay
      : (total * DAY_MS) / elapsed;
  const share = coveredShare(plan, state.coverage);
  const sample = planExperimentSample(plan, {
    unitsPerDay: coveredPerDay / share,
    baselines,
    coverage: state.coverage,
  });
  return sample.coveredUnits > 0
    ? { plannedUnits: sample.coveredUnits, rule: null }
    : { plannedUnits: null, rule: 'missing_data' };
}

interface LookContext {
  plan: ExperimentPlan;
  evidence: ExperimentEvidence;
  plannedUnits: number | null;
  deteriorationAlpha: number;
}

function lookMetric(
  ctx: LookContext,
  spec: MetricSpec,
  variant: string,
  monitor: ExperimentMonitor,
): { look: ExperimentMetricLook; monitor: ExperimentMonitor } {
  const { plan, evidence, plannedUnits } = ctx;
  const base: ExperimentMetricLook = {
    ...spec,
    variant,
    status: 'no_data',
    maxInformation: monitor.maxInformation,
    summary: null,
    superiority: null,
    verdict: 'no_data',
  };
  const ev = evidence.metrics[spec.metric];
  if (ev?.hasData !== true) return { look: base, monitor };
  // Experiment evidence carries moment sums per variant only: a quantile metric has no comparison here yet.
  if (spec.kind === 'quantile')
    return { look: { ...base, status: 'insufficient', verdict: 'inconclusive' }, monitor };
  const kind = spec.kind;
  const cohorts = pairCohorts(plan, ev, variant);
  const estimate = combineCohorts(kind, cohorts);
  if (estimate === null)
    return { look: { ...base, status: 'insufficient', verdict: 'inconclusive' }, monitor };
  if (plannedUnits === null)
    return { look: { ...base, status: 'waiting_for_plan', verdict: 'inconclusive' }, monitor };
  const factor = pairFactor(plan, variant);
  // N_max on the sample-size scale: the planned pair's effective units n_T·n_C/(n_T + n_C) = plannedUnits/factor.
  const maxInformation = monitor.maxInformation ?? plannedUnits / factor;
  if (!(maxInformation > 0) || !Number.isFinite(maxInformation))
    return { look: { ...base, status: 'insufficient', verdict: 'inconclusive' }, monitor };
  const config: GuardrailConfig = {
    direction: spec.direction,
    maxInformation,
    rollbackAlpha: ctx.deteriorationAlpha,
    nonInferiority:
      spec.role === 'success'
        ? // Superiority is non-inferiority with a zero margin: Z = −hΔ̂/SE, back-loaded ρ = 2, α/(S·T).
          {
            margin: { absolute: 0 },
            alpha: superiorityAlpha(plan),
            spending: { kind: 'power', rho: DEFAULT_NON_INFERIORITY_RHO },
          }
        : { margin: { relative: spec.margin ?? 0 } },
    // The displayed intervals are confidence sequences tuned at the pair's planned units.
    tuningN: (plannedUnits * (weightOf(plan, variant) + weightOf(plan, plan.control))) / WEIGHT_TOTAL,
  };
  const assessed = assessGuardrail(monitor.test ?? createGuardrailState(config), config, {
    kind,
    cohorts,
    estimate,
  });
  const s = assessed.summary;
  const verdict: ExperimentMetricVerdict = s.harmDetected
    ? 'worse'
    : s.nonInferior
      ? spec.role === 'success'
        ? 'better'
        : 'non_inferior'
      : 'inconclusive';
  return {
    look: {
      ...base,
      status: 'assessed',
      maxInformation,
      summary: s,
      superiority: spec.role === 'success' ? s.nonInferiority : null,
      verdict,
    },
    monitor: { maxInformation, test: assessed.state },
  };
}

function lookSrm(
  plan: ExperimentPlan,
  state: ExperimentState,
  monitoring: ExperimentMonitoring,
  evidence: ExperimentEvidence,
): { look: ExperimentSrmLook; monitoring: ExperimentMonitoring } {
  let srm = monitoring.srm;
  const srmCounts = { ...monitoring.srmCounts };
  const epochs: ExperimentSrmLook['epochs'] = [];
  for (const a of [...evidence.assignments].sort((x, y) => x.epoch - y.epoch)) {
    const epoch = state.epochs[a.epoch];
    if (epoch === undefined) continue;
    const covered = reachToBuckets(epoch.coverage);
    const expected = plan.variants.map((v) => servedBuckets(v.weight, covered));
    const observed = plan.variants.map((v) => a.counts[v.variant] ?? 0);
    const key = String(a.epoch);
    const previous = srmCounts[key] ?? observed.map(() => 0);
    const increment = observed.map((o, i) => Math.max(0, o - (previous[i] ?? 0)));
    if (increment.some((x) => x > 0)) srm = updateSrm(srm, { stage: key, expected, counts: increment });
    srmCounts[key] = observed.map((o, i) => Math.max(o, previous[i] ?? 0));
    const total = expected.reduce((x, y) => x + y, 0);
    epochs.push({
      epoch: a.epoch,
      expected: expected.map((e) => (100 * e) / total),
      observed,
      chiSquarePValue: observed.some((o) => o > 0)
        ? srmChiSquare({ observed, weights: expected }).pValue
        : null,
    });
  }
  return {
    look: {
      pValue: srm.pValue,
      threshold: DEFAULT_SRM_THRESHOLD,
      mismatch: srm.pValue < DEFAULT_SRM_THRESHOLD,
      epochs,
    },
    monitoring: { ...monitoring, srm, srmCounts },
  };
}

interface Verdict {
  recommendation: ExperimentRecommendation;
  rule: ExperimentDecisionRule;
  reason: string;
  winner: string | null;
}

function liftText(look: ExperimentMetricLook): string {
  const s = look.summary as GuardrailLookSummary;
  return (
    `${look.metric} ${percentText(s.relativeLift, true)} relative for ${look.variant} ` +
    `(${numberText(s.meanTreatment)} vs ${numberText(s.meanControl)}, interval ${percentText(s.relativeLiftInterval[0], true)} to ${percentText(s.relativeLiftInterval[1], true)}; ` +
    `${numberText(s.nTreatment)} and ${numberText(s.nControl)} units)`
  );
}

function testText(test: TestLook | null | undefined): string {
  if (test === null || test === undefined) return 'no test';
  return `z = ${numberText(test.z)}, boundary ${test.boundary === null ? '∞' : numberText(test.boundary)}`;
}

/** Improvement of a look in the metric's good direction, relative to control (for ranking winners). */
function goodLift(look: ExperimentMetricLook | undefined): number {
  if (look?.summary === null || look?.summary === undefined) return Number.NEGATIVE_INFINITY;
  return -harmSign(look.direction) * look.summary.relativeLift;
}

function judgeVariants(
  plan: ExperimentPlan,
  looks: Record<string, Record<string, ExperimentMetricLook>>,
): Record<string, ExperimentVariantLook> {
  const out: Record<string, ExperimentVariantLook> = {};
  for (const variant of treatments(plan)) {
    const mine = Object.values(looks).map((byVariant) => byVariant[variant] as ExperimentMetricLook);
    const better = mine.filter((l) => l.role === 'success' && l.verdict === 'better').map((l) => l.metric);
    const worse = mine.filter((l) => l.verdict === 'worse').map((l) => l.metric);
    const pendingGuardrails = mine
      .filter((l) => l.role === 'guardrail' && l.verdict !== 'non_inferior')
      .map((l) => l.metric);
    const verdict =
      worse.length > 0
        ? 'harmful'
        : better.length === 0
          ? 'inconclusive'
          : pendingGuardrails.length > 0
            ? 'blocked'
            : 'winner';
    out[variant] = { variant, verdict, better, worse, pendingGuardrails };
  }
  return out;
}

function judge(
  plan: ExperimentPlan,
  state: ExperimentState,
  input: {
    looks: Record<string, Record<string, ExperimentMetricLook>>;
    variants: Record<string, ExperimentVariantLook>;
    srm: ExperimentSrmLook;
    planning: 'min_units' | 'missing_data' | null;
    now: number;
    evidence: ExperimentEvidence;
  },
): Verdict {
  const { looks, variants, srm } = input;
  const ranMs = input.now - (state.startedAt ?? input.now);
  const go = (
    recommendation: ExperimentRecommendation,
    rule: ExperimentDecisionRule,
    reason: string,
    winner: string | null = null,
  ): Verdict => ({
    recommendation,
    rule,
    reason,
    winner,
  });
  const all = Object.values(looks).flatMap((byVariant) => Object.values(byVariant));
  const harmed = all.filter((l) => l.verdict === 'worse');
  if (harmed.length > 0) {
    const first = harmed[0] as ExperimentMetricLook;
    const d = (first.summary as GuardrailLookSummary).deterioration;
    const more =
      harmed.length > 1
        ? ` (and ${harmed.length - 1} more metric comparison${harmed.length > 2 ? 's' : ''})`
        : '';
    return go(
      'abort',
      'deterioration',
      `${first.metric} is worse for ${first.variant}: ${liftText(first)}, deterioration ${testText(d)}${more}; abort the experiment.`,
    );
  }
  if (srm.mismatch) {
    const last = srm.epochs[srm.epochs.length - 1];
    const counts = last
      ? plan.variants.map((v, i) => `${v.variant} ${numberText(last.observed[i] ?? 0)}`).join(', ')
      : '';
    const text = `Sample-ratio mismatch (sequential SRM p = ${srm.pValue.toPrecision(2)} < ${srm.threshold}; ${counts} against weights ${plan.variants.map((v) => v.weight).join('/')})`;
    if (plan.srmAction === 'abort') return go('abort', 'srm', `${text}; aborting as the plan asks.`);
    return go(
      'continue',
      'srm',
      `${text}; no decision until a person checks that every arm's exposures are logged.`,
    );
  }
  if (input.planning === 'min_units') {
    const counts = plan.variants
      .map((v) => `${v.variant} ${numberText(input.evidence.units[v.variant] ?? 0)}`)
      .join(', ');
    return go(
      'continue',
      'min_units',
      `Every arm needs ${numberText(plan.minUnitsPerArm)} units before the sample size is planned; so far ${counts}.`,
    );
  }
  if (input.planning === 'missing_data')
    return go(
      'continue',
      'missing_data',
      'No success metric has usable data in every arm yet; the sample size is planned once one has.',
    );
  const winners = Object.values(variants).filter((v) => v.verdict === 'winner');
  if (winners.length > 0) {
    const primary = plan.successMetrics[0]?.metric ?? '';
    const best = [...winners].sort(
      (a, b) =>
        b.better.length - a.better.length ||
        goodLift(looks[primary]?.[b.variant]) - goodLift(looks[primary]?.[a.variant]),
    )[0] as ExperimentVariantLook;
    const evidenceText = best.better
      .map((m) => liftText(looks[m]?.[best.variant] as ExperimentMetricLook))
      .join('; ');
    const guardText =
      plan.guardrails.length > 0
        ? `every guardrail (${plan.guardrails.map((g) => g.metric).join(', ')}) non-inferior`
        : 'no guardrails';
    const others = winners.length > 1 ? ` It is the best of ${winners.length} winning variants.` : '';
    if (ranMs < plan.minDuration)
      return go(
        'continue',
        'min_duration',
        `${best.variant} is significantly better (${evidenceText}) with ${guardText}, but the experiment has run ${formatDuration(ranMs)} of its minimum ${formatDuration(plan.minDuration)}; continue.`,
      );
    return go(
      'ship',
      'winner',
      `Ship ${best.variant}: ${evidenceText}, significantly better; ${guardText}; no deterioration and no sample-ratio mismatch (p = ${srm.pValue.toPrecision(2)}).${others}`,
      best.variant,
    );
  }
  const blocked = Object.values(variants).filter((v) => v.verdict === 'blocked');
  if (blocked.length > 0) {
    const v = blocked[0] as ExperimentVariantLook;
    const pending = v.pendingGuardrails
      .map((m) => {
        const l = looks[m]?.[v.variant];
        const ni = l?.summary?.nonInferiority;
        return l?.summary
          ? `${m} (${percentText(l.summary.relativeLift, true)}, margin ${percentText(l.margin ?? 0)}; ${testText(ni)})`
          : `${m} (no data)`;
      })
      .join('; ');
    return go(
      'continue',
      'guardrails_pending',
      `${v.variant} is significantly better on ${v.better.join(', ')}, but shipping needs every guardrail shown non-inferior; not yet: ${pending}.`,
    );
  }
  const success = all.filter((l) => l.role === 'success');
  const done = success.length > 0 && success.every((l) => (l.summary?.informationFraction ?? 0) >= 1);
  const progress = success
    .map(
      (l) =>
        `${l.metric}/${l.variant} ${l.summary ? `${percentText(l.summary.relativeLift, true)} (${testText(l.superiority)}, ${percentText(l.summary.informationFraction)} of the planned information)` : 'no data'}`,
    )
    .join('; ');
  if (done && ranMs >= plan.minDuration)
    return go(
      'stop',
      'no_winner',
      `The planned sample is reached and no variant is significantly better: ${progress}; stop and keep ${plan.control}.`,
    );
  return go(
    'continue',
    'superiority_pending',
    `No variant is significantly better on a success metric yet: ${progress}.`,
  );
}

/**
 * One look at time `now` (epoch ms) at a running experiment: freezes the planned sample once every arm has
 * `minUnitsPerArm` units, runs for every metric and treatment variant the deterioration test (α = 0.05 over all
 * metric-variant pairs) and the superiority (success, α/(S·T), ρ = 2) or non-inferiority (guardrail, α = 0.05,
 * ρ = 2) test, and the sequential SRM test, and recommends ship (the best winner), abort, stop or continue, with
 * the reason in words. In automatic mode `nextState` has the recommendation applied. Deterministic.
 */
export function decideExperiment(
  plan: ExperimentPlan,
  state: ExperimentState,
  evidence: ExperimentEvidence,
  now: number,
): ExperimentDecision {
  const head = { at: now, status: state.status, coverage: state.coverage };
  const idle = (rule: ExperimentDecisionRule, reason: string): ExperimentDecision => ({
    ...head,
    recommendation: 'continue',
    rule,
    reason,
    winner: null,
    plannedUnits: state.monitoring?.plannedUnits ?? null,
    metrics: {},
    variants: {},
    srm: null,
    applied: false,
    event: null,
    nextState: state,
  });
  if (state.status !== 'running')
    return idle('not_running', `The experiment is ${state.status}; there is nothing to decide.`);
  const problem = evidenceProblem(evidence);
  if (problem !== null)
    return idle('invalid_evidence', `The evidence is unusable: ${problem}; no look was taken.`);

  let monitoring = state.monitoring ?? createExperimentMonitoring();
  const srm = lookSrm(plan, state, monitoring, evidence);
  monitoring = srm.monitoring;
  let planning: 'min_units' | 'missing_data' | null = null;
  if (monitoring.plannedUnits === null) {
    const planned = planSample(plan, state, evidence, now);
    planning = planned.rule;
    monitoring = { ...monitoring, plannedUnits: planned.plannedUnits };
  }
  const all = specs(plan);
  const ctx: LookContext = {
    plan,
    evidence,
    plannedUnits: monitoring.plannedUnits,
    deteriorationAlpha: DEFAULT_ROLLBACK_ALPHA / (all.length * Math.max(1, treatments(plan).length)),
  };
  const looks: Record<string, Record<string, ExperimentMetricLook>> = {};
  const monitors: Record<string, Record<string, ExperimentMonitor>> = {};
  for (const spec of all) {
    looks[spec.metric] = {};
    monitors[spec.metric] = { ...(monitoring.metrics[spec.metric] ?? {}) };
    for (const variant of treatments(plan)) {
      const monitor = monitors[spec.metric]?.[variant] ?? { maxInformation: null, test: null };
      const out = lookMetric(ctx, spec, variant, monitor);
      (looks[spec.metric] as Record<string, ExperimentMetricLook>)[variant] = out.look;
      (monitors[spec.metric] as Record<string, ExperimentMonitor>)[variant] = out.monitor;
    }
  }
  monitoring = { ...monitoring, metrics: monitors, looks: monitoring.looks + 1, lastLookAt: now };
  const variants = judgeVariants(plan, looks);
  const verdict = judge(plan, state, { looks, variants, srm: srm.look, planning, now, evidence });

  let nextState: ExperimentState = { ...state, monitoring, updatedAt: now };
  const lastDecision = [...state.history].reverse().find((h) => h.kind === 'decision');
  if (lastDecision?.rule !== verdict.rule)
    nextState.history = appendExperimentHistory(state.history, {
      at: now,
      kind: 'decision',
      action: verdict.recommendation,
      rule: verdict.rule,
      actor: null,
      coverage: state.coverage,
    });
  let applied = false;
  let event: ExperimentEvent | null = null;
  let reason = verdict.reason;
  if (verdict.recommendation !== 'continue') {
    if (plan.mode === 'automatic') {
      const request =
        verdict.recommendation === 'ship'
          ? { action: 'ship' as const, variant: verdict.winner as string }
          : { action: verdict.recommendation };
      const result = transitionExperiment(plan, nextState, {
        ...request,
        now,
        actor: 'controller',
        rule: verdict.rule,
        reason: verdict.reason,
      });
      if (result.ok) {
        nextState = result.state;
        event = result.event;
        applied = true;
      }
    } else reason += ' (manual mode: waiting for a person)';
  }
  return {
    ...head,
    recommendation: verdict.recommendation,
    rule: verdict.rule,
    reason,
    winner: verdict.winner,
    plannedUnits: monitoring.plannedUnits,
    metrics: looks,
    variants,
    srm: srm.look,
    applied,
    event,
    nextState,
  };
}
