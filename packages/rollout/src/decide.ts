// decide(plan, state, evidence, now): one look of the controller. It runs every guardrail's sequential tests and
// the SRM test on the evidence, applies the rules of statistics.md "Decisions", and returns the recommendation
// with everything a person needs to see why, plus the next state (tests extended; the action applied in
// automatic mode). Pure and deterministic: the same inputs give deep-equal outputs.

import { BUCKET_COUNT } from '@dimmer/core';
import {
  assessGuardrail,
  type CohortStats,
  type CombinedEstimate,
  canaryGuard,
  combineCohorts,
  compareQuantiles,
  createGuardrailState,
  DEFAULT_ROLLBACK_ALPHA,
  DEFAULT_SRM_THRESHOLD,
  type Direction,
  decidingInterval,
  effectiveUnits,
  estimateArm,
  type GuardrailConfig,
  type GuardrailLookInput,
  type GuardrailLookSummary,
  type MetricKind as MomentKind,
  type QuantileMetricInput,
  type QuantileScope,
  quantileGuardrailEstimate,
  type SufficientStats,
  srmChiSquare,
  updateSrm,
} from '@dimmer/stats';
import { DAY_MS, formatDuration, MINUTE_MS } from './duration.ts';
import type { MetricEvidence, QuantileEvidence, RolloutEvidence } from './evidence.ts';
import { plannedLooks, plannedMaxInformation, stageLengths } from './forecast.ts';
import type { MetricKind } from './metric.ts';
import {
  finalStageIndex,
  type RolloutGuardrail,
  type RolloutPlan,
  stageReach,
  stageReachBuckets,
} from './plan.ts';
import {
  appendHistory,
  CONTROLLER_ACTOR,
  createMonitoring,
  type MetricMonitor,
  MONITORED_STATUSES,
  type MonitoringState,
  type RolloutEvent,
  type RolloutState,
  transition,
} from './state.ts';

/** What the controller should do. `complete` ends a holdback stage whose minimum duration has passed. */
export type DecisionAction = 'rollback' | 'advance' | 'hold' | 'complete';

/** The rule that produced a decision. */
export type DecisionRule =
  /** Rollback: a guardrail's deterioration boundary was crossed. */
  | 'deterioration'
  /** Rollback: the canary guard saw catastrophic relative harm (at any stage, also at a skipped look). */
  | 'canary_guard'
  /** Rollback or hold (per `srmAction`): the sequential SRM test found a sample-ratio mismatch. */
  | 'srm'
  /** Hold: the rollout is not in a monitored status (draft, rolled back, completed). */
  | 'not_monitored'
  /** Hold: the evidence belongs to another attempt. */
  | 'stale_evidence'
  /** Hold: the evidence holds a count or sum that is not a finite number (or a negative count). */
  | 'invalid_evidence'
  /** Hold: paused by a person; the decision says what would happen otherwise. */
  | 'paused'
  /** Hold: a required metric has no usable data. */
  | 'missing_data'
  | 'min_duration'
  | 'min_units'
  | 'min_events'
  /** Hold: the final step needs every guardrail non-inferior. */
  | 'non_inferiority_pending'
  /** Hold: the final step (policy `information`) needs the planned information. */
  | 'information_pending'
  /** Hold: the holdback stage is monitored until its minimum duration has passed. */
  | 'holding'
  /** Complete: the holdback stage ran its minimum duration with no rollback trigger. */
  | 'holdback_elapsed'
  /** Advance: every condition met. */
  | 'all_clear';

/** One guardrail at one look. */
export interface MetricLook {
  metric: string;
  kind: MetricKind;
  direction: Direction;
  required: boolean;
  /** Relative margin. */
  margin: number;
  /** `no_data`: no events seen; `insufficient`: no cohort with 2 units and some variance in each arm yet. */
  status: 'no_data' | 'insufficient' | 'assessed';
  /** Frozen I_max used at this look. */
  maxInformation: number | null;
  /** Proportion metrics: units with at least one event, per arm. */
  events: { treatment: number; control: number } | null;
  /**
   * Proportion metrics: events expected in the smaller arm at the control rate (n_small·p̂_C), which the stage
   * minimum `minEventsPerArm` is checked against.
   */
  expectedEvents: number | null;
  /** The statistics engine's summary: Δ̂, SE, interval, relative lift and interval, z, boundaries, n, verdict. */
  summary: GuardrailLookSummary | null;
  /** The canary guard (every stage): the lower confidence bound of relative harm. */
  canary: { triggered: boolean; lowerBound: number; threshold: number } | null;
  /**
   * Quantile metrics: both arms' quantiles in the metric's unit (the summary's means are then on the relative
   * scale: control 1, treatment Q_T/Q_C), the values they are over, and whether the minimum information is met.
   */
  quantile?: QuantileLook | null;
}

