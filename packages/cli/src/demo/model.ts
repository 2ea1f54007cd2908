/**
 * The demo's records: one controller decision as the demo keeps it (with each guardrail's estimate), the live
 * progress of a rollout, and the summary printed at the end (`--json` prints it as is).
 */

import { relativeChangeOf } from '@dimmer/server';

/** One guardrail at one look: the estimate of treatment − control and its always-valid interval. */
export interface GuardrailEstimate {
  /** `no_data`, `insufficient` or `assessed`. */
  status: string;
  /** `harm_detected`, `non_inferior` or `inconclusive` once assessed; null before. */
  verdict: string | null;
  harmDetected: boolean;
  nonInferior: boolean;
  /** Treatment − control on the metric's scale, and its interval. */
  delta: number | null;
  interval: [number, number] | null;
  /**
   * μ_T/μ_C − 1 and the interval of the test that decided (the rollback or non-inferiority boundary, else the
   * always-valid interval) on the log-ratio scale: the numbers the API, the dashboard and `rollouts status` show.
   */
  relativeLift: number | null;
  relativeLiftInterval: [number, number] | null;
  /** Which test the interval is from: `rollback`, `non_inferiority` or `interval`; null before a look. */
  test: string | null;
  /** The relative non-inferiority margin the metric was compared with. */
  margin: number | null;
  meanControl: number | null;
  meanTreatment: number | null;
  nControl: number | null;
  nTreatment: number | null;
  /** The canary guard at the first stage, when it ran. */
  canary: { triggered: boolean; lowerBound: number; threshold: number } | null;
  /**
   * Quantile guardrails: both arms' quantiles in the metric's unit (the means above are then relative: control
   * 1, treatment Q_T/Q_C); null for the other kinds.
   */
  quantile: { q: number; control: number; treatment: number } | null;
}

/** One controller look at one rollout. */
export interface DemoDecision {
  rollout: string;
  /** Simulated time of the look, ISO 8601. */
  at: string;
  /** Simulated milliseconds since the rollouts started. */
  elapsedMs: number;
  action: 'rollback' | 'advance' | 'hold' | 'complete';
  rule: string;
  reason: string;
  /** True when the controller applied the action. */
  applied: boolean;
  /** Status, 0-based stage and reach (percent) the look was made in. */
  status: string;
  stage: number;
  reach: number;
  /** For an advance: the stage it leads to. */
  toStage: number | null;
  /** Guardrails whose deterioration test or canary guard fired at this look. */
  triggeredBy: string[];
  metrics: Record<string, GuardrailEstimate>;
}

/** Where a rollout stands, for the live view. */
export interface RolloutProgress {
  id: string;
  flag: string;
  story: string;
  status: string;
  /** 0-based. */
  stageIndex: number;
  stageCount: number;
  /** Treatment reach served now, in percent. */
  reach: number;
  holdback: number;
  /** Reach of every stage (the last one minus the holdback), in percent. */
  stageReaches: number[];
  latest: DemoDecision | undefined;
}

/** One frame of the live view. */
export interface DemoFrame {
  /** Simulated milliseconds since the rollouts started. */
  elapsedMs: number;
  users: number;
  events: number;
  rollouts: RolloutProgress[];
}

/** A stage the rollout moved on from. */
export interface StagePassed {
  /** 0-based index and reach of the stage left. */
  stage: number;
  reach: number;
  /** Reach of the stage entered. */
  toReach: number;
  /** Simulated milliseconds since the rollouts started. */
  elapsedMs: number;
}

/** How one rollout ended. */
export interface DemoRolloutSummary {
  id: string;
  flag: string;
  story: string;
  finalState: { status: string; stage: number; reach: number; attempt: number | null };
  stagesPassed: StagePassed[];
  /** The decision that put the rollout where it rests (the rollback, the final advance, the completion). */
  endedBy: DemoDecision | null;
  /** Every applied decision, plus each hold whose rule differed from the look before. */
  decisions: DemoDecision[];
}

/** What the demo prints at the end (`--json`: exactly this). */
export interface DemoSummary {
  /** True when every rollout reached a resting state (holding, completed or rolled back). */
  finished: boolean;
  seed: number;
  mode: 'fast' | 'full';
  /** Simulated and real duration of the traffic, in milliseconds. */
  simulatedMs: number;
  realMs: number;
  users: number;
  events: number;
  droppedEvents: number;
  server: { url: string; dataDir: string; adminToken: string; kept: boolean };
  rollouts: DemoRolloutSummary[];
}

/** Statuses in which a demo rollout has nothing more to show. */
export const RESTING_STATUSES: readonly string[] = ['holding', 'completed', 'rolled_back'];

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function pair(x: unknown): [number, number] | null {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === 'number' && typeof x[1] === 'number'
    ? [x[0], x[1]]
    : null;
}

function estimateOf(look: Json): GuardrailEstimate {
  const s = isObject(look.summary) ? look.summary : null;
  const change = relativeChangeOf(s as Parameters<typeof relativeChangeOf>[0]);
  const canary = isObject(look.canary) ? look.canary : null;
  const q = isObject(look.quantile) ? look.quantile : null;
  const quantile =
    q !== null && num(q.q) !== null && num(q.control) !== null && num(q.treatment) !== null
      ? { q: num(q.q) as number, control: num(q.control) as number, treatment: num(q.treatment) as number }
      : null;
  return {
    quantile,
    status: String(look.status ?? 'unknown'),
    verdict: s === null ? null : String(s.verdict),
    harmDetected: s?.harmDetected === true,
    nonInferior: s?.nonInferior === true,
    delta: num(s?.delta),
    interval: pair(s?.interval),
    relativeLift: num(s?.relativeLift),
    relativeLiftInterval:
      change !== null && change.lower !== null && change.upper !== null ? [change.lower, change.upper] : null,
    test: change?.test ?? null,
    margin: num(look.margin),
    meanControl: num(s?.meanControl),
    meanTreatment: num(s?.meanTreatment),
    nControl: num(s?.nControl),
    nTreatment: num(s?.nTreatment),
    canary:
      canary === null
        ? null
        : {
            triggered: canary.triggered === true,
            lowerBound: num(canary.lowerBound) ?? Number.NaN,
            threshold: num(canary.threshold) ?? Number.NaN,
          },
  };
}

/** A stored decision as the controller's `tick()` returns it: the columns plus the decision document. */
export interface ControllerDecision {
  rollout: string;
  at: number;
  action: DemoDecision['action'];
  rule: string;
  reason: string;
  applied: boolean;
  evidence: Record<string, unknown>;
}

/** The demo's record of a decision; `startMs` is when the rollouts started (epoch ms, simulated). */
export function toDemoDecision(d: ControllerDecision, startMs: number): DemoDecision {
  const e = d.evidence;
  const metrics: Record<string, GuardrailEstimate> = {};
  if (isObject(e.metrics))
    for (const [key, look] of Object.entries(e.metrics)) if (isObject(look)) metrics[key] = estimateOf(look);
  return {
    rollout: d.rollout,
    at: new Date(d.at).toISOString(),
    elapsedMs: d.at - startMs,
    action: d.action,
    rule: d.rule,
    reason: d.reason,
    applied: d.applied,
    status: String(e.status ?? 'unknown'),
    stage: num(e.stageIndex) ?? 0,
    reach: num(e.reach) ?? 0,
    toStage: num(e.toStage),
    triggeredBy: Object.entries(metrics)
      .filter(([, m]) => m.harmDetected || m.canary?.triggered === true)
      .map(([key]) => key),
    metrics,
  };
}
