/**
 * The decision log as a person reads it: changes, not repetitions. Consecutive looks with the same action,
 * rule, stage and attempt collapse into one entry with a count and a time span (pure, no DOM).
 */
import type { DecisionView } from '@dimmer/api';
import type { RolloutDecision } from './api.ts';

/** One line of the log: the newest decision of a run of identical ones, with the run's size and span. */
export interface DecisionLogEntry<T extends RolloutDecision = RolloutDecision> {
  /** The newest decision of the run (its evidence is the one shown). */
  decision: T;
  count: number;
  /** Time of the oldest and the newest decision of the run (ISO). */
  firstAt: string;
  lastAt: string;
}

/** A decision of the log: the charts' view, with the stored decision's attempt and applied flag when known. */
type LoggedDecision = RolloutDecision &
  Partial<Pick<DecisionView, 'attempt' | 'applied' | 'count' | 'firstAt' | 'lastAt'>>;

/** Fields that must match for two looks to be "the same" decision. */
function sameLook(a: LoggedDecision, b: LoggedDecision): boolean {
  return (
    a.action === b.action &&
    a.rule === b.rule &&
    a.stage === b.stage &&
    a.attempt === b.attempt &&
    a.applied === b.applied
  );
}

/**
 * Collapses runs of identical consecutive holds into one entry each, newest first. Only holds collapse:
 * an advance or a rollback is always its own entry.
 */
export function collapseDecisions<T extends LoggedDecision>(decisions: readonly T[]): DecisionLogEntry<T>[] {
  const newestFirst = [...decisions].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const out: DecisionLogEntry<T>[] = [];
  for (const d of newestFirst) {
    const last = out[out.length - 1];
    // The server stores a run of identical looks as one entry with its count and span; older servers sent
    // one entry per look, folded here the same way.
    if (last !== undefined && d.action === 'hold' && sameLook(last.decision, d)) {
      last.count += d.count ?? 1;
      last.firstAt = d.firstAt ?? d.at;
      continue;
    }
    out.push({ decision: d, count: d.count ?? 1, firstAt: d.firstAt ?? d.at, lastAt: d.lastAt ?? d.at });
  }
  return out;
}

/** The actions present in a log, in a stable order, for the filter. */
export function decisionActions(decisions: readonly RolloutDecision[]): string[] {
  const order = ['rollback', 'advance', 'complete', 'hold'];
  const seen = new Set(decisions.map((d) => d.action));
  return [...order.filter((a) => seen.has(a)), ...[...seen].filter((a) => !order.includes(a)).sort()];
}

/** The log filtered to one action ("all" keeps everything), then collapsed. */
export function decisionLog<T extends LoggedDecision>(
  decisions: readonly T[],
  action: string,
): DecisionLogEntry<T>[] {
  return collapseDecisions(action === 'all' ? decisions : decisions.filter((d) => d.action === action));
}
