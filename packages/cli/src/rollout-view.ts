/**
 * Reading and drawing rollouts: a summary of the rollout reply, the status block `rollouts status` draws, and
 * the plan forecast.
 */
import type {
  DecisionView,
  EvidenceReport,
  LastAction,
  MetricEstimates,
  PlanForecastView,
  PlanReply,
  RelativeChange,
  RolloutView,
} from '@dimmer/sdk';
import {
  formatDuration,
  formatKeyValues,
  formatNumber,
  formatPercent,
  formatTable,
  formatTime,
  NONE,
} from './output.ts';

/** Statuses after which nothing changes without a person: `--watch` stops there. */
export const FINAL_STATUSES: readonly string[] = ['completed', 'rolled_back'];

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** What the CLI shows of a rollout. */
export interface RolloutSummary {
  id: string;
  flag: string;
  environment: string;
  treatment: string;
  control: string;
  status: string;
  /** 0-based index of the current stage. */
  stageIndex: number;
  stages: { reach: number; minDuration?: number | string; minUnitsPerArm?: number }[];
  /** Treatment reach served now, in percent. */
  reach: number;
  attempt: number | undefined;
  mode: string | undefined;
  holdback: number | undefined;
  guardrails: string[];
  stageStartedAt: number | string | undefined;
}

/** Summarises a rollout reply (`RolloutView` of the contract: `state` is the lifecycle state). */
export function summarizeRollout(r: RolloutView): RolloutSummary {
  return {
    id: r.id,
    flag: r.flag,
    environment: r.environment,
    treatment: r.treatment,
    control: r.control,
    status: r.state,
    stageIndex: r.stage,
    stages: r.stages.map((s) => ({
      reach: s.reach,
      minDuration: s.minDuration,
      minUnitsPerArm: s.minUnitsPerArm,
    })),
    reach: r.reach,
    attempt: r.attempt,
    mode: r.mode,
    holdback: r.holdback,
    guardrails: r.guardrails.map((g) => g.metric),
    stageStartedAt: r.stageStartedAt ?? undefined,
  };
}

function stageLabel(s: RolloutSummary): string {
  const total = s.stages.length;
  return total > 0 ? `${s.stageIndex + 1} of ${total}` : String(s.stageIndex + 1);
}

/** The rollouts table. */
export function formatRolloutList(rollouts: readonly RolloutView[]): string {
  if (rollouts.length === 0) return 'No rollouts.\n';
  return formatTable(
    ['id', 'flag', 'environment', 'status', 'stage', 'reach', 'treatment', 'mode'],
    rollouts.map((raw) => {
      const s = summarizeRollout(raw);
      return [
        s.id,
        s.flag,
        s.environment,
        s.status,
        stageLabel(s),
        `${formatNumber(s.reach)}%`,
        s.treatment,
        s.mode ?? NONE,
      ];
    }),
  );
}

/** One rollout's plan and position, without evidence. */
export function formatRollout(raw: RolloutView): string {
  const s = summarizeRollout(raw);
  const head = formatKeyValues([
    ['rollout', s.id],
    ['flag', `${s.flag} in ${s.environment}: ${s.control} → ${s.treatment}`],
    ['status', s.status],
    ['stage', stageLabel(s)],
    ['reach', `${formatNumber(s.reach)}%`],
    ['mode', s.mode ?? NONE],
    ['guardrails', s.guardrails.length === 0 ? NONE : s.guardrails.join(', ')],
  ]);
  if (s.stages.length === 0) return head;
  const stages = formatTable(
    ['', 'stage', 'reach', 'min duration', 'min units/arm'],
    s.stages.map((st, i) => [
      i === s.stageIndex && s.status !== 'draft' ? '▶' : '',
      String(i + 1),
      `${formatNumber(st.reach)}%`,
      typeof st.minDuration === 'number' ? formatDuration(st.minDuration) : (st.minDuration ?? NONE),
      st.minUnitsPerArm === undefined ? NONE : formatNumber(st.minUnitsPerArm),
    ]),
  );
  return `${head}\n${stages}`;
}

