/**
 * What a rollout's page says first: the state in words with who acted and why, the next step, and one result
 * row per guardrail (control, treatment, difference with the interval of the deciding test, verdict,
 * information). Pure, no DOM.
 */
import type {
  DecisionMetricLook,
  GuardrailLookSummary,
  HistoryEntry,
  RelativeChange,
  RolloutView,
} from '@dimmer/api';
import type { DecisionDetail } from './api-admin.ts';
import { percentileName } from './chart-data.ts';
import {
  formatClock,
  formatDifference,
  formatFraction,
  formatInformation,
  formatMetricValue,
} from './format.ts';
import { logRatioInterval } from './log-ratio.ts';

/** The actor name the controller records. */
export const CONTROLLER = 'controller';

export type BannerTone = 'good' | 'bad' | 'warn' | 'info' | 'neutral';

/** The banner at the top of a rollout. */
export interface Banner {
  tone: BannerTone;
  /** One sentence: state, who or what acted, when, and why. */
  headline: string;
  /** Why, when it takes more than the headline: the evidence in the dashboard's own numbers. */
  reason?: string;
  /** The server's own sentence behind the verdict, for the curious. */
  note?: string;
  /** What to do next. */
  next: string;
  /** Who or what acted last and when ("Last action: rollback by token:ci at 13:09:32"). */
  lastAction?: string;
  /** True when the rollout is in alarm: it cannot decide, and the banner says why first. */
  alarm?: boolean;
}

/** What to do about each alarm cause. */
const ALARM_NEXT: Readonly<Record<string, string>> = {
  flag_disabled: 'enable the flag in this environment, or roll the rollout back',
  flag_archived: 'restore the flag, or roll the rollout back',
  no_exposures: 'check that the flag is evaluated with this environment’s key and that exposures are sent',
  missing_metric: 'check that the required metric’s events are sent from both arms',
  invalid_evidence: 'check the metric’s events (values and units) before the rollout can look again',
};

/** The banner of a rollout in alarm: every cause in words, and what to do about each. */
export function alarmBanner(rollout: RolloutView): Banner | null {
  const reasons = rollout.alarm?.reasons ?? [];
  if (reasons.length === 0) return null;
  return {
    tone: 'bad',
    alarm: true,
    headline: `Alarm: rollout ${rollout.id} cannot decide. ${reasons.map((r) => r.message).join(' ')}`,
    next: `${[...new Set(reasons.map((r) => ALARM_NEXT[r.cause] ?? 'look at the cause above'))].join('; ')}.`.replace(
      /^./,
      (c) => c.toUpperCase(),
    ),
  };
}

/** "the controller", a person's token name, or "a person" when the server names nobody. */
export function describeActor(actor: string | null | undefined): string {
  if (actor === CONTROLLER) return 'the controller';
  if (actor === null || actor === undefined || actor === '') return 'a person';
  return actor;
}

function historyEntryOf(last: NonNullable<RolloutView['lastAction']>, attempt: number): HistoryEntry {
  return {
    at: last.at,
    kind: 'action',
    action: last.action,
    rule: last.rule,
    actor: last.actor,
    attempt,
    stageIndex: last.stage,
    reach: last.reach,
  };
}

function lastAction(history: readonly HistoryEntry[], action: string): HistoryEntry | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (h !== undefined && h.kind === 'action' && h.action === action) return h;
  }
  return undefined;
}

/** "Last action: rollback by token:ci at 13:09:32 — <the controller's reason>", or null before any action. */
export function lastActionText(rollout: RolloutView): string | null {
  const last = rollout.lastAction;
  if (last === null || last === undefined) return null;
  const who = last.by === 'controller' ? 'the controller' : describeActor(last.actor);
  return `Last action: ${last.action} by ${who} at ${formatClock(last.at)}${last.reason ? ` — ${last.reason}` : ''}`;
}

/** The look that fired a rollback: harm detected, or the canary guard triggered. */
export function firingLook(decision: DecisionDetail): DecisionMetricLook | undefined {
  return (
    decision.looks.find((l) => l.summary?.verdict === 'harm_detected' && l.summary.deterioration.rejected) ??
    decision.looks.find((l) => l.canary?.triggered === true) ??
    decision.looks.find((l) => l.summary?.verdict === 'harm_detected')
  );
}

/**
 * "crash_rate rose from 2.1% to 15.3%" for a look with both arm means; for a quantile guardrail both arms'
 * quantiles ("request_p99 rose from p99 251.4 to p99 749.9").
 */
