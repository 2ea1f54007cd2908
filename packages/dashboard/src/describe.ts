/** Plain-language text for flag documents and rollouts, shared by the pages (pure, no DOM). */
import { BUCKET_COUNT, type Condition, type Rule, type SplitSlice } from '@dimmer/core';
import type { Rollout } from './api.ts';

/** What the rollout helpers read: any rollout reply, whatever shape its history has. */
type RolloutFields = Omit<Rollout, 'history'>;

import { formatDurationMs } from './format.ts';

/** Buckets per percent of the assignment space. */
const BUCKETS_PER_PERCENT = BUCKET_COUNT / 100;
/** Reach is given with up to four decimals. */
const REACH_DECIMALS = 4;

/** Formats a share of the bucket space given in buckets as a percent string (`250000` → `25%`). */
export function formatBuckets(buckets: number): string {
  return formatPercent(buckets / BUCKETS_PER_PERCENT);
}

/** Formats a percent value with at most four decimals (`12.5` → `12.5%`). */
export function formatPercent(percent: number): string {
  return `${Number(percent.toFixed(REACH_DECIMALS))}%`;
}

function describeValue(value: unknown): string {
  return JSON.stringify(value) ?? 'undefined';
}

/** A readable one-line rendering of a targeting condition (`country in ["SE","NO"] and segment beta`). */
export function describeCondition(condition: Condition | undefined): string {
  if (condition === undefined) return 'everyone';
  if ('all' in condition)
    return condition.all.length === 0 ? 'everyone' : condition.all.map(wrap).join(' and ');
  if ('any' in condition) return condition.any.length === 0 ? 'no one' : condition.any.map(wrap).join(' or ');
  if ('not' in condition) return `not ${wrap(condition.not)}`;
  if ('segment' in condition) return `in segment ${condition.segment}`;
  if (condition.op === 'exists') return `${condition.attr} exists`;
  return `${condition.attr} ${condition.op.replace(/_/g, ' ')} ${describeValue(condition.value)}`;
}

function wrap(condition: Condition): string {
  const text = describeCondition(condition);
  return 'all' in condition || 'any' in condition ? `(${text})` : text;
}

/** One drawn piece of a split bar: where it starts and how wide it is, in percent of the bucket space. */
export interface SplitPiece {
  variant: string;
  arm?: string;
  startPercent: number;
  widthPercent: number;
  label: string;
}

/** The slices of a split as pieces of a 0–100 % bar, in bucket order; uncovered space falls through. */
export function splitPieces(split: readonly SplitSlice[]): SplitPiece[] {
  return [...split]
    .sort((a, b) => a.range[0] - b.range[0])
    .map((slice) => {
      const [start, end] = slice.range;
      const piece: SplitPiece = {
        variant: slice.variant,
        startPercent: start / BUCKETS_PER_PERCENT,
        widthPercent: Math.max(0, end - start) / BUCKETS_PER_PERCENT,
        label: `${slice.variant}: buckets ${formatBuckets(start)}–${formatBuckets(end)}`,
      };
      if (slice.arm !== undefined) piece.arm = slice.arm;
      return piece;
    });
}

/** Share of the bucket space a split does not cover, in percent (those units fall through to the next rule). */
export function uncoveredPercent(split: readonly SplitSlice[]): number {
  const covered = split.reduce((sum, s) => sum + Math.max(0, s.range[1] - s.range[0]), 0);
  return Math.max(0, BUCKET_COUNT - covered) / BUCKETS_PER_PERCENT;
}

/** What a rule serves, in words (`variant on` or `split on 25% / off 75%`). */
export function describeServe(rule: Rule): string {
  if ('variant' in rule.serve) return `serve ${rule.serve.variant}`;
  const parts = splitPieces(rule.serve.split).map((p) => `${p.variant} ${formatPercent(p.widthPercent)}`);
  return `split ${parts.join(' / ')}`;
}

/** The rollout's current reach in percent: the server's figure, else 0 unless running or paused at a stage. */
export function rolloutReach(rollout: RolloutFields): number {
  if (typeof rollout.reach === 'number') return rollout.reach;
  if (['running', 'paused', 'holding', 'completed'].includes(rollout.state))
    return rollout.stages[rollout.stage]?.reach ?? 0;
  return 0;
}

/** A stage's minimum duration as text: planned strings as given, milliseconds as "18 s" or "2 h 30 min". */
export function formatDuration(duration: string | number): string {
  return typeof duration === 'string' ? duration : formatDurationMs(duration);
}

/** Which actions make sense in a rollout state (the server has the last word). */
export function allowedActions(
  rollout: RolloutFields,
): ('start' | 'advance' | 'pause' | 'resume' | 'rollback' | 'complete')[] {
  const last = rollout.stage >= rollout.stages.length - 1;
  switch (rollout.state) {
    case 'draft':
      return ['start'];
    case 'running':
      return last ? ['complete', 'pause', 'rollback'] : ['advance', 'pause', 'rollback'];
    case 'holding':
      return ['complete', 'pause', 'rollback'];
    case 'paused':
      return ['resume', 'rollback'];
    case 'rolled_back':
      return ['resume'];
    default:
      return [];
  }
}

/** The sentence a confirmation dialog shows: what the action will do to the rollout's users. */
export function describeAction(
  rollout: RolloutFields,
  action: 'start' | 'advance' | 'pause' | 'resume' | 'rollback' | 'complete',
): string {
  const reach = rolloutReach(rollout);
  const next = rollout.stages[rollout.stage + 1];
  const first = rollout.stages[0];
  const where = `flag ${rollout.flag} in ${rollout.environment}`;
  switch (action) {
    case 'start':
      return `Start the rollout: ${where} serves "${rollout.treatment}" to ${formatPercent(first?.reach ?? 0)} of units (stage 1 of ${rollout.stages.length}); everyone else keeps "${rollout.control}".`;
    case 'advance':
      return next
        ? `Advance to stage ${rollout.stage + 2} of ${rollout.stages.length}: reach of "${rollout.treatment}" goes from ${formatPercent(reach)} to ${formatPercent(next.reach)}. Units already in treatment stay in it.`
        : `Advance: this is the last stage; use Complete instead.`;
    case 'pause':
      return `Pause: reach stays at ${formatPercent(reach)} and the controller stops advancing or rolling back until you resume.`;
    case 'resume':
      return `Resume: the controller looks at the guardrails again; a rolled-back rollout returns to the same units at stage ${rollout.stage + 1}.`;
    case 'rollback':
      return `Roll back: reach of "${rollout.treatment}" drops from ${formatPercent(reach)} to 0%. Every unit gets "${rollout.control}" within about a second; a later resume brings back the same units.`;
    case 'complete':
      return `Complete: ${where} serves "${rollout.treatment}" to ${formatPercent(100 - (rollout.holdback ?? 0))} of units and the rollout ends.`;
  }
}