/** The newest decision of a list (by time; the last one on ties). */
export function latestDecision(decisions: readonly DecisionView[]): DecisionView | undefined {
  let best: DecisionView | undefined;
  let bestAt = Number.NEGATIVE_INFINITY;
  for (const d of decisions) {
    const at = typeof d.at === 'number' ? d.at : Date.parse(String(d.at));
    if (!(at < bestAt)) {
      best = d;
      bestAt = Number.isFinite(at) ? at : bestAt;
    }
  }
  return best;
}

/** Everything the status block is drawn from; evidence and decisions are absent when the server has none. */
export interface StatusSnapshot {
  rollout: RolloutView;
  evidence?: EvidenceReport | undefined;
  decision?: DecisionView | undefined;
}

function interval(pair: unknown): string {
  if (!Array.isArray(pair) || pair.length !== 2) return NONE;
  return `[${formatNumber(pair[0] as number)}, ${formatNumber(pair[1] as number)}]`;
}

/** The relative change with the deciding test's interval on the log-ratio scale (never below −100%). */
function relativeCell(rc: RelativeChange | null | undefined, fallback: number | null | undefined): string {
  if (rc === null || rc === undefined)
    return fallback === null || fallback === undefined ? NONE : formatPercent(fallback, true);
  const lift = rc.lift === null ? NONE : formatPercent(rc.lift, true);
  if (rc.lower === null || rc.upper === null) return lift;
  return `${lift} [${formatPercent(rc.lower, true)}, ${formatPercent(rc.upper, true)}]`;
}

/** Which test the interval is from and what it was compared with (boundary, margin). */
function testCell(rc: RelativeChange | null | undefined): string {
  if (rc === null || rc === undefined) return NONE;
  const z = rc.z === null ? '?' : formatNumber(Number(rc.z.toFixed(2)));
  const b = rc.boundary === null ? '∞' : formatNumber(Number(rc.boundary.toFixed(2)));
  const margin = rc.margin === null ? '' : `, margin ${formatNumber(rc.margin)}`;
  if (rc.test === 'rollback') return `rollback: z ${z} ≥ ${b}${margin}`;
  if (rc.test === 'non_inferiority') return `non-inferior: z ${z} ≥ ${b}${margin}`;
  return `always-valid; rollback at z ≥ ${b} (z ${z})${margin}`;
}

function armCell(mean: number | undefined, n: number | undefined): string {
  if (mean === undefined && n === undefined) return NONE;
  return `${formatNumber(mean)} (n=${formatNumber(n)})`;
}

/** A percentile's name: 0.99 → `p99`, 0.999 → `p99.9`. */
export function percentileName(q: number): string {
  return `p${Number((q * 100).toPrecision(6))}`;
}

/** The arms' cells of a quantile metric: each arm's quantile in metric units ("p99 212.4 (n=1,024)"). */
function quantileCells(
  q: { q: number; treatment: number; control: number },
  n: { treatment: number | undefined; control: number | undefined },
): [string, string] {
  const name = percentileName(q.q);
  return [`${name} ${armCell(q.control, n.control)}`, `${name} ${armCell(q.treatment, n.treatment)}`];
}

/**
 * The status block: stage and reach, units per arm, the last decision, and per guardrail the arms' means,
 * the estimated difference (treatment − control) with its always-valid interval, the relative lift and the
 * verdict. Estimates and intervals come from the controller's latest look; before any look, from the live
 * evidence (difference only). Deterministic in its inputs, so unchanged data draws the same block.
 */