export function describeChange(look: DecisionMetricLook): string {
  if (look.summary === null) return `${look.metric} got worse`;
  const q = look.quantile ?? null;
  const c = q ? q.control : look.summary.meanControl;
  const t = q ? q.treatment : look.summary.meanTreatment;
  const value = (x: number) =>
    q ? `${percentileName(q.q)} ${formatMetricValue(x, 'mean')}` : formatMetricValue(x, look.kind);
  const verb = t > c ? 'rose' : t < c ? 'fell' : 'stayed';
  return `${look.metric} ${verb} from ${value(c)} to ${value(t)}`;
}

function stageText(rollout: RolloutView, index: number): string {
  const reach = rollout.stages[index]?.reach;
  return `stage ${index + 1} of ${rollout.stages.length}${reach !== undefined ? ` (${reach}%)` : ''}`;
}

/**
 * The banner: the state in words with the actor (the history's actor for an action, "the controller" for an
 * applied decision, else "a person"), the cause of a rollback with both arms' values, and the next step.
 * `decisions` are newest first.
 */
export function rolloutBanner(rollout: RolloutView, decisions: readonly DecisionDetail[]): Banner {
  const alarm = alarmBanner(rollout);
  if (alarm !== null) return alarm;
  const state = rollout.state;
  const latest = decisions[0];
  const manual = rollout.mode === 'manual';
  const rec = rollout.recommendation;
  const recText =
    rec !== null
      ? `The controller recommends “${rec.action}”${rec.toStage !== null ? ` to ${stageText(rollout, rec.toStage)}` : ''}: review its evidence below and apply it, or act yourself.`
      : null;
  switch (state) {
    case 'rolled_back': {
      // The server's last action names who rolled back even when the history was trimmed.
      const latestAction = rollout.lastAction?.action === 'rollback' ? rollout.lastAction : null;
      const action =
        latestAction !== null
          ? historyEntryOf(latestAction, rollout.attempt)
          : lastAction(rollout.history, 'rollback');
      const fired = decisions.find((d) => d.action === 'rollback' && d.applied);
      const byController =
        action?.actor === CONTROLLER ||
        (action?.actor == null && fired !== undefined && action?.rule != null);
      const who = byController ? 'the controller' : describeActor(action?.actor);
      const at = action?.at ?? fired?.at ?? rollout.updatedAt;
      let why = '';
      const cause = (d: DecisionDetail) => {
        const look = firingLook(d);
        if (look !== undefined) return `because ${describeChange(look)}`;
        if (d.rule === 'srm')
          return 'because the traffic split did not match the plan (sample-ratio mismatch)';
        return `(${d.rule})`;
      };
      if (byController && fired !== undefined) why = ` ${cause(fired)}`;
      else if (!byController) {
        // A person who followed the controller's recommendation: say so, with the evidence's cause.
        const followed = decisions.find(
          (d) =>
            d.action === 'rollback' &&
            d.applied === false &&
            (action === undefined || Date.parse(d.at) <= Date.parse(action.at)) &&
            (action === undefined || d.attempt === action.attempt),
        );
        why =
          followed !== undefined
            ? `, following the controller's recommendation ${cause(followed)}`
            : ' by hand; no guardrail had fired';
      }
      return {
        tone: 'bad',
        headline: `Rolled back by ${who} at ${formatClock(at)}${why}. Every unit is served “${rollout.control}”.`,
        next: 'Find and fix the cause, then Resume: the rollout starts a new attempt and the same units return at the stage it stopped.',
      };
    }
    case 'draft':
      return {
        tone: 'neutral',
        headline: 'Draft: not started. Nobody is served the change yet.',
        next: 'Check the stages and the forecast below, then Start.',
      };
    case 'completed': {
      const action = lastAction(rollout.history, 'complete');
      return {
        tone: 'good',
        headline: `Completed${action ? ` by ${describeActor(action.actor)} at ${formatClock(action.at)}` : ''}: “${rollout.treatment}” is served to everyone the plan covers.`,
        next: 'Nothing to do. Clean up the flag when the old code path is removed.',
      };
    }
    case 'paused': {
      const action = lastAction(rollout.history, 'pause');
      return {
        tone: 'warn',
        headline: `Paused${action ? ` by ${describeActor(action.actor)} at ${formatClock(action.at)}` : ''} at ${stageText(rollout, rollout.stage)}; reach stays where it is.`,
        next: recText ?? 'Resume to let the controller act again, or Roll back.',
      };
    }
    case 'holding':
      return {
        tone: 'info',
        headline: `Holding at ${100 - rollout.holdback}% with a ${rollout.holdback}% holdback on “${rollout.control}” for long-term measurement.`,
        next:
          recText ??
          'The controller completes the rollout when the holdback period has passed; Roll back if anything looks wrong.',
      };
    default: {
      const since = rollout.stageStartedAt ? ` since ${formatClock(rollout.stageStartedAt)}` : '';
      let last = ' No look yet.';
      if (latest !== undefined) {
        const look = latest.action === 'rollback' ? firingLook(latest) : undefined;
        const what =
          look !== undefined
            ? `harm detected: ${describeChange(look)}`
            : latest.action === 'advance'
              ? 'every guardrail clear'
              : (latest.message ?? latest.rule);
        last = ` Latest look (${formatClock(latest.at)}): ${what}.`.replace('..', '.');
      }
      return {
        tone: latest?.action === 'rollback' ? 'bad' : 'info',
        headline: `Running at ${stageText(rollout, rollout.stage)}${since} in ${manual ? 'manual' : 'automatic'} mode.${last}`,
        next:
          recText ??
          (manual
            ? 'The controller recommends; you act. Nothing is recommended right now.'
            : 'The controller advances when the stage minimums are met with no harm, and rolls back on harm.'),
      };
    }
  }
}

