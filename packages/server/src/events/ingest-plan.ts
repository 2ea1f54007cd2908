/**
 * The order of work inside one ingestion transaction, the same on every storage adapter: register batch ids
 * (duplicates keep their stored answer), open and move epochs from exposures, bring moved epochs up to date
 * from previously stored events, count the group's tracked events, then store the raw events and the changes.
 * Adapters only offer the primitive reads and writes (`IngestIo`) inside their one transaction
 * (`EventsStorage.transaction`); this module drives them.
 */
import { Aggregation } from './aggregation.ts';
import type { EventsStorage, EventsStore, IngestBatch, IngestIo, IngestResult } from './events.store.ts';

/** The events port over an adapter's storage: each `ingest` runs this plan in one of its transactions. */
export function createEventsStore(storage: EventsStorage): EventsStore {
  return {
    ingest: (batches, at) => storage.transaction((io) => runIngest(io, batches, at)),
    prune: (ts) => storage.prune(ts),
    countTracks: () => storage.countTracks(),
  };
}

/** Runs one group of batches through `io`; the caller wraps it in one transaction. */
async function runIngest(io: IngestIo, batches: readonly IngestBatch[], at: number): Promise<IngestResult[]> {
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
  const analysed = await io.analyses(environment);
  const exposures = batches.flatMap((b) => b.exposures);
  // Only the analyses this group touches are locked: batches for other flags and metrics run side by side.
  const touched = analysed.flatMap((analysis) => {
    const probe = new Aggregation(analysis, new Map());
    const mine = exposures.flatMap((e) => {
      const arm = analysis.armOf(e);
      return arm === null ? [] : [{ unit: e.unit, arm, ts: e.ts }];
    });
    const watched = tracks.filter((t) => probe.watches(t.name));
    return mine.length === 0 && watched.length === 0 ? [] : [{ analysis, mine, watched }];
  });
  if (touched.length > 0) {
    await io.lockAnalyses(touched.map((t) => t.analysis.id).sort());
    const aggregations: Aggregation[] = [];
    for (const { analysis, mine, watched } of touched) {
      const units = [...new Set([...mine.map((e) => e.unit), ...watched.map((t) => t.unit)])];
      const aggregation = new Aggregation(analysis, await io.loadEpochs(analysis, units));
      for (const e of mine) aggregation.applyExposure(e.unit, e.arm, e.ts);
      const needed = aggregation.rawNeeded();
      if (needed.size > 0) {
        const from = Math.min(...needed.values());
        const stored = await io.loadTracks(environment, [...needed.keys()], from);
        for (const unit of needed.keys()) aggregation.applyStored(unit, stored.get(unit) ?? []);
      }
      for (const t of watched) aggregation.applyTrack(t.unit, t);
      aggregations.push(aggregation);
    }
    for (const aggregation of aggregations) await io.writeChanges(aggregation.analysis, aggregation.finish());
  }
  if (tracks.length > 0) await io.insertTracks(environment, tracks);
}
