// The experiment state machine: draft → running → stopped | shipped | aborted. While running, coverage may grow
// (each change opens a coverage epoch, the experiment's assignment cohort) and never shrinks; the weights are in
// the plan and fixed once started. The state is plain JSON: the server stores it as is.

import { reachToBuckets } from '@dimmer/core';
import { createSrmState, type GuardrailState, type SrmState } from '@dimmer/stats';
import { checkCoverage, type ExperimentPlan } from './experiment-plan.ts';
import { Issues } from './issues.ts';
import { MAX_HISTORY } from './state.ts';

/**
 * `draft`: not started, the flag is untouched. `running`: units assigned and analysed. `stopped`: ended without
 * shipping (inconclusive, or a person's call). `shipped`: a treatment variant won and is kept (see
 * `shipRolloutPlan`). `aborted`: ended because of harm or a broken split.
 */
export type ExperimentStatus = 'draft' | 'running' | 'stopped' | 'shipped' | 'aborted';
/** Actions a person (or, in automatic mode, the controller) applies. */
export type ExperimentActionName = 'start' | 'set_coverage' | 'ship' | 'stop' | 'abort';

export const EXPERIMENT_ACTIONS: readonly ExperimentActionName[] = [
  'start',
  'set_coverage',
  'ship',
  'stop',
  'abort',
];
/** Statuses that have ended: nothing is assigned or decided any more. */
export const ENDED_EXPERIMENT_STATUSES: readonly ExperimentStatus[] = ['stopped', 'shipped', 'aborted'];

/** A request to change an experiment's state at time `now` (epoch ms) by `actor`. */
export type ExperimentRequest = { now: number; actor: string; reason?: string } & (
  | { action: 'start' | 'stop' | 'abort' }
  /** New coverage in percent: at least the current one. */
  | { action: 'set_coverage'; coverage: number }
  /** The treatment variant to keep. */
  | { action: 'ship'; variant: string }
);

/** A period of constant coverage: units first assigned in it form one cohort with its own expected split. */
export interface CoverageEpoch {
  coverage: number;
  startedAt: number;
}

/** Sequential tests of one metric for one treatment variant against control. */
export interface ExperimentMonitor {
  /** I_max of this comparison: the information at the planned sample; null until planned. */
  maxInformation: number | null;
  /** Deterioration test plus non-inferiority (guardrail) or superiority (success metric) test. */
  test: GuardrailState | null;
}

/** Monitoring state of a running experiment. */
export interface ExperimentMonitoring {
  looks: number;
  lastLookAt: number | null;
  /**
   * The planned sample: covered units (all arms) the experiment needs, frozen at the first look at which every
   * arm holds `minUnitsPerArm` units and every success metric has data; null before.
   */
  plannedUnits: number | null;
  /** Per metric key, per treatment variant. */
  metrics: Record<string, Record<string, ExperimentMonitor>>;
  srm: SrmState;
  /** Per epoch index, the cumulative per-variant counts (plan order) already added to the SRM test. */
  srmCounts: Record<string, number[]>;
}

/** One line of the experiment's history: an action, or a decision that changed recommendation. */
export interface ExperimentHistoryEntry {
  at: number;
  kind: 'action' | 'decision';
  action: ExperimentActionName | 'continue';
  rule: string | null;
  actor: string | null;
  coverage: number;
}

/** The state of one experiment (plain JSON). Times are epoch milliseconds. */
export interface ExperimentState {
  status: ExperimentStatus;
  /** Coverage served now, in percent (0 while draft). */
  coverage: number;
  epochs: CoverageEpoch[];
  startedAt: number | null;
  endedAt: number | null;
  /** The variant kept by `ship`. */
  shippedVariant: string | null;
  updatedAt: number | null;
  monitoring: ExperimentMonitoring | null;
  history: ExperimentHistoryEntry[];
}

/** What an applied action did, for the audit log, the webhook and the history. */
export interface ExperimentEvent {
  type: ExperimentActionName;
  at: number;
  actor: string;
  from: { status: ExperimentStatus; coverage: number };
  to: { status: ExperimentStatus; coverage: number };
  shippedVariant?: string;
  /** For controller actions: the decision rule and its reason; for a person: their note. */
  rule?: string;
  reason?: string;
}

/** Why an action was refused; `path` names the offending request field (`coverage`, `variant`). */
export interface ExperimentTransitionError {
  code: 'illegal_transition' | 'invalid_input';
  message: string;
  path?: string;
}

export type ExperimentTransitionResult =
  | { ok: true; state: ExperimentState; event: ExperimentEvent }
  | { ok: false; error: ExperimentTransitionError };

/** The state of an experiment that has just been created: draft, nothing served. */
export function createExperimentState(): ExperimentState {
  return {
    status: 'draft',
    coverage: 0,
    epochs: [],
    startedAt: null,
    endedAt: null,
    shippedVariant: null,
    updatedAt: null,
    monitoring: null,
    history: [],
  };
}

/** Fresh monitoring: no looks, nothing planned, an empty SRM test. */
export function createExperimentMonitoring(): ExperimentMonitoring {
  return {
    looks: 0,
    lastLookAt: null,
    plannedUnits: null,
    metrics: {},
    srm: createSrmState(),
    srmCounts: {},
  };
}

