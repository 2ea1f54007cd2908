/**
 * What an experiment's page says: the state and the recommendation in words with the reason and the next step,
 * one result row per metric and treatment variant (the rollout page's conventions: both values, the difference
 * and the relative lift with the interval of the deciding test on the log-ratio scale, the verdict, the
 * information so far), the sample-ratio check, and how far the planned sample is. Pure, no DOM.
 */
import type { ExperimentResults, ExperimentView } from '@dimmer/api';
import { formatClock, formatCount, formatDurationMs, formatFraction, formatInformation } from './format.ts';
import {
  type Banner,
  decidingTest,
  describeActor,
  type ResultRow,
  type RowVerdict,
  summaryCells,
  unassessedText,
} from './verdict.ts';

type MetricResult = ExperimentResults['metrics'][string][string];
type HistoryEntry = ExperimentView['history'][number];

const DAY_MS = 86_400_000;
/** The traffic of a shorter run says nothing about a day's (the first minutes of a test are a burst). */
const MIN_RATE_WINDOW_MS = 3_600_000;
/** Variant weights are whole percents of the covered units summing to this. */
const WEIGHT_TOTAL = 100;

/** Equal whole-percent weights summing to 100, the first ones taking the remainder (34/33/33). */
export function equalWeights(count: number): number[] {
  if (count <= 0) return [];
  const base = Math.floor(WEIGHT_TOTAL / count);
  const extra = WEIGHT_TOTAL - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The row verdict of the engine's verdict (`non_inferior` → "non-inferior", `inconclusive` → "no verdict yet"). */
export function experimentVerdict(look: MetricResult): RowVerdict {
  if (look.status !== 'assessed' || look.summary === null) return 'no data';
  switch (look.verdict) {
    case 'better':
      return 'better';
    case 'worse':
      return 'worse';
    case 'non_inferior':
      return 'non-inferior';
    case 'no_data':
      return 'no data';
    default:
      return 'no verdict yet';
  }
}

/**
 * The results table of a look: success metrics first (in plan order), then guardrails, each with one row per
 * treatment variant against control.
 */
export function experimentRows(experiment: ExperimentView, results: ExperimentResults | null): ResultRow[] {
  if (results === null) return [];
  const order = [
    ...experiment.successMetrics.map((m) => m.metric),
    ...experiment.guardrails.map((g) => g.metric),
  ];
  for (const key of Object.keys(results.metrics)) if (!order.includes(key)) order.push(key);
  const required = new Set(experiment.guardrails.filter((g) => g.required).map((g) => g.metric));
  const rows: ResultRow[] = [];
  for (const metric of order) {
    for (const look of Object.values(results.metrics[metric] ?? {})) {
      const { multiplier, test } = decidingTest(look);
      rows.push({
        metric,
        required: required.has(metric),
        variant: look.variant,
        role: look.role,
        ...summaryCells(look.summary, look.kind, multiplier),
        test:
          look.status === 'assessed'
            ? `${test}${look.role === 'success' && look.mde !== null ? `; MDE ${formatFraction(look.mde)}` : ''}`
            : unassessedText(look.status),
        verdict: experimentVerdict(look),
        information: formatInformation(look.summary?.informationFraction ?? null),
      });
    }
  }
  return rows;
}

/** The sample-ratio check in words, with its tone. */
export function srmStatus(results: ExperimentResults | null): {
  tone: Banner['tone'];
  label: 'not yet' | 'sound' | 'mismatch';
  text: string;
} {
  const srm = results?.srm ?? null;
  const units = Object.values(results?.units ?? {}).reduce((sum, n) => sum + n, 0);
  if (srm === null || units === 0)
    return { tone: 'neutral', label: 'not yet', text: 'Not checked yet: no units have been assigned.' };
  const p = srm.pValue.toPrecision(2);
  if (srm.mismatch)
    return {
      tone: 'bad',
      label: 'mismatch',
      text: `Sample-ratio mismatch: the units per variant do not match the weights (p = ${p} < ${srm.threshold}). Check that every variant's exposures are logged before trusting any result.`,
    };
  return {
    tone: 'good',
    label: 'sound',
    text: `The split matches the weights (sequential test p = ${p}; a mismatch needs p < ${srm.threshold}).`,
  };
}

function lastAction(
  history: readonly HistoryEntry[],
  action: HistoryEntry['action'],
): HistoryEntry | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (h !== undefined && h.kind === 'action' && h.action === action) return h;
  }
  return undefined;
}

