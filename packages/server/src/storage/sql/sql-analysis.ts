/**
 * The metric, surface, rollout and event stores over SQL, shared by the SQLite and PostgreSQL adapters.
 * Ingestion runs the shared plan (events/ingest-plan.ts) inside one transaction per group of batches.
 */
import type { FlagConfig } from '@dimmer/core';
import type { AnalysedRollout, AnalysisChanges, TrackPoint, UnitEpochs } from '../../events/aggregation.ts';
import type { BatchAnswer, EventsStore, TrackInput } from '../../events/events.store.ts';
import { type IngestIo, runIngest } from '../../events/ingest-plan.ts';
import type { MetricDefinition } from '../../metrics/metric.model.ts';
import type { MetricsStore } from '../../metrics/metrics.store.ts';
import {
  ACTIVE_ROLLOUT_STATUSES,
  ANALYSED_ROLLOUT_STATUSES,
  type ArmName,
  type DecisionRecord,
  type RolloutRecord,
  type RolloutStatus,
  type RolloutsStore,
  type RolloutTraffic,
} from '../../rollouts/rollouts.store.ts';
import type { Surface, SurfacesStore } from '../../surfaces/surfaces.store.ts';
import { metricAndSurfaceStores } from '../document-stores.ts';
import { type AuditInput, type ConfigChange, StoreConflictError, StoreNotFoundError } from '../stores.ts';
import type { Row, SqlDriver, SqlExecutor } from './sql-driver.ts';

/** Rows per multi-row INSERT and values per IN list (keeps statements well under every parameter limit). */
const CHUNK = 100;

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function json(value: unknown): unknown {
  return value === null || value === undefined ? null : JSON.parse(String(value));
}

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function marks(count: number, width = 1): string {
  const one = width === 1 ? '?' : `(${new Array(width).fill('?').join(', ')})`;
  return new Array(count).fill(one).join(', ');
}

const ROLLOUT_COLUMNS =
  'id, flag, environment, treatment, control, state, stage, reach, attempt, guardrails, metrics, plan, state_doc, traffic, revision, created_at, updated_at';

