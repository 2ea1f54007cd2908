// The rollout state machine: draft → running ⇄ paused, running → holding → completed, and rollback to 0 from
// any live state with `resume` starting a new attempt. The state is plain JSON: the server stores it as is.

import { createSrmState, type GuardrailState, type SrmState } from '@dimmer/stats';
import { finalStageIndex, type RolloutPlan, stageReach } from './plan.ts';

/**
 * `draft`: not started, the flag is untouched. `running`: stages advancing. `paused`: reach frozen, nothing
 * applied automatically. `holding`: the final stage with a holdback, still monitored. `rolled_back`: reach 0,
 * resumable. `completed`: monitoring ended, treatment served to everyone.
 */
export type RolloutStatus = 'draft' | 'running' | 'paused' | 'holding' | 'rolled_back' | 'completed';
/** The actions of `POST /api/v1/rollouts/{id}/{action}`. */
export type RolloutAction = 'start' | 'advance' | 'pause' | 'resume' | 'rollback' | 'complete';

export const ROLLOUT_ACTIONS: readonly RolloutAction[] = [
  'start',
  'advance',
  'pause',
  'resume',
  'rollback',
  'complete',
];
/** Statuses in which the rollout owns its flag in its environment: a second rollout there is refused. */
export const ACTIVE_STATUSES: readonly RolloutStatus[] = ['running', 'paused', 'holding', 'rolled_back'];
/** Statuses in which `decide` looks at evidence and updates the sequential tests. */
export const MONITORED_STATUSES: readonly RolloutStatus[] = ['running', 'paused', 'holding'];
/** Actor recorded for actions the controller applies from a decision. */
export const CONTROLLER_ACTOR = 'controller';
/** Most entries kept in `history` (older ones are dropped; the server's audit log keeps everything). */
export const MAX_HISTORY = 200;

/** Per-metric monitoring state of one attempt. */
export interface MetricMonitor {
  /** N_max: planned effective units through the last gated stage; null until the first usable look. */
  maxInformation: number | null;
  /**
   * What I_max was forecast from (new units per day, per-unit variance), the units planned through the last
   * gated stage (the tuning N of the displayed intervals), and when.
   */
  maxInformationBasis: {
    unitsPerDay: number;
    unitVariance: number;
    plannedUnits: number;
    at: number;
    /**
     * `effective_units`: N_max on the sample-size scale. Absent in states frozen before information was
     * measured in effective units (1/Var); such a state is re-frozen on the new scale at its next look.
     */
    scale?: 'effective_units';
  } | null;
  /** True once I_max has been re-estimated (allowed once, at the first look after the first stage). */
  reestimated: boolean;
  /** The deterioration and non-inferiority tests (boundary recursion state); null before the first look. */
  test: GuardrailState | null;
}

/** Monitoring state of one attempt: per-metric tests and the sequential SRM test. */
export interface MonitoringState {
  looks: number;
  lastLookAt: number | null;
  metrics: Record<string, MetricMonitor>;
  srm: SrmState;
  /** Per stage index, the cumulative [treatment, control] counts already added to the SRM test. */
  srmCounts: Record<string, [number, number]>;
}

/** One line of the rollout's history: an action (by a person or the controller) or a decision. */
export interface HistoryEntry {
  at: number;
  kind: 'action' | 'decision';
  /** The action taken, or the decision's recommendation. */
  action: RolloutAction | 'hold' | 'advance' | 'rollback' | 'complete';
  rule: string | null;
  actor: string | null;
  attempt: number;
  stageIndex: number;
  reach: number;
}

/** The state of one rollout (plain JSON). Times are epoch milliseconds. */
export interface RolloutState {
  status: RolloutStatus;
  stageIndex: number;
  /** Treatment reach currently served, in percent. */
  reach: number;
  /** 1 for the first run; each resume after a rollback starts the next attempt. 0 while draft. */
  attempt: number;
  /** Start of the current attempt. */
  startedAt: number | null;
  stageStartedAt: number | null;
  /** Where `resume` returns from a pause. */
  pausedFrom: 'running' | 'holding' | null;
  /** Stage the last rollback happened at. */
  rolledBackFromStage: number | null;
  completedAt: number | null;
  updatedAt: number | null;
  monitoring: MonitoringState | null;
  history: HistoryEntry[];
}

/** What an applied action did, for the audit log, the webhook and the history. */
export interface RolloutEvent {
  type: RolloutAction;
  at: number;
  actor: string;
  attempt: number;
  from: { status: RolloutStatus; stageIndex: number; reach: number };
  to: { status: RolloutStatus; stageIndex: number; reach: number };
  /** For actions the controller applied: the decision rule and its reason. */
  rule?: string;
  reason?: string;
}

/** Why an action was refused. */
export interface TransitionError {
  code: 'illegal_transition' | 'invalid_input';
  message: string;
}

export type TransitionResult =
  | { ok: true; state: RolloutState; event: RolloutEvent }
  | { ok: false; error: TransitionError };

/** The state of a rollout that has just been created: draft, reach 0, no attempt yet. */
export function createRolloutState(): RolloutState {
  return {
    status: 'draft',
    stageIndex: 0,
    reach: 0,
    attempt: 0,
    startedAt: null,
    stageStartedAt: null,
    pausedFrom: null,
    rolledBackFromStage: null,
    completedAt: null,
    updatedAt: null,
    monitoring: null,
    history: [],
  };
}

