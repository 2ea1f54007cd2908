/**
 * Alarms: the states in which a monitored rollout cannot decide, said in words. A rollout in alarm has health
 * `alarm`, a `rollout.alarm` webhook when the alarm is raised or its causes change, and `dimmer_rollout_alarm`
 * at 1 while it lasts.
 */
import { MONITORED_STATUSES, type RolloutPlan, type RolloutState } from '@dimmer/rollout';
import type { FlagRecord } from '../flags/index.ts';
import type { DecisionRecord, RolloutRecord } from './rollouts.store.ts';

/** Why a rollout cannot decide (the contract's `RolloutAlarmCause`). */
export type AlarmCause =
  | 'invalid_evidence'
  | 'no_exposures'
  | 'missing_metric'
  | 'flag_disabled'
  | 'flag_archived';

export interface AlarmReason {
  cause: AlarmCause;
  message: string;
}

/** A rollout's alarm: one reason or more; null when the rollout can decide. */
export interface RolloutAlarm {
  reasons: AlarmReason[];
}

/** What the alarm is read from. */
export interface AlarmInput {
  record: RolloutRecord;
  plan: RolloutPlan;
  state: RolloutState;
  /** The flag as stored; undefined when it is gone. */
  flag: FlagRecord | undefined;
  /** Units per arm in the current attempt. */
  units: { treatment: number; control: number };
  /** Metrics whose evidence is marked invalid, with the reason the evidence gives. */
  invalidMetrics: readonly { metric: string; reason: string }[];
  latest: DecisionRecord | undefined;
  now: number;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

/** The alarm of a rollout, or null when it is not monitored or can decide. */
export function alarmOf(input: AlarmInput): RolloutAlarm | null {
  const { record, plan, state, flag, units, invalidMetrics, latest, now } = input;
  if (!MONITORED_STATUSES.includes(record.state)) return null;
  const reasons: AlarmReason[] = [];
  if (flag === undefined || flag.archived)
    reasons.push({
      cause: 'flag_archived',
      message: `Flag ${record.flag} is ${flag === undefined ? 'gone' : 'archived'}: the rollout serves nobody and cannot decide. Roll it back or complete it.`,
    });
  else if (flag.flag.environments[record.environment]?.enabled !== true)
    reasons.push({
      cause: 'flag_disabled',
      message: `Flag ${record.flag} is disabled in ${record.environment}: everyone gets the default variant, nobody is treated, and the rollout cannot decide. Enable the flag or roll the rollout back.`,
    });
  const current = latest !== undefined && latest.attempt === record.attempt ? latest : undefined;
  if (current?.rule === 'invalid_evidence')
    reasons.push({ cause: 'invalid_evidence', message: current.reason });
  for (const m of invalidMetrics)
    reasons.push({
      cause: 'invalid_evidence',
      message: `The evidence of metric ${m.metric} is invalid (${m.reason}): its guardrail cannot decide until its events are fixed.`,
    });
  const stage = plan.stages[state.stageIndex];
  const elapsed = state.stageStartedAt === null ? 0 : now - state.stageStartedAt;
  const pastMinimum = stage !== undefined && elapsed >= stage.minDuration;
  if (pastMinimum && record.state !== 'paused') {
    const empty = (['treatment', 'control'] as const).filter((arm) => units[arm] === 0);
    if (empty.length > 0)
      reasons.push({
        cause: 'no_exposures',
        message: `No exposures in the ${empty.join(' and ')} arm${empty.length > 1 ? 's' : ''} after ${duration(elapsed)} (the stage's minimum is ${duration(stage.minDuration)}): check that the flag is evaluated and its exposures are sent.`,
      });
  }
  if (pastMinimum && current?.rule === 'missing_data')
    reasons.push({
      cause: 'missing_metric',
      message: `${current.reason} The stage's minimum duration (${duration(stage.minDuration)}) has passed: check that the metric's events are sent.`,
    });
  return reasons.length > 0 ? { reasons } : null;
}

/** A stable key of an alarm's causes (to tell a new alarm from the same one seen again). */
export function alarmKey(alarm: RolloutAlarm | null): string {
  return alarm === null ? '' : alarm.reasons.map((r) => r.cause).join(',');
}