function byWhom(entry: HistoryEntry | undefined): string {
  return entry === undefined ? '' : ` by ${describeActor(entry.actor)} at ${formatClock(entry.at)}`;
}

/** "purchase 19.6% vs 10.3%, +91.3% (+66.4% to +120%)": a row's values and lift as the results table shows them. */
function rowEvidence(row: ResultRow): string {
  return `${row.metric} ${row.treatment} vs ${row.control}, ${row.relative}`;
}

/** Why ship: the winner's better success metrics and its guardrails, in the results table's numbers. */
function shipReason(experiment: ExperimentView, results: ExperimentResults): string {
  const rows = experimentRows(experiment, results).filter((r) => r.variant === results.winner);
  const better = rows.filter((r) => r.verdict === 'better').map(rowEvidence);
  const guards = rows.filter((r) => r.role === 'guardrail').map(rowEvidence);
  return [
    `“${results.winner ?? '?'}” is significantly better on ${better.join('; ') || 'a success metric'}.`,
    guards.length > 0
      ? `Every guardrail is within its margin: ${guards.join('; ')}.`
      : 'There are no guardrails.',
    'No metric got worse and the split matches the weights.',
  ].join(' ');
}

/** Why abort: each metric a variant made worse, or the broken split. */
function abortReason(experiment: ExperimentView, results: ExperimentResults): string {
  const worse = experimentRows(experiment, results).filter((r) => r.verdict === 'worse');
  if (worse.length > 0)
    return worse
      .map((r) => `${r.metric} got worse for “${r.variant}”: ${r.treatment} vs ${r.control}, ${r.relative}.`)
      .join(' ');
  return results.reason;
}

/** What to do next while running, per rule of the recommendation. */
const NEXT_WHILE_RUNNING: Readonly<Record<string, string>> = {
  min_units:
    'Wait: the sample size is planned once every arm has its minimum units. Growing the coverage gets there sooner.',
  missing_data: 'Check that the success metric’s events are sent from every variant.',
  min_duration:
    'Wait for the minimum duration: a full week sees every weekday. Nothing else is needed from you.',
  guardrails_pending:
    'Keep it running: shipping also needs every guardrail shown within its margin. More units (coverage) get there sooner.',
  superiority_pending: 'Keep it running until the planned sample; growing the coverage gets there sooner.',
  srm: 'Find why one variant logs fewer exposures than its weight (a crash, a redirect, a cache) before deciding anything.',
  invalid_evidence: 'Check the metric’s events (values and units) before the experiment can look again.',
};