/** True while the experiment owns its flag in its environment (running). */
export function isExperimentActive(status: ExperimentStatus): boolean {
  return status === 'running';
}

/** Appends to an experiment history, keeping the newest MAX_HISTORY entries. */
export function appendExperimentHistory(
  history: readonly ExperimentHistoryEntry[],
  entry: ExperimentHistoryEntry,
): ExperimentHistoryEntry[] {
  const next = [...history, entry];
  return next.length > MAX_HISTORY ? next.slice(next.length - MAX_HISTORY) : next;
}

type Change = Partial<ExperimentState> | ExperimentTransitionError;

function illegal(message: string): ExperimentTransitionError {
  return { code: 'illegal_transition', message };
}

function invalid(path: string, message: string): ExperimentTransitionError {
  return { code: 'invalid_input', message: `${path}: ${message}`, path };
}

function setCoverage(plan: ExperimentPlan, state: ExperimentState, coverage: unknown, now: number): Change {
  if (state.status !== 'running')
    return illegal(`set_coverage needs a running experiment; this one is ${state.status}`);
  const issues = new Issues();
  const value = checkCoverage(coverage, plan.variants, issues);
  if (Number.isNaN(value))
    return invalid('coverage', issues.list[0]?.message ?? 'expected a coverage in percent');
  const next = reachToBuckets(value);
  const current = reachToBuckets(state.coverage);
  if (next < current)
    return invalid(
      'coverage',
      `coverage only grows while the experiment runs (units already assigned keep their arm); it is ${state.coverage}%, got ${value}%`,
    );
  if (next === current) return {};
  return { coverage: value, epochs: [...state.epochs, { coverage: value, startedAt: now }] };
}

function target(plan: ExperimentPlan, state: ExperimentState, request: ExperimentRequest): Change {
  const s = state.status;
  const now = request.now;
  switch (request.action) {
    case 'start':
      if (s !== 'draft') return illegal(`start needs a draft experiment; this one is ${s}`);
      return {
        status: 'running',
        coverage: plan.coverage,
        epochs: [{ coverage: plan.coverage, startedAt: now }],
        startedAt: now,
        monitoring: createExperimentMonitoring(),
      };
    case 'set_coverage':
      return setCoverage(plan, state, request.coverage, now);
    case 'ship': {
      if (s !== 'running') return illegal(`ship needs a running experiment; this one is ${s}`);
      const variant = request.variant;
      const treatments = plan.variants.filter((v) => v.variant !== plan.control).map((v) => v.variant);
      if (!treatments.includes(variant))
        return invalid(
          'variant',
          `expected a treatment variant of the experiment (${treatments.join(', ')}), got ${JSON.stringify(variant)}${variant === plan.control ? ' (the control: use stop to keep it)' : ''}`,
        );
      return { status: 'shipped', shippedVariant: variant, endedAt: now };
    }
    case 'stop':
    case 'abort':
      if (s !== 'running') return illegal(`${request.action} needs a running experiment; this one is ${s}`);
      return { status: request.action === 'stop' ? 'stopped' : 'aborted', endedAt: now };
  }
}

/** Internal form of `applyExperimentAction` that also records the decision rule of controller actions. */
export function transitionExperiment(
  plan: ExperimentPlan,
  state: ExperimentState,
  request: ExperimentRequest & { rule?: string },
): ExperimentTransitionResult {
  if (!EXPERIMENT_ACTIONS.includes(request.action))
    return { ok: false, error: invalid('action', `unknown action ${JSON.stringify(request.action)}`) };
  if (!Number.isFinite(request.now))
    return { ok: false, error: invalid('now', 'expected epoch milliseconds') };
  const change = target(plan, state, request);
  if ('code' in change) return { ok: false, error: change };
  const next: ExperimentState = { ...state, ...change, updatedAt: request.now };
  const event: ExperimentEvent = {
    type: request.action,
    at: request.now,
    actor: request.actor,
    from: { status: state.status, coverage: state.coverage },
    to: { status: next.status, coverage: next.coverage },
    ...(next.shippedVariant !== null && request.action === 'ship'
      ? { shippedVariant: next.shippedVariant }
      : {}),
    ...(request.rule !== undefined ? { rule: request.rule } : {}),
    ...(request.reason !== undefined ? { reason: request.reason } : {}),
  };
  next.history = appendExperimentHistory(state.history, {
    at: request.now,
    kind: 'action',
    action: request.action,
    rule: request.rule ?? null,
    actor: request.actor,
    coverage: next.coverage,
  });
  return { ok: true, state: next, event };
}

/**
 * Applies an action: `start` (draft → running at the plan's coverage), `set_coverage` (running; only upwards,
 * opening a new coverage epoch; the error names `coverage` with the current value), `ship` (running → shipped,
 * a treatment variant), `stop` (running → stopped) or `abort` (running → aborted). Returns the new state and an
 * event for the audit log, or an error saying why the action is not allowed. It checks legality only; the
 * statistics are `decideExperiment`'s.
 */
export function applyExperimentAction(
  plan: ExperimentPlan,
  state: ExperimentState,
  request: ExperimentRequest,
): ExperimentTransitionResult {
  return transitionExperiment(plan, state, request);
}