/** A verdict of a results row: a rollout's guardrail, or an experiment's metric for one variant. */
export type RowVerdict = 'harm' | 'worse' | 'better' | 'non-inferior' | 'no verdict yet' | 'no data';

/** One row of the results table. */
export interface ResultRow {
  metric: string;
  required: boolean;
  /** Experiments: the treatment variant compared with control, and the metric's role. */
  variant?: string;
  role?: 'success' | 'guardrail';
  control: string;
  treatment: string;
  /** Absolute difference treatment − control ("+13.1 pp"). */
  difference: string;
  /** Relative change with the deciding test's interval ("+697% (+532% to +904%)"), log-ratio scale. */
  relative: string;
  /** Which test the interval belongs to and what it was compared with. */
  test: string;
  verdict: RowVerdict;
  information: string;
}

/** What the deciding test reads of a look: the summary, the metric's kind and relative margin, and its role. */
export interface TestedLook {
  summary: GuardrailLookSummary | null;
  kind: string;
  /** Relative non-inferiority margin (null for an experiment's success metric). */
  margin: number | null;
  /** An experiment's success metric is decided by the superiority test (non-inferiority at a zero margin). */
  role?: 'success' | 'guardrail';
}

const fmtZ = (z: number | null) => (z === null ? 'unknown' : Number(z.toFixed(2)).toString());

/** The z multiplier and name of the test that decided (or would decide) a look; none without a summary. */
export function decidingTest(look: TestedLook): { multiplier: number | null; test: string } {
  const s = look.summary;
  if (s === null) return { multiplier: null, test: '' };
  const det = s.deterioration;
  const ni = s.nonInferiority;
  const success = look.role === 'success';
  if (s.verdict === 'harm_detected' && det.boundary !== null)
    return {
      multiplier: det.boundary,
      test: `rollback test: z ${fmtZ(det.z)} crossed boundary ${fmtZ(det.boundary)}`,
    };
  if (s.verdict === 'non_inferior' && ni !== null && ni.boundary !== null)
    return {
      multiplier: ni.boundary,
      test: success
        ? `superiority test: z ${fmtZ(ni.z)} ≥ ${fmtZ(ni.boundary)}, significantly better`
        : `non-inferiority test: within the ${look.margin === null ? '' : `${formatFraction(look.margin)} `}margin (${formatDifference(ni.margin, look.kind)}), z ${fmtZ(ni.z)} ≥ ${fmtZ(ni.boundary)}`,
    };
  const [low, high] = s.interval;
  const cs = low !== null && high !== null && s.se !== null && s.se > 0 ? (high - low) / 2 / s.se : null;
  if (s.verdict === 'non_inferior')
    // Passed at an earlier look: a look with no new information has no boundary of its own.
    return {
      multiplier: cs,
      test: `${success ? 'superiority' : 'non-inferiority'} test passed at an earlier look; always-valid 95% interval`,
    };
  const parts = [
    'always-valid 95% interval',
    ...(success && ni !== null
      ? [`better at z ≥ ${ni.boundary === null ? '∞ (too early)' : fmtZ(ni.boundary)}, now ${fmtZ(ni.z)}`]
      : []),
    `rollback at z ≥ ${det.boundary === null ? '∞ (too early)' : fmtZ(det.boundary)}, now ${fmtZ(det.z)}`,
    ...(look.margin !== null && !success ? [`margin ${formatFraction(look.margin)}`] : []),
  ];
  return { multiplier: cs, test: parts.join('; ') };
}

