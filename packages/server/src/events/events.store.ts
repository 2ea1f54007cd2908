/**
 * The storage port of event ingestion. `EventsStore` is what the pipeline calls: one call commits a group of
 * batches in one transaction. `EventsStorage` is what an adapter offers: the primitive operations of one
 * ingestion transaction, whose order the events feature owns (ingest-plan.ts).
 */
import type { Analysis, AnalysisChanges, TrackPoint, UnitEpochs } from './aggregation.ts';

/** A validated exposure, timestamp in epoch milliseconds. */
export interface ExposureInput {
  flag: string;
  variant: string;
  unit: string;
  ts: number;
  /**
   * Set when the flag's surface keeps a holdback: the surface, and whether the unit is held back (then the
   * exposure counts for the holdback report only, never for a rollout's or experiment's arms).
   */
  holdback?: { surface: string; held: boolean };
}

/** A validated tracked event; `value` is null when the event carried none. */
export interface TrackInput {
  name: string;
  unit: string;
  ts: number;
  value: number | null;
  /** Sent with a browser key: counts only for metrics marked `clientReportable`. */
  client?: boolean;
}

/** What `POST /v1/events` answers for a batch (stored with the batch id, so a retry gets the same answer). */
export interface BatchAnswer {
  batchId: string;
  accepted: number;
  rejected: { index: number; reason: string }[];
}

/** One client batch after validation: the good events and the answer to give. */
export interface IngestBatch {
  environment: string;
  batchId: string;
  answer: BatchAnswer;
  exposures: ExposureInput[];
  tracks: TrackInput[];
}

/** The outcome of one batch: its answer (the stored one for a duplicate) and whether it was seen before. */
export interface IngestResult {
  answer: BatchAnswer;
  duplicate: boolean;
}

export interface EventsStore {
  /**
   * Commits every batch not seen before (per environment and batch id) in ONE transaction together with its
   * batch-id record: raw track events, assignment epochs, per-epoch accumulators and cohort statistics of the
   * environment's analyses (rollouts, running experiments per variant, surface holdbacks). `at` (epoch ms) is the receive time recorded with the batch ids.
   */
  ingest(batches: readonly IngestBatch[], at: number): Promise<IngestResult[]>;
  /** Deletes raw track events timestamped before `ts` and batch-id records received before `ts`; returns rows deleted. */
  prune(ts: number): Promise<number>;
  /** Number of stored raw track events (tests and benchmarks). */
  countTracks(): Promise<number>;
  /**
   * True while groups are written on a thread other than the serving one (SQLite's events writer): the pipeline
   * then sends the next group before the last committed. Absent: written on the serving thread or by a server.
   */
  readonly offThread?: boolean;
  /** Resolves once the store writes without a start-up delay (its writer thread runs, or could not start). */
  ready?(): Promise<void>;
}

/** The reads and writes of one ingestion transaction. */
export interface IngestIo {
  /** Records the batch id with its answer; returns the stored answer when the id was already recorded. */
  registerBatch(batch: IngestBatch, at: number): Promise<BatchAnswer | null>;
  /** The analyses of the environment: analysed rollouts, running experiments, surface holdbacks. */
  analyses(environment: string): Promise<Analysis[]>;
  /** Serialises concurrent writers of these analyses (other processes) until the transaction ends. */
  lockAnalyses(ids: readonly string[]): Promise<void>;
  loadEpochs(analysis: Analysis, units: readonly string[]): Promise<Map<string, UnitEpochs>>;
  /** Stored track events of these units timestamped at or after `from` (epoch ms), per unit. */
  loadTracks(environment: string, units: readonly string[], from: number): Promise<Map<string, TrackPoint[]>>;
  insertTracks(environment: string, tracks: readonly TrackInput[]): Promise<void>;
  writeChanges(analysis: Analysis, changes: AnalysisChanges): Promise<void>;
}

/** What a storage adapter offers the events feature. */
export interface EventsStorage {
  /** Runs `work` in one transaction over the ingestion operations: commit when it resolves, roll back when it throws. */
  transaction<T>(work: (io: IngestIo) => Promise<T>): Promise<T>;
  /** Deletes raw track events timestamped before `ts` and batch-id records received before `ts`; returns rows deleted. */
  prune(ts: number): Promise<number>;
  /** Number of stored raw track events. */
  countTracks(): Promise<number>;
}