export function formatStatus(snapshot: StatusSnapshot): string {
  const s = summarizeRollout(snapshot.rollout);
  const evidence = snapshot.evidence;
  const decision = snapshot.decision;
  const pairs: [string, string][] = [
    ['rollout', `${s.id}  (${s.flag} in ${s.environment}: ${s.control} → ${s.treatment})`],
    ['status', s.attempt !== undefined && s.attempt > 1 ? `${s.status} (attempt ${s.attempt})` : s.status],
    ['stage', stageLabel(s)],
    ['reach', `${formatNumber(s.reach)}%`],
  ];
  if (s.stageStartedAt !== undefined) pairs.push(['stage started', formatTime(s.stageStartedAt)]);
  if (evidence !== undefined)
    pairs.push([
      'units',
      `treatment ${formatNumber(evidence.evidence.units.treatment)}, control ${formatNumber(evidence.evidence.units.control)}`,
    ]);
  if (decision !== undefined) {
    pairs.push(['last decision', `${decision.action} (${decision.rule}) at ${formatTime(decision.at)}`]);
    if (decision.reason) pairs.push(['reason', decision.reason]);
  }
  const last = (snapshot.rollout as { lastAction?: LastAction | null }).lastAction;
  if (last !== null && last !== undefined)
    pairs.push(['last action', `${last.action} by ${last.actor} at ${formatTime(last.at)}`]);
  const alarm = (snapshot.rollout as { alarm?: { reasons?: { cause: string; message: string }[] } | null })
    .alarm;
  for (const reason of alarm?.reasons ?? []) pairs.unshift(['ALARM', `${reason.cause}: ${reason.message}`]);
  const head = formatKeyValues(pairs);

  const estimates = new Map<string, MetricEstimates>((evidence?.estimates ?? []).map((e) => [e.metric, e]));
  const metrics = [
    ...new Set([...s.guardrails, ...Object.keys(decision?.metrics ?? {}), ...estimates.keys()]),
  ].filter((m) => m !== '');
  if (metrics.length === 0) return head;
  const rows = metrics.map((metric) => {
    const look = decision?.metrics[metric];
    const summary = look?.summary ?? null;
    const est = estimates.get(metric);
    const quantile = look?.quantile ?? est?.quantile ?? null;
    if (summary !== null) {
      const [control, treatment] = quantile
        ? quantileCells(quantile, { treatment: summary.nTreatment, control: summary.nControl })
        : [
            armCell(summary.meanControl, summary.nControl),
            armCell(summary.meanTreatment, summary.nTreatment),
          ];
      return [
        metric,
        control,
        treatment,
        formatNumber(summary.delta),
        interval(look?.relativeChange?.absolute ?? summary.interval),
        relativeCell(look?.relativeChange, summary.relativeLift),
        testCell(look?.relativeChange),
        String(summary.verdict),
      ];
    }
    const combined = est?.combined ?? null;
    const [control, treatment] = est?.quantile
      ? quantileCells(est.quantile, { treatment: est.quantile.nTreatment, control: est.quantile.nControl })
      : [
          armCell(est?.arms.control?.mean, est?.arms.control?.n),
          armCell(est?.arms.treatment?.mean, est?.arms.treatment?.n),
        ];
    return [
      metric,
      control,
      treatment,
      combined === null ? NONE : formatNumber(combined.delta),
      NONE,
      est?.relativeLift ? formatPercent(est.relativeLift.lift, true) : NONE,
      NONE,
      look?.status ??
        (est === undefined || !est.hasData
          ? 'no data'
          : combined === null
            ? 'insufficient'
            : 'awaiting look'),
    ];
  });
  const table = formatTable(
    ['guardrail', 'control', 'treatment', 'difference', 'interval', 'relative change', 'test', 'verdict'],
    rows,
  );
  return `${head}\n${table}`;
}

/** The forecast inside a plan reply (the reply itself, or its `forecast` field). */
export function forecastOf(reply: PlanReply): PlanForecastView | undefined {
  if (isObject(reply) && Array.isArray((reply as Json).stages) && isObject((reply as Json).powerPerMetric))
    return reply as unknown as PlanForecastView;
  const inner = (reply as Json).forecast;
  return isObject(inner) ? (inner as unknown as PlanForecastView) : undefined;
}