/** Fresh monitoring for a new attempt: no looks, no tests, an empty SRM test. */
export function createMonitoring(plan: RolloutPlan): MonitoringState {
  const metrics: Record<string, MetricMonitor> = {};
  for (const g of plan.guardrails)
    metrics[g.metric] = { maxInformation: null, maxInformationBasis: null, reestimated: false, test: null };
  return { looks: 0, lastLookAt: null, metrics, srm: createSrmState(), srmCounts: {} };
}

/** True while the rollout owns its flag in its environment (running, paused, holding or rolled back). */
export function isRolloutActive(status: RolloutStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** Appends to a history, keeping the newest MAX_HISTORY entries. */
export function appendHistory(history: readonly HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const next = [...history, entry];
  return next.length > MAX_HISTORY ? next.slice(next.length - MAX_HISTORY) : next;
}

function illegal(message: string): TransitionResult {
  return { ok: false, error: { code: 'illegal_transition', message } };
}

/** The transition table; returns the new state's status, stage and bookkeeping, or an error message. */
function target(
  plan: RolloutPlan,
  state: RolloutState,
  action: RolloutAction,
  now: number,
): Partial<RolloutState> | string {
  const s = state.status;
  const last = finalStageIndex(plan);
  switch (action) {
    case 'start':
      if (s !== 'draft') return `start needs a draft rollout; this one is ${s}`;
      return {
        status: 'running',
        stageIndex: 0,
        reach: stageReach(plan, 0),
        attempt: 1,
        startedAt: now,
        stageStartedAt: now,
        monitoring: createMonitoring(plan),
      };
    case 'advance': {
      if (s === 'holding')
        return 'the rollout is already at its final stage (holdback); use complete to end it';
      if (s !== 'running') return `advance needs a running rollout; this one is ${s}`;
      const next = state.stageIndex + 1;
      if (next < last) return { stageIndex: next, reach: stageReach(plan, next), stageStartedAt: now };
      if (plan.holdback > 0)
        return { status: 'holding', stageIndex: last, reach: stageReach(plan, last), stageStartedAt: now };
      return {
        status: 'completed',
        stageIndex: last,
        reach: stageReach(plan, last),
        stageStartedAt: now,
        completedAt: now,
      };
    }
    case 'pause':
      if (s !== 'running' && s !== 'holding')
        return `pause needs a running or holding rollout; this one is ${s}`;
      return { status: 'paused', pausedFrom: s };
    case 'resume':
      if (s === 'paused') return { status: state.pausedFrom ?? 'running', pausedFrom: null };
      if (s === 'rolled_back')
        return {
          status: 'running',
          stageIndex: 0,
          reach: stageReach(plan, 0),
          attempt: state.attempt + 1,
          startedAt: now,
          stageStartedAt: now,
          monitoring: createMonitoring(plan),
        };
      return `resume needs a paused or rolled-back rollout; this one is ${s}`;
    case 'rollback':
      if (s !== 'running' && s !== 'holding' && s !== 'paused')
        return `rollback needs a running, holding or paused rollout; this one is ${s}`;
      return { status: 'rolled_back', reach: 0, pausedFrom: null, rolledBackFromStage: state.stageIndex };
    case 'complete':
      if (s !== 'running' && s !== 'holding')
        return `complete needs a running or holding rollout; this one is ${s}`;
      return { status: 'completed', stageIndex: last, reach: 100, completedAt: now };
  }
}

/** Internal form of `applyAction` that also records the decision rule and reason of controller actions. */
export function transition(input: {
  plan: RolloutPlan;
  state: RolloutState;
  action: RolloutAction;
  now: number;
  actor: string;
  cause?: { rule: string; reason: string };
}): TransitionResult {
  const { plan, state, action, now, actor } = input;
  if (!ROLLOUT_ACTIONS.includes(action))
    return {
      ok: false,
      error: { code: 'invalid_input', message: `unknown action ${JSON.stringify(action)}` },
    };
  if (!Number.isFinite(now))
    return { ok: false, error: { code: 'invalid_input', message: 'now must be epoch milliseconds' } };
  const change = target(plan, state, action, now);
  if (typeof change === 'string') return illegal(change);
  const next: RolloutState = { ...state, ...change, updatedAt: now };
  const event: RolloutEvent = {
    type: action,
    at: now,
    actor,
    attempt: next.attempt,
    from: { status: state.status, stageIndex: state.stageIndex, reach: state.reach },
    to: { status: next.status, stageIndex: next.stageIndex, reach: next.reach },
    ...(input.cause ?? {}),
  };
  next.history = appendHistory(state.history, {
    at: now,
    kind: 'action',
    action,
    rule: input.cause?.rule ?? null,
    actor,
    attempt: next.attempt,
    stageIndex: next.stageIndex,
    reach: next.reach,
  });
  return { ok: true, state: next, event };
}

/**
 * Applies a person's (or the controller's) action at time `now` (epoch ms): start, advance, pause, resume,
 * rollback or complete. Returns the new state and an event for the audit log, or an error naming why the
 * action is not allowed in the current status. It checks legality only; the statistics are `decide`'s.
 */
export function applyAction(
  plan: RolloutPlan,
  state: RolloutState,
  action: RolloutAction,
  now: number,
  actor: string,
): TransitionResult {
  return transition({ plan, state, action, now, actor });
}
