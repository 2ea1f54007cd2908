import type { FlagConfig } from '@dimmer/core';
import type { MetricDefinition } from '../metrics/index.ts';
import type { AuditInput, LeaseFence, WriteResult } from '../storage/write.ts';
import type { OutboxInput } from './webhooks.store.ts';

/** The lifecycle of a rollout (the same set as packages/rollout's state machine). */
export type RolloutStatus = 'draft' | 'running' | 'paused' | 'rolled_back' | 'holding' | 'completed';
export const ROLLOUT_STATUSES: readonly RolloutStatus[] = [
  'draft',
  'running',
  'paused',
  'rolled_back',
  'holding',
  'completed',
];
/** Statuses in which a rollout owns its flag in its environment. */
export const ACTIVE_ROLLOUT_STATUSES: readonly RolloutStatus[] = [
  'running',
  'paused',
  'holding',
  'rolled_back',
];
/** Statuses in which exposures and events are analysed (epochs opened, statistics kept). */
export const ANALYSED_ROLLOUT_STATUSES: readonly RolloutStatus[] = ['running', 'paused', 'holding'];

export type ArmName = 'treatment' | 'control';

/** A stored rollout: the columns ingestion and the controller read, plus the plan and state documents. */
export interface RolloutRecord {
  id: string;
  flag: string;
  environment: string;
  treatment: string;
  control: string;
  state: RolloutStatus;
  /** Index of the current stage in the plan. */
  stage: number;
  /** Treatment reach in percent (up to four decimals). */
  reach: number;
  /** 1 for the first run; a resume after a rollback starts the next attempt (fresh epochs and statistics). */
  attempt: number;
  /** Guardrail metric keys. */
  guardrails: string[];
  /** The guardrail metric definitions as they were when the rollout was created (later edits do not apply). */
  metrics: MetricDefinition[];
  /** The rollout plan document (packages/rollout's RolloutPlan), as JSON. */
  plan: unknown;
  /** The rollout state document (packages/rollout's RolloutState), as JSON. */
  stateDoc: unknown;
  /** Traffic the person expects, given on create (the plan forecast uses it until exposures arrive). */
  traffic: RolloutTraffic | null;
  revision: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** Traffic stated on create for the plan forecast: new units a day and per-metric baselines. */
export interface RolloutTraffic {
  expectedUnitsPerDay?: number;
  /** Per metric key: the expected per-unit mean and variance (a proportion's variance may be left out). */
  baselines?: Record<string, { mean: number; variance?: number }>;
}

/**
 * One stored entry of the decision log: a look of the controller (or a recommendation in manual mode), or a run
 * of consecutive identical looks that applied nothing (`count` of them, from `firstAt` to `at`), updated in
 * place at each look of the run with the newest reason and evidence.
 */
export interface DecisionRecord {
  /** Increasing per store: newer entries have larger ids. */
  id: number;
  rollout: string;
  attempt: number;
  /** Epoch milliseconds of the newest look of the entry. */
  at: number;
  /** Looks this entry stands for (1 unless identical looks were folded into it). */
  count: number;
  /** Epoch milliseconds of the first look of the entry. */
  firstAt: number;
  /** Per rollout, increasing with every write or update of an entry: what `after` cursors compare. */
  seq: number;
  action: 'rollback' | 'advance' | 'hold' | 'complete';
  rule: string;
  reason: string;
  /** True when the controller applied the action (automatic mode); false for holds and recommendations. */
  applied: boolean;
  /**
   * packages/rollout's Decision without `nextState`: status, stage and reach it was made in, per-metric
   * looks (estimate, relative lift, interval, boundary, z, n per arm, verdict), the SRM look and stage checks.
   */
  evidence: Record<string, unknown>;
}

/** A decision as written (the store assigns the id, the sequence and the run). */
export type DecisionInput = Omit<DecisionRecord, 'id' | 'count' | 'firstAt' | 'seq'>;

/** The stage and status a decision was made in (stored in its evidence). */
function positionOf(evidence: Record<string, unknown>): string {
  return JSON.stringify([evidence.stageIndex ?? null, evidence.status ?? null]);
}

/**
 * Whether `next` continues the run of `previous` (the rollout's newest entry) instead of starting a new entry:
 * neither applied anything, and they have the same attempt, action, rule, stage and status. Every store folds
 * by this rule, so the log records changes, not repetitions.
 */
export function foldsInto(previous: DecisionRecord | undefined, next: DecisionInput): boolean {
  return (
    previous !== undefined &&
    previous.rollout === next.rollout &&
    !previous.applied &&
    !next.applied &&
    previous.attempt === next.attempt &&
    previous.action === next.action &&
    previous.rule === next.rule &&
    positionOf(previous.evidence) === positionOf(next.evidence)
  );
}

/** A page of the decision log: newest first (`beforeId` pages back), or the entries changed after a cursor. */
export interface DecisionPageQuery {
  limit: number;
  beforeId?: number;
  /** Entries whose `seq` is above this, in `seq` order (oldest change first). */
  afterSeq?: number;
  /** Only these actions. */
  actions?: readonly DecisionRecord['action'][];
}

/** One guardrail at one look, on the difference scale (treatment − control). */
export interface LookPoint {
  estimate: number | null;
  lower: number | null;
  upper: number | null;
  /** The difference at which the rollback test fires, h·b·SE; null while the boundary is +∞. */
  rollback: number | null;
  /** The non-inferiority margin h·θ; null when unknown. */
  margin: number | null;
  z: number | null;
  crossed: boolean;
}

/** One stored look of the controller for the chart. */
export interface LookRecord {
  /** Increasing per store: later looks have larger ids. */
  id: number;
  rollout: string;
  attempt: number;
  /** Epoch milliseconds. */
  at: number;
  stage: number;
  reach: number;
  action: DecisionRecord['action'];
  applied: boolean;
  points: Record<string, LookPoint>;
}

/** A look as written (the store assigns the id). */
export type LookInput = Omit<LookRecord, 'id'>;

/** Sufficient statistics of one (attempt, cohort, arm, metric). */
export interface CohortStatsRow {
  cohort: number;
  arm: ArmName;
  metric: string;
  n: number;
  sumY: number;
  sumY2: number;
  sumD: number;
  sumD2: number;
  sumYD: number;
  /**
   * Third-order sums Σy³, Σy²d, Σyd², Σd³; absent on a row that was counting before the store kept them (its
   * sums would miss those units, so the skewness stays unknown for the attempt).
   */
  sumY3?: number;
  sumY2D?: number;
  sumYD2?: number;
  sumD3?: number;
}

/** Units of one (attempt, cohort, arm): epochs that began in the cohort, and units first assigned in it. */
export interface CohortUnitsRow {
  cohort: number;
  arm: ArmName;
  /** Epochs (units) whose current epoch in this arm began in this stage. */
  epochs: number;
  /** Units whose first epoch of the attempt began in this stage (the sample-ratio check's counts). */
  assigned: number;
}

/** The incremental analysis data of one rollout attempt. */
/** A quantile metric's statistics of one cohort and arm: a histogram sketch (unit scope) or event-scope statistics. */
export interface QuantileStatsRow {
  cohort: number;
  arm: ArmName;
  metric: string;
  data: unknown;
}

export interface RolloutAnalysis {
  stats: CohortStatsRow[];
  units: CohortUnitsRow[];
  /** Quantile metrics' statistics (absent from a store that has none). */
  quantiles?: QuantileStatsRow[];
}

export interface RolloutsStore {
  /** Throws StoreConflictError when the id exists, or when another rollout is active on the flag and environment. */
  create(record: RolloutRecord, audit: AuditInput): Promise<RolloutRecord>;
  get(id: string): Promise<RolloutRecord | undefined>;
  /** Rollouts by creation time, optionally of one environment or flag. */
  list(filter?: { environment?: string; flag?: string }): Promise<RolloutRecord[]>;
  /** Rollouts of an environment in an active status (running, paused, holding, rolled back). */
  listActive(environment: string): Promise<RolloutRecord[]>;
  /** Replaces the record if its revision is `expectedRevision` (StoreConflictError otherwise). */
  update(
    record: RolloutRecord,
    options: { expectedRevision: number },
    audit: AuditInput,
  ): Promise<RolloutRecord>;
  /**
   * Replaces the rollout and its flag's document in one transaction, bumping every environment's config
   * version and recording both audit entries; StoreConflictError when either revision moved on.
   */
  updateWithFlag(
    record: RolloutRecord,
    options: { expectedRevision: number; flag: FlagConfig; flagRevision: number },
    audits: readonly AuditInput[],
  ): Promise<WriteResult<RolloutRecord>>;
  /**
   * Replaces the rollout (if its revision is `expectedRevision`) and, in the same transaction, the flag's
   * document (bumping every environment's config version) when `flag` is given, stores `decision` when given,
   * and records the audit entries. Changes are empty when the flag was not written.
   */
  commit(
    record: RolloutRecord,
    options: {
      expectedRevision: number;
      flag?: { document: FlagConfig; revision: number };
      decision?: DecisionInput;
      /** The controller's lease: nothing is written (StoreFencedError) unless it is still held. */
      fence?: LeaseFence;
      /** Webhook deliveries reporting the change, given the stored decision's id: written in the same transaction. */
      outbox?: (decisionId: number | null) => readonly OutboxInput[];
    },
    audits: readonly AuditInput[],
  ): Promise<WriteResult<{ rollout: RolloutRecord; decision: DecisionRecord | null }>>;
  /**
   * Entries of a rollout's decision log, newest first (`beforeId` pages back), or with `afterSeq` the entries
   * written or updated after that sequence number, oldest change first. A committed decision that `foldsInto`
   * the newest entry updates it (count, time, reason, evidence, seq) instead of adding one.
   */
  listDecisions(id: string, page: DecisionPageQuery): Promise<DecisionRecord[]>;
  /** The highest `seq` of the rollout's decision log (0 when empty). */
  decisionCursor(id: string): Promise<number>;
  /** The rollout's looks for the chart, oldest first: all of them, or those with an id above `afterId`. */
  listLooks(id: string, query?: { afterId?: number }): Promise<LookRecord[]>;
  /** The cohort statistics and unit counts of one attempt (empty when nothing was ingested). */
  readAnalysis(id: string, attempt: number): Promise<RolloutAnalysis>;
}