/** Both arms' quantiles of a quantile guardrail at one look. */
export interface QuantileLook {
  q: number;
  scope: QuantileScope;
  treatment: number;
  control: number;
  valuesTreatment: number;
  valuesControl: number;
  minimumInformationMet: boolean;
}

/** The sample-ratio check at one look. */
export interface SrmLook {
  /** Always-valid p of the sequential Dirichlet-multinomial test (running minimum). */
  pValue: number;
  threshold: number;
  mismatch: boolean;
  logBayesFactor: number;
  /** Per stage: expected split in percent, observed counts, and a χ² p-value for display only. */
  stages: {
    stage: number;
    expected: [number, number];
    observed: [number, number];
    chiSquarePValue: number | null;
  }[];
}

/** The stage minimums at this look. */
export interface StageChecks {
  elapsedMs: number;
  minDurationMs: number;
  unitsPerArm: { treatment: number; control: number };
  minUnitsPerArm: number;
  minEventsPerArm: number;
}

/** The outcome of one look; plain JSON (store it, return it from the API, send it in the webhook). */
export interface Decision {
  at: number;
  attempt: number;
  /** Status, stage and reach the decision was made in. */
  status: RolloutState['status'];
  stageIndex: number;
  reach: number;
  action: DecisionAction;
  rule: DecisionRule;
  /** A sentence a person understands, naming the metric and the numbers. */
  reason: string;
  /** For `advance`: the stage it leads to. */
  toStage: number | null;
  metrics: Record<string, MetricLook>;
  srm: SrmLook | null;
  checks: StageChecks | null;
  /** True when `nextState` already has the action applied (automatic mode, running or holding). */
  applied: boolean;
  event: RolloutEvent | null;
  /** The state to store: tests extended by this look, history appended, and the action when applied. */
  nextState: RolloutState;
}

/** Shortest window over which the traffic rate is estimated when the server gives no forecast. */
const MIN_RATE_WINDOW_MS = MINUTE_MS;

function pct(x: number, signed = false): string {
  if (!Number.isFinite(x)) return String(x);
  const v = Number((x * 100).toPrecision(3));
  return `${signed && v > 0 ? '+' : ''}${v}%`;
}

function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return Number(x.toPrecision(4)).toString();
}

function stageName(plan: RolloutPlan, k: number): string {
  return `stage ${k + 1} (${stageReach(plan, k)}%)`;
}

function sumArm(list: readonly SufficientStats[]): SufficientStats {
  const out: SufficientStats = { n: 0, sumY: 0, sumY2: 0 };
  let sumD = 0;
  let sumD2 = 0;
  let sumYD = 0;
  let ratio = false;
  for (const s of list) {
    out.n += s.n;
    out.sumY += s.sumY;
    out.sumY2 += s.sumY2;
    if (s.sumD !== undefined) {
      ratio = true;
      sumD += s.sumD;
      sumD2 += s.sumD2 ?? 0;
      sumYD += s.sumYD ?? 0;
    }
  }
  return ratio ? { ...out, sumD, sumD2, sumYD } : out;
}

/** Per-unit variance of the metric from the first look's pooled arms (n-weighted over the two arms). */
export function unitVariance(kind: MomentKind, cohorts: readonly CohortStats[]): number {
  let weighted = 0;
  let n = 0;
  for (const arm of ['treatment', 'control'] as const) {
    const est = estimateArm(kind, sumArm(cohorts.map((c) => c[arm])));
    if (est === null) continue;
    weighted += est.variance * est.n * est.n;
    n += est.n;
  }
  return n > 0 ? weighted / n : Number.NaN;
}