/**
 * The value columns of a row: both arms, the difference and the relative change, each interval at the deciding
 * test's multiplier (relative changes on the log-ratio scale, so they never pass −100%).
 */
export function summaryCells(
  s: GuardrailLookSummary | null,
  kind: string,
  multiplier: number | null,
  change?: RelativeChange | null,
): Pick<ResultRow, 'control' | 'treatment' | 'difference' | 'relative'> {
  // A rollout's look carries the server's interval (`relativeChange`, computed by @dimmer/stats and shown the
  // same by the CLI and the demo); an experiment's look is computed here with the same formula.
  const rel =
    change != null && change.lift !== null && change.lower !== null && change.upper !== null
      ? { lift: change.lift, lower: change.lower, upper: change.upper }
      : multiplier !== null && s !== null && s.relativeLiftSe !== null
        ? logRatioInterval({
            meanTreatment: s.meanTreatment,
            meanControl: s.meanControl,
            relativeLiftSe: s.relativeLiftSe,
            multiplier,
          })
        : null;
  const absInterval =
    multiplier !== null && s !== null && s.se !== null
      ? ` (${formatDifference(s.delta - multiplier * s.se, kind)} to ${formatDifference(s.delta + multiplier * s.se, kind)})`
      : '';
  return {
    control: formatMetricValue(s?.meanControl ?? null, kind),
    treatment: formatMetricValue(s?.meanTreatment ?? null, kind),
    difference: `${formatDifference(s?.delta ?? null, kind)}${absInterval}`,
    relative:
      rel !== null
        ? `${formatFraction(rel.lift, { signed: true })} (${formatFraction(rel.lower, { signed: true })} to ${formatFraction(rel.upper, { signed: true })})`
        : s !== null && s.relativeLift !== null
          ? formatFraction(s.relativeLift, { signed: true })
          : '—',
  };
}

/** The test column of a look the engine did not assess. */
export function unassessedText(status: string): string {
  if (status === 'no_data') return 'no events yet';
  if (status === 'waiting_for_plan') return 'waiting for the sample plan (every arm needs its minimum units)';
  return 'not enough units yet';
}

/** The row's verdict: a look the engine did not assess has no data, whatever its summary says. */
function rowVerdict(look: DecisionMetricLook): RowVerdict {
  if (look.status !== 'assessed' || look.summary === null) return 'no data';
  if (look.summary.verdict === 'harm_detected') return 'harm';
  if (look.summary.verdict === 'non_inferior') return 'non-inferior';
  return 'no verdict yet';
}

/** The results table of a decision: one row per guardrail. */
export function resultRows(decision: DecisionDetail | undefined): ResultRow[] {
  if (decision === undefined) return [];
  return decision.looks.map((look) => {
    const s = look.summary;
    const { multiplier, test } = decidingTest(look);
    const q = look.quantile ?? null;
    const cells = summaryCells(s, look.kind, multiplier, look.relativeChange);
    return {
      metric: look.metric,
      required: look.required,
      ...cells,
      // A quantile metric shows each arm's quantile in metric units (its summary is on the relative scale).
      ...(q
        ? {
            control: `${percentileName(q.q)} ${formatMetricValue(q.control, 'mean')}`,
            treatment: `${percentileName(q.q)} ${formatMetricValue(q.treatment, 'mean')}`,
            difference: formatDifference(q.treatment - q.control, 'mean'),
          }
        : {}),
      test: look.status === 'assessed' ? test : unassessedText(look.status),
      verdict: rowVerdict(look),
      information: formatInformation(s?.informationFraction ?? null),
    };
  });
}

/** The recommendation in plain words: what the controller would do and the reason a person can check. */
export function describeRecommendation(
  rollout: RolloutView,
  decision: DecisionDetail | undefined,
  action: string,
  toStage: number | null,
): string {
  if (action === 'rollback') {
    const look = decision !== undefined ? firingLook(decision) : undefined;
    return look !== undefined
      ? `The controller would roll back: ${describeChange(look)}.`
      : 'The controller would roll back.';
  }
  if (action === 'advance')
    return `The controller would advance${toStage !== null ? ` to ${stageText(rollout, toStage)}` : ''}: the stage minimums are met and no guardrail shows harm.`;
  if (action === 'complete')
    return 'The controller would complete the rollout: the holdback period has passed with no harm.';
  return `The controller recommends “${action}”.`;
}