/** The banner of an experiment: state and recommendation in words, who acted, why, and the next step. */
export function experimentBanner(experiment: ExperimentView, results: ExperimentResults | null): Banner {
  const { history } = experiment;
  switch (experiment.status) {
    case 'draft':
      return {
        tone: 'neutral',
        headline: `Draft: not started. Nobody is in the experiment yet; at start ${formatFraction(experiment.plannedCoverage / 100)} of units are split ${experiment.variants.map((v) => `${v.variant} ${v.weight}%`).join(' / ')}.`,
        next: 'Check the variants, the metrics and the sample plan below, then Start.',
      };
    case 'shipped': {
      const ship = lastAction(history, 'ship');
      return {
        tone: 'good',
        headline: `Shipped “${experiment.shippedVariant ?? '?'}”${byWhom(ship)}${experiment.rollout !== null ? `: rollout ${experiment.rollout} now takes it to everyone, starting with the units that already had it` : ''}.`,
        next:
          experiment.rollout !== null
            ? 'Follow the rollout: it advances stage by stage while its guardrails hold.'
            : 'Nothing to do here.',
      };
    }
    case 'stopped': {
      const stop = lastAction(history, 'stop');
      return {
        tone: 'neutral',
        headline: `Stopped${byWhom(stop)} without a winner. The flag serves what it served before the experiment (“${experiment.control}” by default).`,
        next: 'Nothing to do. Clean up the losing variants’ code when you are sure.',
      };
    }
    case 'aborted': {
      const abort = lastAction(history, 'abort');
      const why =
        results !== null && results.recommendation === 'abort'
          ? ` Reason at the last look: ${results.reason}`
          : '';
      return {
        tone: 'bad',
        headline: `Aborted${byWhom(abort)}. The experiment’s rule is removed: every unit gets what the flag served before.${why}`,
        next: 'Find and fix the harm before testing this change again.',
      };
    }
    default: {
      const since = experiment.startedAt !== null ? ` since ${formatClock(experiment.startedAt)}` : '';
      const head = `Running at ${formatFraction(experiment.coverage / 100)} coverage${since}`;
      if (results === null)
        return {
          tone: 'info',
          headline: `${head}. No results yet.`,
          next: 'Wait for the first look: the server records one on the controller’s interval.',
        };
      switch (results.recommendation) {
        case 'ship':
          return {
            tone: 'good',
            headline: `${head}. Recommendation: ship “${results.winner ?? '?'}”.`,
            reason: shipReason(experiment, results),
            note: results.reason,
            next: `Ship “${results.winner ?? '?'}”: the experiment ends and a guarded rollout of it starts on the same units.`,
          };
        case 'abort':
          return {
            tone: 'bad',
            headline: `${head}. Recommendation: abort.`,
            reason: abortReason(experiment, results),
            note: results.reason,
            next: 'Abort the experiment: its rule is removed and everyone gets what the flag served before.',
          };
        case 'stop':
          return {
            tone: 'warn',
            headline: `${head}. Recommendation: stop, no winner.`,
            reason: results.reason,
            next: `Stop the experiment and keep “${experiment.control}”.`,
          };
        default:
          return {
            tone: results.rule === 'srm' ? 'bad' : 'info',
            headline: `${head}. Recommendation: continue.`,
            reason: results.reason,
            next: NEXT_WHILE_RUNNING[results.rule] ?? 'Keep it running.',
          };
      }
    }
  }
}

/** How far a running experiment is toward its planned sample, and when it gets there at the observed rate. */
export interface SampleProgress {
  /** Units in the experiment so far (all variants). */
  units: number;
  /** Planned units (all variants), once frozen. */
  planned: number | null;
  /** New units a day observed since the start (null in the first hour). */
  unitsPerDay: number | null;
  /** Time left until the planned sample at the observed rate (null when unknown). */
  remainingMs: number | null;
  /** One sentence. */
  text: string;
}

/** Progress toward the planned sample at the traffic observed since the start (pure; `now` in ms). */
export function sampleProgress(
  experiment: ExperimentView,
  results: ExperimentResults | null,
  now: number,
): SampleProgress {
  const units = Object.values(results?.units ?? {}).reduce((sum, n) => sum + n, 0);
  const planned = results?.plannedUnits ?? null;
  const started = experiment.startedAt === null ? Number.NaN : Date.parse(experiment.startedAt);
  const elapsed = now - started;
  const unitsPerDay =
    Number.isFinite(elapsed) && elapsed >= MIN_RATE_WINDOW_MS && units > 0
      ? (units * DAY_MS) / elapsed
      : null;
  const remainingMs =
    planned !== null && unitsPerDay !== null && unitsPerDay > 0
      ? (Math.max(0, planned - units) / unitsPerDay) * DAY_MS
      : null;
  let text: string;
  if (experiment.status !== 'running')
    text = `${formatCount(units)} units took part${planned !== null ? ` of ${formatCount(planned)} planned` : ''}.`;
  else if (planned === null)
    text = `${formatCount(units)} units so far; the sample size is planned once every arm has its minimum units and a success metric has data.`;
  else if (units >= planned)
    text = `${formatCount(units)} of ${formatCount(planned)} planned units: the planned sample is reached.`;
  else
    text = `${formatCount(units)} of ${formatCount(planned)} planned units${
      remainingMs !== null && unitsPerDay !== null
        ? `; at the observed ${formatCount(unitsPerDay)} new units a day, about ${formatDurationMs(remainingMs)} to go`
        : '; the time to go is estimated after the first hour'
    }.`;
  return { units, planned, unitsPerDay, remainingMs, text };
}
