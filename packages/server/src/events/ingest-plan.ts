/**
 * The order of work inside one ingestion transaction, shared by every storage adapter: register batch ids
 * (duplicates keep their stored answer), open and move epochs from exposures, bring moved epochs up to date
 * from previously stored events, count the group's tracked events, then store the raw events and the changes.
 * Adapters supply the reads and writes (`IngestIo`), all inside their one transaction.
 */
import type { AnalysedRollout, AnalysisChanges, TrackPoint, UnitEpochs } from './aggregation.ts';
import { RolloutAggregation } from './aggregation.ts';
import type { BatchAnswer, IngestBatch, IngestResult, TrackInput } from './events.store.ts';

/** The reads and writes of one ingestion transaction. */
export interface IngestIo {
  /** Records the batch id with its answer; returns the stored answer when the id was already recorded. */
  registerBatch(batch: IngestBatch, at: number): Promise<BatchAnswer | null>;
  /** Rollouts of the environment whose exposures and events are analysed. */
  analysedRollouts(environment: string): Promise<AnalysedRollout[]>;
  /** Serialises concurrent writers of these rollouts (other processes) until the transaction ends. */
  lockRollouts(ids: readonly string[]): Promise<void>;
  loadEpochs(rollout: AnalysedRollout, units: readonly string[]): Promise<Map<string, UnitEpochs>>;
  /** Stored track events of these units timestamped at or after `from` (epoch ms), per unit. */
  loadTracks(environment: string, units: readonly string[], from: number): Promise<Map<string, TrackPoint[]>>;
  insertTracks(environment: string, tracks: readonly TrackInput[]): Promise<void>;
  writeChanges(rollout: AnalysedRollout, changes: AnalysisChanges): Promise<void>;
}

/** Runs one group of batches through `io`; the caller wraps it in one transaction. */
export async function runIngest(
  io: IngestIo,
  batches: readonly IngestBatch[],
  at: number,
): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  const fresh = new Map<string, IngestBatch[]>();
  for (const batch of batches) {
    const stored = await io.registerBatch(batch, at);
    if (stored !== null) {
      results.push({ answer: stored, duplicate: true });
      continue;
    }
    results.push({ answer: batch.answer, duplicate: false });
    const list = fresh.get(batch.environment) ?? [];
    list.push(batch);
    fresh.set(batch.environment, list);
  }
  for (const [environment, list] of fresh) await ingestEnvironment(io, environment, list);
  return results;
}

async function ingestEnvironment(io: IngestIo, environment: string, batches: readonly IngestBatch[]) {
  const tracks = batches.flatMap((b) => b.tracks);
  const rollouts = await io.analysedRollouts(environment);
  if (rollouts.length > 0) {
    await io.lockRollouts(rollouts.map((r) => r.id).sort());
    const exposures = batches.flatMap((b) => b.exposures);
    const aggregations: RolloutAggregation[] = [];
    for (const rollout of rollouts) {
      const probe = new RolloutAggregation(rollout, new Map());
      const mine = exposures.filter((e) => e.flag === rollout.flag && probe.armOf(e.variant) !== null);
      const watched = tracks.filter((t) => probe.watches(t.name));
      if (mine.length === 0 && watched.length === 0) continue;
      const units = [...new Set([...mine.map((e) => e.unit), ...watched.map((t) => t.unit)])];
      const aggregation = new RolloutAggregation(rollout, await io.loadEpochs(rollout, units));
      for (const e of mine)
        aggregation.applyExposure(e.unit, aggregation.armOf(e.variant) as 'control', e.ts);
      const needed = aggregation.rawNeeded();
      if (needed.size > 0) {
        const from = Math.min(...needed.values());
        const stored = await io.loadTracks(environment, [...needed.keys()], from);
        for (const unit of needed.keys()) aggregation.applyStored(unit, stored.get(unit) ?? []);
      }
      for (const t of watched) aggregation.applyTrack(t.unit, t);
      aggregations.push(aggregation);
    }
    for (const aggregation of aggregations) await io.writeChanges(aggregation.rollout, aggregation.finish());
  }
  if (tracks.length > 0) await io.insertTracks(environment, tracks);
}