function toRollout(row: Row): RolloutRecord {
  return {
    id: String(row.id),
    flag: String(row.flag),
    environment: String(row.environment),
    treatment: String(row.treatment),
    control: String(row.control),
    state: String(row.state) as RolloutStatus,
    stage: num(row.stage),
    reach: num(row.reach),
    attempt: num(row.attempt),
    guardrails: json(row.guardrails) as string[],
    metrics: json(row.metrics) as MetricDefinition[],
    plan: json(row.plan),
    stateDoc: json(row.state_doc),
    traffic: json(row.traffic) as RolloutTraffic | null,
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function rolloutParams(r: RolloutRecord): unknown[] {
  return [
    r.id,
    r.flag,
    r.environment,
    r.treatment,
    r.control,
    r.state,
    r.stage,
    r.reach,
    r.attempt,
    JSON.stringify(r.guardrails),
    JSON.stringify(r.metrics),
    r.plan === undefined || r.plan === null ? null : JSON.stringify(r.plan),
    r.stateDoc === undefined || r.stateDoc === null ? null : JSON.stringify(r.stateDoc),
    r.traffic === undefined || r.traffic === null ? null : JSON.stringify(r.traffic),
  ];
}

function toAnalysed(r: RolloutRecord): AnalysedRollout {
  return {
    id: r.id,
    attempt: r.attempt,
    stage: r.stage,
    flag: r.flag,
    treatment: r.treatment,
    control: r.control,
    metrics: r.metrics,
  };
}

/** Helpers of sql-stores.ts the analysis stores share. */
export interface SqlShared {
  appendAudit(tx: SqlExecutor, input: AuditInput): Promise<void>;
  bumpAll(tx: SqlExecutor, at: number): Promise<ConfigChange[]>;
}

/** A keyed JSON document table (metrics, surfaces) with revisions and audit. */
function documentStore<T extends { key: string }>(
  driver: SqlDriver,
  shared: SqlShared,
  table: 'metrics' | 'surfaces',
  what: string,
) {
  type Rec = { doc: T; revision: number; createdAt: number; updatedAt: number };
  const toRec = (row: Row): Rec => ({
    doc: json(row.document) as T,
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  });
  const cols = 'key, document, revision, created_at, updated_at';
  const missingOrConflict = async (tx: SqlExecutor, key: string) => {
    const [exists] = await tx.all(`SELECT revision FROM ${table} WHERE key = ?`, [key]);
    if (!exists) return new StoreNotFoundError(`${what} ${key} not found`);
    return new StoreConflictError(`${what} ${key} was changed concurrently`);
  };
  return {
    async list(): Promise<Rec[]> {
      return (await driver.all(`SELECT ${cols} FROM ${table} ORDER BY key`)).map(toRec);
    },
    async get(key: string): Promise<Rec | undefined> {
      const [row] = await driver.all(`SELECT ${cols} FROM ${table} WHERE key = ?`, [key]);
      return row ? toRec(row) : undefined;
    },
    async create(doc: T, audit: AuditInput): Promise<Rec> {
      try {
        return await driver.transaction(async (tx) => {
          const [row] = await tx.all(
            `INSERT INTO ${table} (${cols}) VALUES (?, ?, 1, ?, ?) RETURNING ${cols}`,
            [doc.key, JSON.stringify(doc), audit.at, audit.at],
          );
          await shared.appendAudit(tx, audit);
          return toRec(row as Row);
        });
      } catch (error) {
        if (driver.isUniqueViolation(error)) throw new StoreConflictError(`${what} ${doc.key} exists`);
        throw error;
      }
    },
    async update(doc: T, options: { expectedRevision: number }, audit: AuditInput): Promise<Rec> {
      return driver.transaction(async (tx) => {
        const [row] = await tx.all(
          `UPDATE ${table} SET document = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ? RETURNING ${cols}`,
          [JSON.stringify(doc), audit.at, doc.key, options.expectedRevision],
        );
        if (!row) throw await missingOrConflict(tx, doc.key);
        await shared.appendAudit(tx, audit);
        return toRec(row);
      });
    },
    async delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<void> {
      await driver.transaction(async (tx) => {
        const changed = await tx.run(`DELETE FROM ${table} WHERE key = ? AND revision = ?`, [
          key,
          options.expectedRevision,
        ]);
        if (changed === 0) throw await missingOrConflict(tx, key);
        await shared.appendAudit(tx, audit);
      });
    },
  };
}

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
    async analysedRollouts(environment) {
      const rows = await tx.all(
        `SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE environment = ? AND state IN (${marks(ANALYSED_ROLLOUT_STATUSES.length)}) ORDER BY id`,
        [environment, ...ANALYSED_ROLLOUT_STATUSES],
      );
      return rows.map((r) => toAnalysed(toRollout(r)));
    },
    async lockRollouts(ids) {
      await driver.lockKeys(
        tx,
        ids.map((id) => `rollout:${id}`),
      );
    },
    async loadEpochs(rollout, units) {
      const out = new Map<string, UnitEpochs>();
      for (const part of chunks(units)) {
        const rows = await tx.all(
          `SELECT unit, arm, cohort, start_at, end_at, vals FROM epochs WHERE rollout_id = ? AND attempt = ? AND unit IN (${marks(part.length)})`,
          [rollout.id, rollout.attempt, ...part],
        );
        for (const row of rows) {
          const unit = String(row.unit);
          const state = out.get(unit) ?? {};
          state[String(row.arm) as ArmName] = {
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
          `SELECT unit, name, ts, value FROM track_events WHERE environment = ? AND unit IN (${marks(part.length)}) AND ts >= ?`,
          [environment, ...part, from],
        );
        for (const row of rows) {
          const unit = String(row.unit);
          const list = out.get(unit) ?? [];
          list.push({
            name: String(row.name),
            ts: num(row.ts),
            value: row.value === null || row.value === undefined ? null : num(row.value),
          });
          out.set(unit, list);
        }
      }
      return out;
    },
    async insertTracks(environment, tracks: readonly TrackInput[]) {
      for (const part of chunks(tracks)) {
        const params: unknown[] = [];
        for (const t of part) params.push(environment, t.unit, t.name, t.ts, t.value);
        await tx.run(
          `INSERT INTO track_events (environment, unit, name, ts, value) VALUES ${marks(part.length, 5)}`,
          params,
        );
      }
    },
    async writeChanges(rollout, changes: AnalysisChanges) {
      for (const part of chunks(changes.upserts)) {
        const params: unknown[] = [];
        for (const { unit, arm, epoch } of part)
          params.push(
            rollout.id,
            rollout.attempt,
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
          rollout.id,
          rollout.attempt,
          d.unit,
          d.arm,
        ]);
      for (const s of changes.stats)
        await tx.run(
          `INSERT INTO cohort_stats (rollout_id, attempt, cohort, arm, metric, n, sum_y, sum_y2, sum_d, sum_d2, sum_yd)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (rollout_id, attempt, cohort, arm, metric) DO UPDATE SET n = cohort_stats.n + excluded.n,
             sum_y = cohort_stats.sum_y + excluded.sum_y, sum_y2 = cohort_stats.sum_y2 + excluded.sum_y2,
             sum_d = cohort_stats.sum_d + excluded.sum_d, sum_d2 = cohort_stats.sum_d2 + excluded.sum_d2,
             sum_yd = cohort_stats.sum_yd + excluded.sum_yd`,
          [
            rollout.id,
            rollout.attempt,
            s.cohort,
            s.arm,
            s.metric,
            s.n,
            s.sumY,
            s.sumY2,
            s.sumD,
            s.sumD2,
            s.sumYD,
          ],
        );
      for (const u of changes.units)
        await tx.run(
          `INSERT INTO cohort_units (rollout_id, attempt, cohort, arm, epochs, assigned) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (rollout_id, attempt, cohort, arm) DO UPDATE SET epochs = cohort_units.epochs + excluded.epochs,
             assigned = cohort_units.assigned + excluded.assigned`,
          [rollout.id, rollout.attempt, u.cohort, u.arm, u.epochs, u.assigned],
        );
    },
  };
}

/** Builds the metric, surface, rollout and event stores over a migrated driver. */
export function createSqlAnalysisStores(
  driver: SqlDriver,
  shared: SqlShared,
): { metrics: MetricsStore; surfaces: SurfacesStore; rollouts: RolloutsStore; events: EventsStore } {
  const metricDocs = documentStore<MetricDefinition>(driver, shared, 'metrics', 'metric');
  const surfaceDocs = documentStore<Surface>(driver, shared, 'surfaces', 'surface');
  async function updateRollout(tx: SqlExecutor, record: RolloutRecord, expectedRevision: number, at: number) {
    const [row] = await tx.all(
      `UPDATE rollouts SET flag = ?, environment = ?, treatment = ?, control = ?, state = ?, stage = ?, reach = ?,
         attempt = ?, guardrails = ?, metrics = ?, plan = ?, state_doc = ?, traffic = ?, revision = revision + 1, updated_at = ?
       WHERE id = ? AND revision = ? RETURNING ${ROLLOUT_COLUMNS}`,
      [...rolloutParams(record).slice(1), at, record.id, expectedRevision],
    );
    if (row) return toRollout(row);
    const [exists] = await tx.all('SELECT revision FROM rollouts WHERE id = ?', [record.id]);
    if (!exists) throw new StoreNotFoundError(`rollout ${record.id} not found`);
    throw new StoreConflictError(`rollout ${record.id} was changed concurrently`);
  }

  const conflictOnUnique = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (driver.isUniqueViolation(error)) throw new StoreConflictError(what);
      throw error;
    }
  };

  return {
    ...metricAndSurfaceStores(metricDocs, surfaceDocs),
    rollouts: {
      async create(record, audit) {
        return conflictOnUnique(`rollout ${record.id} exists, or another rollout is active on the flag`, () =>
          driver.transaction(async (tx) => {
            const [env] = await tx.all('SELECT key FROM environments WHERE key = ?', [record.environment]);
            if (!env) throw new StoreNotFoundError(`environment ${record.environment} not found`);
            const [row] = await tx.all(
              `INSERT INTO rollouts (${ROLLOUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${ROLLOUT_COLUMNS}`,
              [...rolloutParams(record), audit.at, audit.at],
            );
            await shared.appendAudit(tx, audit);
            return toRollout(row as Row);
          }),
        );
      },
      async get(id) {
        const [row] = await driver.all(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = ?`, [id]);
        return row ? toRollout(row) : undefined;
      },
      async list(filter = {}) {
        const where: string[] = [];
        const params: unknown[] = [];
        if (filter.environment !== undefined) {
          where.push('environment = ?');
          params.push(filter.environment);
        }
        if (filter.flag !== undefined) {
          where.push('flag = ?');
          params.push(filter.flag);
        }
        const rows = await driver.all(
          `SELECT ${ROLLOUT_COLUMNS} FROM rollouts${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`,
          params,
        );
        return rows.map(toRollout);
      },
      async listActive(environment) {
        const rows = await driver.all(
          `SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE environment = ? AND state IN (${marks(ACTIVE_ROLLOUT_STATUSES.length)}) ORDER BY created_at, id`,
          [environment, ...ACTIVE_ROLLOUT_STATUSES],
        );
        return rows.map(toRollout);
      },
      async update(record, options, audit) {
        return conflictOnUnique('another rollout is active on the flag', () =>
          driver.transaction(async (tx) => {
            const updated = await updateRollout(tx, record, options.expectedRevision, audit.at);
            await shared.appendAudit(tx, audit);
            return updated;
          }),
        );
      },
      async updateWithFlag(record, options, audits) {
        const at = audits[0]?.at ?? record.updatedAt;
        return conflictOnUnique('another rollout is active on the flag', () =>
          driver.transaction(async (tx) => {
            const value = await updateRollout(tx, record, options.expectedRevision, at);
            const flag: FlagConfig = options.flag;
            const changed = await tx.run(
              'UPDATE flags SET document = ?, description = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ?',
              [JSON.stringify(flag), flag.description ?? '', at, flag.key, options.flagRevision],
            );
            if (changed === 0) throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
            for (const audit of audits) await shared.appendAudit(tx, audit);
            return { value, changes: await shared.bumpAll(tx, at) };
          }),
        );
      },
      async commit(record, options, audits) {
        const at = audits[0]?.at ?? options.decision?.at ?? record.updatedAt;
        return conflictOnUnique('another rollout is active on the flag', () =>
          driver.transaction(async (tx) => {
            const rollout = await updateRollout(tx, record, options.expectedRevision, at);
            let changes: ConfigChange[] = [];
            if (options.flag !== undefined) {
              const flag: FlagConfig = options.flag.document;
              const changed = await tx.run(
                'UPDATE flags SET document = ?, description = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ?',
                [JSON.stringify(flag), flag.description ?? '', at, flag.key, options.flag.revision],
              );
              if (changed === 0) throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
            }
            let decisionId: number | null = null;
            const d = options.decision;
            if (d !== undefined) {
              const [row] = await tx.all(
                `INSERT INTO rollout_decisions (rollout_id, attempt, at, action, rule, reason, applied, evidence)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
                [
                  d.rollout,
                  d.attempt,
                  d.at,
                  d.action,
                  d.rule,
                  d.reason,
                  d.applied ? 1 : 0,
                  JSON.stringify(d.evidence),
                ],
              );
              decisionId = num(row?.id);
            }
            for (const audit of audits) await shared.appendAudit(tx, audit);
            if (options.flag !== undefined) changes = await shared.bumpAll(tx, at);
            return { value: { rollout, decisionId }, changes };
          }),
        );
      },
      async listDecisions(id, page) {
        const rows = await driver.all(
          `SELECT id, rollout_id, attempt, at, action, rule, reason, applied, evidence FROM rollout_decisions
           WHERE rollout_id = ?${page.beforeId !== undefined ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`,
          page.beforeId !== undefined ? [id, page.beforeId, page.limit] : [id, page.limit],
        );
        return rows.map(
          (r): DecisionRecord => ({
            id: num(r.id),
            rollout: String(r.rollout_id),
            attempt: num(r.attempt),
            at: num(r.at),
            action: String(r.action) as DecisionRecord['action'],
            rule: String(r.rule),
            reason: String(r.reason),
            applied: r.applied === true || num(r.applied) === 1,
            evidence: json(r.evidence) as Record<string, unknown>,
          }),
        );
      },
      async readAnalysis(id, attempt) {
        return driver.transaction(
          async (tx) => {
            const stats = await tx.all(
              'SELECT cohort, arm, metric, n, sum_y, sum_y2, sum_d, sum_d2, sum_yd FROM cohort_stats WHERE rollout_id = ? AND attempt = ? ORDER BY cohort, arm, metric',
              [id, attempt],
            );
            const units = await tx.all(
              'SELECT cohort, arm, epochs, assigned FROM cohort_units WHERE rollout_id = ? AND attempt = ? ORDER BY cohort, arm',
              [id, attempt],
            );
            return {
              stats: stats.map((r) => ({
                cohort: num(r.cohort),
                arm: String(r.arm) as ArmName,
                metric: String(r.metric),
                n: num(r.n),
                sumY: num(r.sum_y),
                sumY2: num(r.sum_y2),
                sumD: num(r.sum_d),
                sumD2: num(r.sum_d2),
                sumYD: num(r.sum_yd),
              })),
              units: units.map((r) => ({
                cohort: num(r.cohort),
                arm: String(r.arm) as ArmName,
                epochs: num(r.epochs),
                assigned: num(r.assigned),
              })),
            };
          },
          { readOnly: true },
        );
      },
    },
    events: {
      async ingest(batches, at) {
        return driver.transaction((tx) => runIngest(sqlIngestIo(tx, driver), batches, at));
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
    },
  };
}
