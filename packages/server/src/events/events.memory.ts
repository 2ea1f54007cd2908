/**
 * The event ingestion port in memory (unit tests). A transaction stages its writes and applies them at the end
 * without an await, so a group is all-or-nothing like a transaction; transactions run one at a time.
 */

import { EXPERIMENTS_TABLE, type ExperimentRecord } from '../experiments/index.ts';
import {
  ANALYSED_ROLLOUT_STATUSES,
  COHORT_STATS_TABLE,
  COHORT_UNITS_TABLE,
  type MemoryCohortStats,
  type MemoryCohortUnits,
  ROLLOUTS_TABLE,
  type RolloutRecord,
} from '../rollouts/index.ts';
import { copy, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import {
  type AnalysisChanges,
  emptyStats,
  experimentAnalysis,
  experimentSource,
  holdbackAnalyses,
  rolloutAnalysis,
  type TrackPoint,
  type UnitEpochs,
} from './aggregation.ts';
import type { BatchAnswer, EventsStorage, IngestIo, TrackInput } from './events.store.ts';

/** The events storage over the shared in-memory database. */
export function createMemoryEventsStorage(db: MemoryDatabase): EventsStorage {
  const rollouts = db.table<RolloutRecord>(ROLLOUTS_TABLE);
  const experiments = db.table<ExperimentRecord>(EXPERIMENTS_TABLE);
  const surfaces = db.table<{ doc: unknown }>('surfaces');
  const stats = db.table<MemoryCohortStats>(COHORT_STATS_TABLE);
  const unitCounts = db.table<MemoryCohortUnits>(COHORT_UNITS_TABLE);
  const batches = new Map<string, { at: number; answer: BatchAnswer }>();
  const tracks = new Map<string, Map<string, TrackPoint[]>>();
  const epochs = new Map<string, Map<string, UnitEpochs>>();
  let trackCount = 0;
  let queue: Promise<unknown> = Promise.resolve();

  function ingestIo(staged: (() => void)[]): IngestIo {
    return {
      async registerBatch(batch, at) {
        const key = `${batch.environment}\u0000${batch.batchId}`;
        const stored = batches.get(key);
        if (stored) return copy(stored.answer);
        const earlier = staged.find((s) => (s as { key?: string }).key === key) as
          | { answer?: BatchAnswer }
          | undefined;
        if (earlier?.answer) return copy(earlier.answer);
        const answer = copy(batch.answer);
        const write = Object.assign(() => batches.set(key, { at, answer }), { key, answer });
        staged.push(write);
        return null;
      },
      async analyses(environment) {
        const analysed = [...rollouts.values()]
          .filter((r) => r.environment === environment && ANALYSED_ROLLOUT_STATUSES.includes(r.state))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((r) => rolloutAnalysis(copy(r)));
        const running = [...experiments.values()]
          .filter((e) => e.environment === environment && e.status === 'running')
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((e) => experimentAnalysis(experimentSource(copy(e))));
        const held = holdbackAnalyses(
          environment,
          [...surfaces.values()].map((r) => copy(r.doc)),
        );
        return [...analysed, ...running, ...held];
      },
      async lockAnalyses() {},
      async loadEpochs(analysis, units) {
        const map = epochs.get(`${analysis.id}|${analysis.attempt}`);
        const out = new Map<string, UnitEpochs>();
        for (const unit of units) {
          const state = map?.get(unit);
          if (state) out.set(unit, copy(state));
        }
        return out;
      },
      async loadTracks(environment, units, from) {
        const env = tracks.get(environment);
        const out = new Map<string, TrackPoint[]>();
        for (const unit of units) {
          const list = env?.get(unit)?.filter((t) => t.ts >= from);
          if (list && list.length > 0) out.set(unit, copy(list));
        }
        return out;
      },
      async insertTracks(environment, list: readonly TrackInput[]) {
        const rows = copy(list);
        staged.push(() => {
          let env = tracks.get(environment);
          if (!env) {
            env = new Map();
            tracks.set(environment, env);
          }
          for (const t of rows) {
            const unit = env.get(t.unit) ?? [];
            unit.push({ name: t.name, ts: t.ts, value: t.value, ...(t.client ? { client: true } : {}) });
            env.set(t.unit, unit);
          }
          trackCount += rows.length;
        });
      },
      async writeChanges(analysis, changes: AnalysisChanges) {
        const c = copy(changes);
        staged.push(() => {
          const key = `${analysis.id}|${analysis.attempt}`;
          let map = epochs.get(key);
          if (!map) {
            map = new Map();
            epochs.set(key, map);
          }
          for (const u of c.upserts) {
            const state = map.get(u.unit) ?? {};
            state[u.arm] = u.epoch;
            map.set(u.unit, state);
          }
          for (const d of c.deletes) {
            const state = map.get(d.unit);
            if (state) delete state[d.arm];
          }
          for (const s of c.stats) {
            const k = `${key}|${s.cohort}|${s.arm}|${s.metric}`;
            const row: MemoryCohortStats =
              stats.get(k) ??
              ({
                rollout: analysis.id,
                attempt: analysis.attempt,
                ...emptyStats(s.cohort, s.arm, s.metric),
              } as MemoryCohortStats);
            row.n += s.n;
            row.sumY += s.sumY;
            row.sumY2 += s.sumY2;
            row.sumD += s.sumD;
            row.sumD2 += s.sumD2;
            row.sumYD += s.sumYD;
            // Like a NULL column: a row kept from before the third-order sums keeps them absent.
            if (row.sumY3 !== undefined) row.sumY3 += s.sumY3;
            if (row.sumY2D !== undefined) row.sumY2D += s.sumY2D;
            if (row.sumYD2 !== undefined) row.sumYD2 += s.sumYD2;
            if (row.sumD3 !== undefined) row.sumD3 += s.sumD3;
            stats.set(k, row);
          }
          for (const u of c.units) {
            const k = `${key}|${u.cohort}|${u.arm}`;
            const row =
              unitCounts.get(k) ??
              ({
                rollout: analysis.id,
                attempt: analysis.attempt,
                cohort: u.cohort,
                arm: u.arm,
                epochs: 0,
                assigned: 0,
              } as MemoryCohortUnits);
            row.epochs += u.epochs;
            row.assigned += u.assigned;
            unitCounts.set(k, row);
          }
        });
      },
    };
  }

  return {
    transaction(work) {
      const run = queue.then(async () => {
        db.checkOpen();
        const staged: (() => void)[] = [];
        const result = await work(ingestIo(staged));
        for (const write of staged) write();
        return result;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async prune(ts) {
      let removed = 0;
      for (const env of tracks.values())
        for (const [unit, list] of env) {
          const kept = list.filter((t) => t.ts >= ts);
          removed += list.length - kept.length;
          env.set(unit, kept);
        }
      trackCount -= removed;
      for (const [key, b] of batches)
        if (b.at < ts) {
          batches.delete(key);
          removed++;
        }
      return removed;
    },
    async countTracks() {
      return trackCount;
    },
  };
}