function isCount(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

/** The path of the first malformed number in the evidence, or null when every count and sum is usable. */
function evidenceProblem(evidence: RolloutEvidence): string | null {
  if (!isCount(evidence.units?.treatment) || !isCount(evidence.units?.control)) return 'units must be counts';
  for (const [i, a] of (evidence.assignments ?? []).entries()) {
    if (!Number.isInteger(a.stage) || !isCount(a.treatment) || !isCount(a.control))
      return `assignments[${i}] must hold a stage index and counts`;
  }
  for (const [key, m] of Object.entries(evidence.metrics ?? {})) {
    for (const [i, c] of (m.cohorts ?? []).entries()) {
      for (const arm of ['treatment', 'control'] as const) {
        const st = c[arm];
        const sums = [st?.sumY, st?.sumY2, st?.sumD ?? 0, st?.sumD2 ?? 0, st?.sumYD ?? 0];
        if (!isCount(st?.n) || !sums.every((x) => typeof x === 'number' && Number.isFinite(x)))
          return `metrics.${key}.cohorts[${i}].${arm} must hold a count n and finite sums`;
      }
    }
  }
  return null;
}

interface LookContext {
  plan: RolloutPlan;
  state: RolloutState;
  evidence: RolloutEvidence;
  now: number;
  rollbackAlpha: number;
  /** Control rates of the proportion guardrails at this look (they set how long a stage's event minimum takes). */
  baselines: Record<string, { mean: number }>;
}

function totals(cohorts: readonly CohortStats[], arm: 'treatment' | 'control'): { n: number; sumY: number } {
  return cohorts.reduce((a, c) => ({ n: a.n + c[arm].n, sumY: a.sumY + c[arm].sumY }), { n: 0, sumY: 0 });
}

/** Control rate of each proportion guardrail with control data in the evidence. */
function controlRates(plan: RolloutPlan, evidence: RolloutEvidence): Record<string, { mean: number }> {
  const out: Record<string, { mean: number }> = {};
  for (const g of plan.guardrails) {
    const ev = evidence.metrics[g.metric];
    if (g.kind !== 'proportion' || ev === undefined) continue;
    const control = totals(ev.cohorts, 'control');
    if (control.n > 0) out[g.metric] = { mean: control.sumY / control.n };
  }
  return out;
}

/**
 * Freezes N_max (effective units at the end of the last gated stage, stages lasting as long as their minimums
 * take at the observed traffic and control rates) at the first usable look, and re-estimates it once, at the
 * first look after the first stage.
 */
function maxInformationFor(
  ctx: LookContext,
  monitor: MetricMonitor,
  sizes: LookSizes,
  estimate: CombinedEstimate,
): MetricMonitor {
  const laterStage = ctx.state.stageIndex >= 1;
  const currentScale = monitor.maxInformationBasis?.scale === 'effective_units';
  if (monitor.maxInformation !== null && currentScale && (monitor.reestimated || !laterStage)) return monitor;
  const elapsed = Math.max(MIN_RATE_WINDOW_MS, ctx.now - (ctx.state.startedAt ?? ctx.now));
  const units = Math.max(
    ctx.evidence.units.treatment + ctx.evidence.units.control,
    estimate.nTreatment + estimate.nControl,
  );
  const given = ctx.evidence.unitsPerDay;
  const unitsPerDay = given !== undefined && given > 0 ? given : (units * DAY_MS) / elapsed;
  const durations = stageLengths(ctx.plan, { unitsPerDay, baselines: ctx.baselines }).map(
    (l) => l.durationMs,
  );
  let nMax = plannedMaxInformation(ctx.plan, unitsPerDay, durations);
  const gated = plannedLooks(ctx.plan, unitsPerDay, durations).filter(
    (l) => l.stageIndex < finalStageIndex(ctx.plan),
  );
  const plannedMs = gated[gated.length - 1]?.atMs ?? 0;
  const nNow = sizes.effectiveUnits;
  if (!(nMax > 0) || !Number.isFinite(nMax)) {
    // The forecast sees nothing (too little traffic for its cohorts): extrapolate the effective units linearly
    // over the planned duration of the gated stages instead.
    nMax = nNow * Math.max(1, plannedMs / elapsed);
  }
  if (monitor.test !== null) {
    // A re-estimate may not send the information fraction backwards: N itself never falls, but a larger N_max
    // would move t below the last fraction that spent α and leave the rollback test blind for a while.
    const lastT = Math.max(
      monitor.test.deterioration.boundary.density?.t ?? 0,
      monitor.test.nonInferiority?.boundary.density?.t ?? 0,
    );
    if (lastT > 0) nMax = Math.min(nMax, nNow / lastT);
  }
  return {
    ...monitor,
    maxInformation: nMax,
    maxInformationBasis: {
      unitsPerDay,
      unitVariance: sizes.unitVariance,
      plannedUnits: (unitsPerDay * plannedMs) / DAY_MS,
      at: ctx.now,
      scale: 'effective_units',
    },
    reestimated: monitor.reestimated || (currentScale && monitor.maxInformation !== null) || laterStage,
  };
}

/** Events expected in the smaller arm at the control rate: n_small·p̂_C (0 without control units). */
function expectedEventsOf(cohorts: readonly CohortStats[]): number {
  const t = totals(cohorts, 'treatment');
  const c = totals(cohorts, 'control');
  return c.n > 0 ? (Math.min(t.n, c.n) * c.sumY) / c.n : 0;
}

/** A metric's size at this look on the information scale: effective units and the per-unit variance of Δ̂. */
interface LookSizes {
  effectiveUnits: number;
  unitVariance: number;
}

/** What the guardrail tests take at one look, whatever the metric's kind. */
interface Prepared {
  estimate: CombinedEstimate;
  input: GuardrailLookInput;
  sizes: LookSizes;
  quantile: QuantileLook | null;
}

function prepareMoments(kind: MomentKind, cohorts: CohortStats[]): Prepared | null {
  const estimate = combineCohorts(kind, cohorts);
  if (estimate === null) return null;
  return {
    estimate,
    input: { kind, cohorts, estimate },
    sizes: { effectiveUnits: effectiveUnits(cohorts), unitVariance: unitVariance(kind, cohorts) },
    quantile: null,
  };
}

function prepareQuantile(evidence: QuantileEvidence | undefined): Prepared | null {
  if (evidence === undefined) return null;
  const comparison = compareQuantiles({
    scope: evidence.scope,
    quantile: evidence.q,
    cohorts: [...evidence.cohorts].sort((a, b) => a.stage - b.stage),
  } as QuantileMetricInput);
  if (comparison === null) return null;
  const estimate = quantileGuardrailEstimate(comparison);
  return {
    estimate,
    input: {
      kind: 'quantile',
      estimate,
      effectiveUnits: comparison.effectiveUnits,
      minimumMet: comparison.minimumInformationMet,
    },
    sizes: { effectiveUnits: comparison.effectiveUnits, unitVariance: comparison.unitVariance },
    quantile: {
      q: evidence.q,
      scope: evidence.scope,
      treatment: comparison.quantileTreatment,
      control: comparison.quantileControl,
      valuesTreatment: comparison.valuesTreatment,
      valuesControl: comparison.valuesControl,
      minimumInformationMet: comparison.minimumInformationMet,
    },
  };
}

function lookMetric(
  ctx: LookContext,
  g: RolloutGuardrail,
  monitor: MetricMonitor,
  ev: MetricEvidence | undefined,
): { look: MetricLook; monitor: MetricMonitor } {
  const cohorts: CohortStats[] = [...(ev?.cohorts ?? [])]
    .sort((a, b) => a.stage - b.stage)
    .map((c) => ({ treatment: c.treatment, control: c.control }));
  const base: MetricLook = {
    metric: g.metric,
    kind: g.kind,
    direction: g.direction,
    required: g.required,
    margin: g.margin,
    status: 'no_data',
    maxInformation: monitor.maxInformation,
    events:
      g.kind === 'proportion'
        ? { treatment: totals(cohorts, 'treatment').sumY, control: totals(cohorts, 'control').sumY }
        : null,
    expectedEvents: g.kind === 'proportion' ? expectedEventsOf(cohorts) : null,
    summary: null,
    canary: null,
  };
  if (ev?.hasData !== true) return { look: base, monitor };
  const prepared = g.kind === 'quantile' ? prepareQuantile(ev.quantile) : prepareMoments(g.kind, cohorts);
  if (prepared === null) return { look: { ...base, status: 'insufficient' }, monitor };
  const { estimate } = prepared;
  let next = maxInformationFor(ctx, monitor, prepared.sizes, estimate);
  const config: GuardrailConfig = {
    direction: g.direction,
    maxInformation: next.maxInformation as number,
    rollbackAlpha: ctx.rollbackAlpha,
    nonInferiority: { margin: { relative: g.margin } },
  };
  // Displayed intervals are confidence sequences tuned once, at the units planned through the last gated
  // stage, so they stay valid across looks.
  const plannedUnits = next.maxInformationBasis?.plannedUnits ?? 0;
  if (plannedUnits > 0) config.tuningN = plannedUnits;
  const assessed = assessGuardrail(next.test ?? createGuardrailState(config), config, prepared.input);
  next = { ...next, test: assessed.state };
  let canary: MetricLook['canary'] = null;
  const { plan } = ctx;
  const first = plan.stages[0];
  if (plan.canaryGuard !== false && first !== undefined) {
    // Every stage, and also at looks whose sequential tests spend nothing (skipped, or below the minimum
    // information): the guard is a confidence sequence, valid at any look.
    // Tuning N fixed in advance: the total units when the first stage's treatment arm reaches its minimum.
    const tuningN = (first.minUnitsPerArm * BUCKET_COUNT) / stageReachBuckets(plan, 0);
    const guard = canaryGuard({
      estimate,
      direction: g.direction,
      alpha: ctx.rollbackAlpha,
      tuningN,
      threshold: plan.canaryGuard.threshold,
    });
    canary = { ...guard, threshold: plan.canaryGuard.threshold };
  }
  return {
    look: {
      ...base,
      status: 'assessed',
      maxInformation: next.maxInformation,
      summary: assessed.summary,
      canary,
      ...(prepared.quantile ? { quantile: prepared.quantile } : {}),
    },
    monitor: next,
  };
}

function lookSrm(
  plan: RolloutPlan,
  state: RolloutState,
  monitoring: MonitoringState,
  evidence: RolloutEvidence,
): { look: SrmLook; monitoring: MonitoringState } {
  let srm = monitoring.srm;
  const srmCounts = { ...monitoring.srmCounts };
  const stages: SrmLook['stages'] = [];
  const sorted = [...evidence.assignments].sort((a, b) => a.stage - b.stage);
  for (const a of sorted) {
    if (!(a.stage >= 0 && a.stage <= state.stageIndex)) continue;
    const reach = stageReachBuckets(plan, a.stage);
    if (reach <= 0 || reach >= BUCKET_COUNT) continue;
    const key = String(a.stage);
    const [prevT, prevC] = srmCounts[key] ?? [0, 0];
    const inc = [Math.max(0, a.treatment - prevT), Math.max(0, a.control - prevC)];
    if ((inc[0] as number) + (inc[1] as number) > 0)
      srm = updateSrm(srm, { stage: key, expected: [reach, BUCKET_COUNT - reach], counts: inc });
    srmCounts[key] = [Math.max(prevT, a.treatment), Math.max(prevC, a.control)];
    const observed: [number, number] = [a.treatment, a.control];
    const chi =
      a.treatment + a.control > 0
        ? srmChiSquare({ observed, weights: [reach, BUCKET_COUNT - reach] }).pValue
        : null;
    const share = (reach / BUCKET_COUNT) * 100;
    stages.push({ stage: a.stage, expected: [share, 100 - share], observed, chiSquarePValue: chi });
  }
  return {
    look: {
      pValue: srm.pValue,
      threshold: DEFAULT_SRM_THRESHOLD,
      mismatch: srm.pValue < DEFAULT_SRM_THRESHOLD,
      logBayesFactor: srm.logBayesFactor,
      stages,
    },
    monitoring: { ...monitoring, srm, srmCounts },
  };
}

/** The two arms' values a reason quotes: their means, or for a quantile metric their quantiles ("p99 212 vs 180"). */
function armValues(look: MetricLook): string {
  const q = look.quantile;
  if (q) return `p${num(Number((q.q * 100).toPrecision(6)))} ${num(q.treatment)} vs ${num(q.control)}`;
  const s = look.summary as GuardrailLookSummary;
  return `${num(s.meanTreatment)} vs ${num(s.meanControl)}`;
}

function deteriorationReason(look: MetricLook): string {
  const s = look.summary as GuardrailLookSummary;
  const d = s.deterioration;
  const crossed = d.rejected
    ? `z = ${num(d.z)} ≥ boundary ${d.boundary === null ? '∞' : num(d.boundary)} at ${pct(s.informationFraction)} of the planned information`
    : `its deterioration boundary was crossed at an earlier look`;
  // The interval of the rollback test on the log-ratio scale: the same numbers the API, dashboard and CLI show.
  const deciding = decidingInterval(s);
  const interval =
    deciding.relative !== null
      ? `, ${deciding.test === 'rollback' ? 'rollback-test' : 'always-valid'} interval ${pct(deciding.relative.lower, true)} to ${pct(deciding.relative.upper, true)}`
      : '';
  return (
    `${look.metric} is worse in treatment: ${pct(s.relativeLift, true)} relative ` +
    `(${armValues(look)}${interval}; ` +
    `${num(s.nTreatment)} treatment and ${num(s.nControl)} control units), ${crossed}`
  );
}

function niShortfall(look: MetricLook): string {
  if (look.summary === null) return `${look.metric} (no data)`;
  const ni = look.summary.nonInferiority;
  const zb = ni ? `z = ${num(ni.z)}, boundary ${ni.boundary === null ? '∞' : num(ni.boundary)}` : 'no test';
  return `${look.metric} (${pct(look.summary.relativeLift, true)} relative, margin ${pct(look.margin)}; ${zb})`;
}

interface Verdict {
  action: DecisionAction;
  rule: DecisionRule;
  reason: string;
  toStage: number | null;
}

function judge(
  plan: RolloutPlan,
  state: RolloutState,
  looks: MetricLook[],
  srm: SrmLook,
  checks: StageChecks,
): Verdict {
  const hold = (rule: DecisionRule, reason: string): Verdict => ({
    action: 'hold',
    rule,
    reason,
    toStage: null,
  });
  const harmed = looks.filter((l) => l.summary?.harmDetected === true);
  if (harmed.length > 0) {
    const others =
      harmed.length > 1 ? ` (and ${harmed.length - 1} more guardrail${harmed.length > 2 ? 's' : ''})` : '';
    return {
      action: 'rollback',
      rule: 'deterioration',
      reason: `${deteriorationReason(harmed[0] as MetricLook)}${others}; rolling back to 0%.`,
      toStage: null,
    };
  }
  const canary = looks.find((l) => l.canary?.triggered === true);
  if (canary?.canary) {
    const s = canary.summary as GuardrailLookSummary;
    return {
      action: 'rollback',
      rule: 'canary_guard',
      reason:
        `${canary.metric} shows at least ${pct(canary.canary.lowerBound)} relative harm in ${stageName(plan, state.stageIndex)} ` +
        `(estimate ${pct(s.relativeLift, true)}, ${num(s.nTreatment)} treatment units), above the ${pct(canary.canary.threshold)} canary threshold; rolling back to 0%.`,
      toStage: null,
    };
  }
  const srmStage = srm.stages[srm.stages.length - 1];
  const srmText = srmStage
    ? `${num(srmStage.observed[0])} treatment and ${num(srmStage.observed[1])} control units were first assigned in ${stageName(plan, srmStage.stage)} where ${num(srmStage.expected[0])}/${num(srmStage.expected[1])} was expected`
    : 'the assignment counts do not match the split';
  if (srm.mismatch) {
    const p = `sequential SRM p = ${srm.pValue.toPrecision(2)} < ${srm.threshold}`;
    if (plan.srmAction === 'rollback')
      return {
        action: 'rollback',
        rule: 'srm',
        reason: `Sample-ratio mismatch: ${srmText} (${p}); rolling back to 0% as the plan asks.`,
        toStage: null,
      };
    return hold(
      'srm',
      `Sample-ratio mismatch: ${srmText} (${p}); holding until a person checks that exposures are logged for both arms.`,
    );
  }
  const last = finalStageIndex(plan);
  const statusNow = state.status === 'paused' ? state.pausedFrom : state.status;
  if (statusNow === 'holding') {
    const rest = checks.minDurationMs - checks.elapsedMs;
    if (rest > 0)
      return hold(
        'holding',
        `Final stage: ${stageReach(plan, last)}% treatment with a ${plan.holdback}% holdback, monitored for deterioration; no harm so far, ${formatDuration(rest)} left of its ${formatDuration(checks.minDurationMs)}.`,
      );
    return {
      action: 'complete',
      rule: 'holdback_elapsed',
      reason: `The ${plan.holdback}% holdback ran its ${formatDuration(checks.minDurationMs)} with no deterioration; completing (treatment for everyone).`,
      toStage: null,
    };
  }
  const missing = looks.filter((l) => l.required && l.status !== 'assessed');
  if (missing.length > 0)
    return hold(
      'missing_data',
      `No usable data yet for required metric${missing.length > 1 ? 's' : ''} ${missing.map((l) => l.metric).join(', ')}; holding until ${missing.length > 1 ? 'their' : 'its'} events arrive in both arms.`,
    );
  const here = stageName(plan, state.stageIndex);
  const capitalised = here.charAt(0).toUpperCase() + here.slice(1);
  if (checks.elapsedMs < checks.minDurationMs)
    return hold(
      'min_duration',
      `${capitalised} has run ${formatDuration(checks.elapsedMs)} of its minimum ${formatDuration(checks.minDurationMs)}; no harm detected so far.`,
    );
  const { treatment, control } = checks.unitsPerArm;
  if (Math.min(treatment, control) < checks.minUnitsPerArm)
    return hold(
      'min_units',
      `The comparison has ${num(treatment)} treatment and ${num(control)} control units; ${here} needs ${num(checks.minUnitsPerArm)} per arm.`,
    );
  const fewEvents = looks.filter(
    (l) => l.status === 'assessed' && l.expectedEvents !== null && l.expectedEvents < checks.minEventsPerArm,
  );
  if (fewEvents.length > 0) {
    const l = fewEvents[0] as MetricLook;
    const e = l.events as { treatment: number; control: number };
    return hold(
      'min_events',
      `${l.metric} expects ${num(l.expectedEvents ?? 0)} events in the smaller arm at the control rate (${num(e.treatment)} treatment and ${num(e.control)} control units with an event); ${here} needs ${checks.minEventsPerArm}.`,
    );
  }
  const next = state.stageIndex + 1;
  const finalStep = next >= last;
  const target =
    next >= last
      ? plan.holdback > 0
        ? `${stageReach(plan, last)}% with a ${plan.holdback}% holdback`
        : '100% (the rollout completes)'
      : stageName(plan, next);
  if (finalStep && plan.finalGate === 'non_inferiority') {
    const pending = looks.filter((l) => l.summary?.nonInferior !== true);
    if (pending.length > 0)
      return hold(
        'non_inferiority_pending',
        `Going to ${target} needs every guardrail shown non-inferior; not yet: ${pending.map(niShortfall).join('; ')}.`,
      );
  }
  if (finalStep && plan.finalGate === 'information') {
    const pending = looks.filter((l) => !((l.summary?.informationFraction ?? 0) >= 1));
    if (pending.length > 0)
      return hold(
        'information_pending',
        `Going to ${target} needs the planned information on every guardrail; not yet: ${pending
          .map((l) => `${l.metric} at ${pct(l.summary?.informationFraction ?? 0)}`)
          .join(', ')}.`,
      );
  }
  const gate = finalStep
    ? plan.finalGate === 'non_inferiority'
      ? ', every guardrail shown non-inferior'
      : ', the planned information reached'
    : '';
  return {
    action: 'advance',
    rule: 'all_clear',
    reason: `${capitalised} ran ${formatDuration(checks.elapsedMs)} with ${num(treatment)} treatment and ${num(control)} control units, no harm detected${gate} and no sample-ratio mismatch (p = ${srm.pValue.toPrecision(2)}); advancing to ${target}.`,
    toStage: Math.min(next, last),
  };
}

function withDecisionHistory(state: RolloutState, verdict: Verdict, now: number): RolloutState {
  const lastDecision = [...state.history].reverse().find((h) => h.kind === 'decision');
  if (
    verdict.action === 'hold' &&
    lastDecision?.rule === verdict.rule &&
    lastDecision.attempt === state.attempt
  )
    return state;
  return {
    ...state,
    history: appendHistory(state.history, {
      at: now,
      kind: 'decision',
      action: verdict.action,
      rule: verdict.rule,
      actor: null,
      attempt: state.attempt,
      stageIndex: state.stageIndex,
      reach: state.reach,
    }),
  };
}

/**
 * One look at time `now` (epoch ms): runs each guardrail's deterioration and non-inferiority tests, the
 * canary guard and the SRM test on `evidence`, and decides rollback, advance, complete (holdback done) or hold
 * per statistics.md. In automatic mode a running or holding rollout's `nextState` has the action applied;
 * manual mode and paused rollouts only recommend. Deterministic; a look with no new information spends no α.
 */
export function decide(
  plan: RolloutPlan,
  state: RolloutState,
  evidence: RolloutEvidence,
  now: number,
): Decision {
  const head = {
    at: now,
    attempt: state.attempt,
    status: state.status,
    stageIndex: state.stageIndex,
    reach: state.reach,
  };
  const idle = (rule: DecisionRule, reason: string): Decision => ({
    ...head,
    action: 'hold',
    rule,
    reason,
    toStage: null,
    metrics: {},
    srm: null,
    checks: null,
    applied: false,
    event: null,
    nextState: state,
  });
  if (!MONITORED_STATUSES.includes(state.status))
    return idle(
      'not_monitored',
      `The rollout is ${state.status.replace('_', ' ')}; there is nothing to decide.`,
    );
  if (evidence.attempt !== state.attempt)
    return idle(
      'stale_evidence',
      `The evidence is for attempt ${evidence.attempt} but the rollout is on attempt ${state.attempt}; ignoring it.`,
    );

  const problem = evidenceProblem(evidence);
  if (problem !== null)
    return idle('invalid_evidence', `The evidence is unusable: ${problem}; no look was taken.`);

  const ctx: LookContext = {
    plan,
    state,
    evidence,
    now,
    rollbackAlpha: DEFAULT_ROLLBACK_ALPHA / Math.max(1, plan.guardrails.length),
    baselines: controlRates(plan, evidence),
  };
  let monitoring = state.monitoring ?? createMonitoring(plan);
  const srm = lookSrm(plan, state, monitoring, evidence);
  monitoring = srm.monitoring;
  const metrics: Record<string, MetricLook> = {};
  const looks: MetricLook[] = [];
  const monitors: Record<string, MetricMonitor> = { ...monitoring.metrics };
  for (const g of plan.guardrails) {
    const monitor = monitors[g.metric] ?? {
      maxInformation: null,
      maxInformationBasis: null,
      reestimated: false,
      test: null,
    };
    const out = lookMetric(ctx, g, monitor, evidence.metrics[g.metric]);
    monitors[g.metric] = out.monitor;
    metrics[g.metric] = out.look;
    looks.push(out.look);
  }
  monitoring = { ...monitoring, metrics: monitors, looks: monitoring.looks + 1, lastLookAt: now };

  const stage = plan.stages[Math.min(state.stageIndex, plan.stages.length - 1)] ?? plan.stages[0];
  const checks: StageChecks = {
    elapsedMs: now - (state.stageStartedAt ?? now),
    minDurationMs: stage?.minDuration ?? 0,
    unitsPerArm: { treatment: evidence.units.treatment, control: evidence.units.control },
    minUnitsPerArm: stage?.minUnitsPerArm ?? 0,
    minEventsPerArm: stage?.minEventsPerArm ?? 0,
  };
  let verdict = judge(plan, state, looks, srm.look, checks);
  if (state.status === 'paused' && verdict.action !== 'hold' && verdict.action !== 'rollback')
    verdict = {
      action: 'hold',
      rule: 'paused',
      reason: `Paused by a person; otherwise: ${verdict.reason}`,
      toStage: null,
    };

  let nextState = withDecisionHistory({ ...state, monitoring, updatedAt: now }, verdict, now);
  let applied = false;
  let event: RolloutEvent | null = null;
  let reason = verdict.reason;
  const live = state.status === 'running' || state.status === 'holding';
  if (verdict.action !== 'hold' && live && plan.mode === 'automatic') {
    const result = transition({
      plan,
      state: nextState,
      action: verdict.action,
      now,
      actor: CONTROLLER_ACTOR,
      cause: { rule: verdict.rule, reason: verdict.reason },
    });
    if (result.ok) {
      nextState = result.state;
      event = result.event;
      applied = true;
    }
  } else if (verdict.action !== 'hold') {
    reason +=
      state.status === 'paused' ? ' (paused: a person decides)' : ' (manual mode: waiting for a person)';
  }
  return {
    ...head,
    action: verdict.action,
    rule: verdict.rule,
    reason,
    toStage: verdict.toStage,
    metrics,
    srm: srm.look,
    checks,
    applied,
    event,
    nextState,
  };
}
