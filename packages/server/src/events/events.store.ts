/** The storage port of event ingestion: one call commits a group of batches in one transaction. */

/** A validated exposure, timestamp in epoch milliseconds. */
export interface ExposureInput {
  flag: string;
  variant: string;
  unit: string;
  ts: number;
}

/** A validated tracked event; `value` is null when the event carried none. */
export interface TrackInput {
  name: string;
  unit: string;
  ts: number;
  value: number | null;
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
   * environment's analysed rollouts. `at` (epoch ms) is the receive time recorded with the batch ids.
   */
  ingest(batches: readonly IngestBatch[], at: number): Promise<IngestResult[]>;
  /** Deletes raw track events timestamped before `ts` and batch-id records received before `ts`; returns rows deleted. */
  prune(ts: number): Promise<number>;
  /** Number of stored raw track events (tests and benchmarks). */
  countTracks(): Promise<number>;
}