/**
 * The forecast: per stage its reach, duration, expected units per arm and the smallest regression the rollback
 * test catches (80% power) per guardrail; then each guardrail's non-inferiority power and the warnings.
 */
export function formatForecast(rollout: RolloutView | undefined, reply: PlanReply): string {
  const forecast = forecastOf(reply);
  if (forecast === undefined)
    return `The server's plan reply has no forecast:\n${JSON.stringify(reply, null, 2)}\n`;
  const metrics = [
    ...new Set([
      ...forecast.stages.flatMap((st) => Object.keys(st.mdePerMetric)),
      ...Object.keys(forecast.powerPerMetric),
    ]),
  ];
  const parts: string[] = [];
  const traffic = (reply as Json).traffic;
  const baselines =
    isObject(traffic) && isObject(traffic.baselines)
      ? (traffic.baselines as Record<string, unknown>)
      : undefined;
  if (rollout !== undefined) {
    const s = summarizeRollout(rollout);
    parts.push(
      `Forecast for rollout ${s.id} (${s.flag} in ${s.environment}: ${s.control} → ${s.treatment}), status ${s.status}`,
    );
  }
  if (isObject(traffic) && typeof traffic.unitsPerDay === 'number')
    parts.push(`assuming ${formatNumber(traffic.unitsPerDay)} new units a day`);
  const header = parts.length > 0 ? `${parts.join(', ')}.\n\n` : '';
  const stages = formatTable(
    ['stage', 'reach', 'duration', 'units/arm (treatment / control)', ...metrics.map((m) => `${m} detects`)],
    forecast.stages.map((st) => [
      String(st.index + 1),
      `${formatNumber(st.reach)}%`,
      formatDuration(st.durationMs),
      `${formatNumber(Math.round(st.expectedUnitsPerArm.treatment))} / ${formatNumber(Math.round(st.expectedUnitsPerArm.control))}`,
      ...metrics.map((m) => {
        const mde = st.mdePerMetric[m];
        if (mde === null || mde === undefined) {
          // Say why a cell is empty: the final stage has no rollback gate of its own; elsewhere a baseline is missing.
          if (st.index === forecast.stages.length - 1) return 'final stage: monitored';
          return baselines !== undefined && !(m in baselines) ? 'no baseline' : NONE;
        }
        return mde.relative !== null
          ? `${formatPercent(mde.relative, true)} (Δ ${formatNumber(mde.absolute)})`
          : `Δ ${formatNumber(mde.absolute)}`;
      }),
    ]),
  );
  const power = Object.entries(forecast.powerPerMetric);
  const powerText =
    power.length === 0
      ? ''
      : `\nPower to show non-inferiority at the margin (no true harm):\n${formatTable(
          ['guardrail', 'power'],
          power.map(([m, p]) => [m, formatPercent(p)]),
        )}Every guardrail passes the final gate: ${formatPercent(forecast.allGuardrailsPass)}\n`;
  const warnings =
    forecast.warnings.length === 0
      ? ''
      : `\nWarnings:\n${forecast.warnings.map((w) => `  - ${w}`).join('\n')}\n`;
  const missing = metrics.some((m) => baselines !== undefined && !(m in baselines))
    ? '\n"no baseline": no data yet and no expectedBaselines for the metric in the plan; state its expected mean to see what each stage can detect.\n'
    : '';
  return `${header}"detects" = the regression the rollback test catches with 80% probability by the end of the stage.\n\n${stages}${missing}${powerText}${warnings}`;
}

/** The create reply's warning when the plan is short of power at its final gate (empty when it is not). */
export function formatGatePowerWarning(reply: { forecast?: unknown }): string {
  const plan = reply.forecast;
  if (!isObject(plan) || !isObject(plan.gatePower)) return '';
  const message = plan.gatePower.message;
  return typeof message === 'string' ? `Warning: ${message}.\n` : '';
}
