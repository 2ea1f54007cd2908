import { describe, expect, it } from 'vitest';
import type { RolloutDecision } from './api.ts';
import { collapseDecisions, decisionActions, decisionLog } from './decision-log.ts';

let next = 0;
function look(minute: number, action: string, rule: string, stage = 0): RolloutDecision {
  next += 1;
  return {
    id: String(next),
    rollout: 'ro',
    at: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
    action,
    rule,
    stage,
    reach: 1,
    evidence: { metrics: [] },
  };
}

describe('collapseDecisions', () => {
  it('folds identical consecutive holds into one entry with count and span, newest first', () => {
    const log = [
      look(0, 'hold', 'min_duration'),
      look(1, 'hold', 'min_duration'),
      look(2, 'hold', 'min_duration'),
      look(3, 'advance', 'all_clear'),
      look(4, 'hold', 'min_duration', 1),
      look(5, 'hold', 'min_units', 1),
      look(6, 'hold', 'min_units', 1),
    ];
    const entries = collapseDecisions(log);
    expect(entries.map((e) => [e.decision.action, e.decision.rule, e.count])).toEqual([
      ['hold', 'min_units', 2],
      ['hold', 'min_duration', 1],
      ['advance', 'all_clear', 1],
      ['hold', 'min_duration', 3],
    ]);
    const oldest = entries[3];
    expect(oldest?.firstAt).toBe('2026-01-01T00:00:00.000Z');
    expect(oldest?.lastAt).toBe('2026-01-01T00:02:00.000Z');
    expect(oldest?.decision.at).toBe(oldest?.lastAt);
  });

  it('never folds a rollback or an advance, and splits holds of different stages', () => {
    const entries = collapseDecisions([
      look(0, 'advance', 'all_clear'),
      look(1, 'advance', 'all_clear'),
      look(2, 'hold', 'min_duration', 0),
      look(3, 'hold', 'min_duration', 1),
    ]);
    expect(entries.map((e) => e.count)).toEqual([1, 1, 1, 1]);
  });

  it('filters by action before folding', () => {
    const log = [look(0, 'hold', 'a'), look(1, 'rollback', 'deterioration'), look(2, 'hold', 'a')];
    expect(decisionActions(log)).toEqual(['rollback', 'hold']);
    expect(decisionLog(log, 'rollback').map((e) => e.decision.action)).toEqual(['rollback']);
    expect(decisionLog(log, 'hold')).toHaveLength(1);
    expect(decisionLog(log, 'all')).toHaveLength(3);
  });
});
