import type { FlagConfig } from '@dimmer/core';
import type { ExperimentStatus } from '@dimmer/rollout';
import type { MetricDefinition } from '../metrics/index.ts';
import type { AuditInput, WriteResult } from '../storage/write.ts';

export type { ExperimentStatus };

/** Statuses in which an experiment owns its flag in its environment. */
export const ACTIVE_EXPERIMENT_STATUSES: readonly ExperimentStatus[] = ['running'];

/** Traffic stated on create for the sample plan: new units a day and per-metric baselines. */
export interface ExperimentTrafficInput {
  expectedUnitsPerDay?: number;
  baselines?: Record<string, { mean: number; variance?: number }>;
}

/** A stored experiment: the columns lists filter on, plus the plan and state documents. */
export interface ExperimentRecord {
  id: string;
  flag: string;
  environment: string;
  status: ExperimentStatus;
  /** The metric definitions (success and guardrail) as they were when the experiment was created. */
  metrics: MetricDefinition[];
  /** packages/rollout's ExperimentPlan, as JSON. */
  plan: unknown;
  /** packages/rollout's ExperimentState, as JSON. */
  stateDoc: unknown;
  traffic: ExperimentTrafficInput | null;
  /** Whether the controller aborts on a deterioration (default true). */
  autoAbort: boolean;
  /** The rollout `ship` created. */
  rollout: string | null;
  revision: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** One recorded look (packages/rollout's ExperimentDecision without `nextState`). */
export interface ExperimentResultRecord {
  /** Increasing per store. */
  id: number;
  experiment: string;
  at: number;
  recommendation: string;
  applied: boolean;
  decision: Record<string, unknown>;
}

export type ExperimentResultInput = Omit<ExperimentResultRecord, 'id'>;

export interface ExperimentsStore {
  /** Throws StoreConflictError when the id exists; StoreNotFoundError when the environment does not. */
  create(record: ExperimentRecord, audit: AuditInput): Promise<ExperimentRecord>;
  get(id: string): Promise<ExperimentRecord | undefined>;
  /** Experiments by creation time, optionally of one environment or flag. */
  list(filter?: { environment?: string; flag?: string }): Promise<ExperimentRecord[]>;
  /**
   * Replaces the experiment (if its revision is `expectedRevision`) and, in the same transaction, the flag's
   * document (bumping every environment's config version) when `flag` is given, stores `result` when given,
   * and records the audit entries. StoreConflictError when a revision moved on.
   */
  commit(
    record: ExperimentRecord,
    options: {
      expectedRevision: number;
      flag?: { document: FlagConfig; revision: number };
      result?: ExperimentResultInput;
    },
    audits: readonly AuditInput[],
  ): Promise<WriteResult<ExperimentRecord>>;
  /** The newest recorded look, if any. */
  latestResult(id: string): Promise<ExperimentResultRecord | undefined>;
}
