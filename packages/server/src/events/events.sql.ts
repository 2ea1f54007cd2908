/**
 * The event ingestion port over SQL (SQLite and PostgreSQL): the primitive reads and writes of one ingestion
 * transaction; the events feature decides their order (ingest-plan.ts).
 */
import type { MetricDefinition } from '../metrics/index.ts';
import { ANALYSED_ROLLOUT_STATUSES } from '../rollouts/index.ts';
import type { SqlDriver, SqlExecutor } from '../storage/sql/sql-driver.ts';
import { chunks, json, marks, num } from '../storage/sql/sql-rows.ts';
import {
  type AnalysisChanges,
  experimentAnalysis,
  experimentSource,
  holdbackAnalyses,
  rolloutAnalysis,
  type TrackPoint,
  type UnitEpochs,
} from './aggregation.ts';
import type { BatchAnswer, EventsStorage, IngestIo, TrackInput } from './events.store.ts';

/** The reads and writes of one ingestion transaction over SQL. */
function sqlIngestIo(tx: SqlExecutor, driver: SqlDriver): IngestIo {
  return {
    async registerBatch(batch, at) {
      const inserted = await tx.all(
        'INSERT INTO event_batches (environment, batch_id, received_at, answer) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING batch_id',
        [batch.environment, batch.batchId, at, JSON.stringify(batch.answer)],
      );
      if (inserted.length > 0) return null;
      const [row] = await tx.all('SELECT answer FROM event_batches WHERE environment = ? AND batch_id = ?', [
        batch.environment,
        batch.batchId,
      ]);
      return json(row?.answer) as BatchAnswer;
    },
    async analyses(environment) {
      const rows = await tx.all(
        `SELECT id, attempt, stage, flag, treatment, control, metrics FROM rollouts WHERE environment = ? AND state IN (${marks(ANALYSED_ROLLOUT_STATUSES.length)}) ORDER BY id`,
        [environment, ...ANALYSED_ROLLOUT_STATUSES],
      );
      const experiments = await tx.all(
        "SELECT id, flag, metrics, plan, state_doc FROM experiments WHERE environment = ? AND status = 'running' ORDER BY id",
        [environment],
      );
      const surfaces = await tx.all('SELECT document FROM surfaces ORDER BY key');
      return [
        ...rows.map((r) =>
          rolloutAnalysis({
            id: String(r.id),
            attempt: num(r.attempt),
            stage: num(r.stage),
            flag: String(r.flag),
            treatment: String(r.treatment),
            control: String(r.control),
            metrics: json(r.metrics) as MetricDefinition[],
          }),
        ),
        ...experiments.map((r) =>
          experimentAnalysis(
            experimentSource({
              id: String(r.id),
              flag: String(r.flag),
              plan: json(r.plan),
              stateDoc: json(r.state_doc),
              metrics: json(r.metrics) as MetricDefinition[],
            }),
          ),
        ),
        ...holdbackAnalyses(
          environment,
          surfaces.map((r) => json(r.document)),
        ),
      ];
    },
    async lockAnalyses(ids) {
      // Rollout ids have no `:`; experiment and holdback analysis ids carry their own prefix.
      await driver.lockKeys(
        tx,
        ids.map((id) => (id.includes(':') ? id : `rollout:${id}`)),
      );
    },
    async loadEpochs(analysis, units) {
      const out = new Map<string, UnitEpochs>();
      for (const part of chunks(units)) {
        const rows = await tx.all(
          `SELECT unit, arm, cohort, start_at, end_at, vals FROM epochs WHERE rollout_id = ? AND attempt = ? AND unit IN (${marks(part.length)})`,
          [analysis.id, analysis.attempt, ...part],
        );
        for (const row of rows) {
          const unit = String(row.unit);
          const state = out.get(unit) ?? {};
          state[String(row.arm)] = {
            cohort: num(row.cohort),
            start: num(row.start_at),
            end: row.end_at === null || row.end_at === undefined ? null : num(row.end_at),
            values: json(row.vals) as number[],
          };
          out.set(unit, state);
        }
      }
      return out;
    },
    async loadTracks(environment, units, from) {
      const out = new Map<string, TrackPoint[]>();
      for (const part of chunks(units)) {
        const rows = await tx.all(
          `SELECT unit, name, ts, value, client FROM track_events WHERE environment = ? AND unit IN (${marks(part.length)}) AND ts >= ?`,
          [environment, ...part, from],
        );
        for (const row of rows) {
          const unit = String(row.unit);
          const list = out.get(unit) ?? [];
          list.push({
            name: String(row.name),
            ts: num(row.ts),
            value: row.value === null || row.value === undefined ? null : num(row.value),
            ...(row.client === true || num(row.client ?? 0) === 1 ? { client: true } : {}),
          });
          out.set(unit, list);
        }
      }
      return out;
    },
    async insertTracks(environment, tracks: readonly TrackInput[]) {
      for (const part of chunks(tracks)) {
        const params: unknown[] = [];
        for (const t of part)
          params.push(environment, t.unit, t.name, t.ts, t.value, t.client === true ? 1 : 0);
        await tx.run(
          `INSERT INTO track_events (environment, unit, name, ts, value, client) VALUES ${marks(part.length, 6)}`,
          params,
        );
      }
    },
    async writeChanges(analysis, changes: AnalysisChanges) {
      for (const part of chunks(changes.upserts)) {
        const params: unknown[] = [];
        for (const { unit, arm, epoch } of part)
          params.push(
            analysis.id,
            analysis.attempt,
            unit,
            arm,
            epoch.cohort,
            epoch.start,
            epoch.end,
            JSON.stringify(epoch.values),
          );
        await tx.run(
          `INSERT INTO epochs (rollout_id, attempt, unit, arm, cohort, start_at, end_at, vals) VALUES ${marks(part.length, 8)}
           ON CONFLICT (rollout_id, attempt, unit, arm) DO UPDATE SET cohort = excluded.cohort,
             start_at = excluded.start_at, end_at = excluded.end_at, vals = excluded.vals`,
          params,
        );
      }
      for (const d of changes.deletes)
        await tx.run('DELETE FROM epochs WHERE rollout_id = ? AND attempt = ? AND unit = ? AND arm = ?', [
          analysis.id,
          analysis.attempt,
          d.unit,
          d.arm,
        ]);
      for (const s of changes.stats)
        await tx.run(
          `INSERT INTO cohort_stats (rollout_id, attempt, cohort, arm, metric, n, sum_y, sum_y2, sum_d, sum_d2, sum_yd,
             sum_y3, sum_y2d, sum_yd2, sum_d3)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (rollout_id, attempt, cohort, arm, metric) DO UPDATE SET n = cohort_stats.n + excluded.n,
             sum_y = cohort_stats.sum_y + excluded.sum_y, sum_y2 = cohort_stats.sum_y2 + excluded.sum_y2,
             sum_d = cohort_stats.sum_d + excluded.sum_d, sum_d2 = cohort_stats.sum_d2 + excluded.sum_d2,
             sum_yd = cohort_stats.sum_yd + excluded.sum_yd, sum_y3 = cohort_stats.sum_y3 + excluded.sum_y3,
             sum_y2d = cohort_stats.sum_y2d + excluded.sum_y2d, sum_yd2 = cohort_stats.sum_yd2 + excluded.sum_yd2,
             sum_d3 = cohort_stats.sum_d3 + excluded.sum_d3`,
          [
            analysis.id,
            analysis.attempt,
            s.cohort,
            s.arm,
            s.metric,
            s.n,
            s.sumY,
            s.sumY2,
            s.sumD,
            s.sumD2,
            s.sumYD,
            s.sumY3,
            s.sumY2D,
            s.sumYD2,
            s.sumD3,
          ],
        );
      for (const u of changes.units)
        await tx.run(
          `INSERT INTO cohort_units (rollout_id, attempt, cohort, arm, epochs, assigned) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (rollout_id, attempt, cohort, arm) DO UPDATE SET epochs = cohort_units.epochs + excluded.epochs,
             assigned = cohort_units.assigned + excluded.assigned`,
          [analysis.id, analysis.attempt, u.cohort, u.arm, u.epochs, u.assigned],
        );
    },
  };
}

/** The events storage over a migrated driver. */
export function createSqlEventsStorage(driver: SqlDriver): EventsStorage {
  return {
    transaction(work) {
      return driver.transaction((tx) => work(sqlIngestIo(tx, driver)));
    },
    async prune(ts) {
      return driver.transaction(async (tx) => {
        const tracks = await tx.run('DELETE FROM track_events WHERE ts < ?', [ts]);
        const ids = await tx.run('DELETE FROM event_batches WHERE received_at < ?', [ts]);
        return tracks + ids;
      });
    },
    async countTracks() {
      const [row] = await driver.all('SELECT COUNT(*) AS n FROM track_events');
      return num(row?.n ?? 0);
    },
  };
}
