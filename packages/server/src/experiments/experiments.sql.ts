/** The experiments port over SQL (SQLite and PostgreSQL): experiments and their recorded results. */
import type { MetricDefinition } from '../metrics/index.ts';
import type { Row, SqlDriver, SqlExecutor } from '../storage/sql/sql-driver.ts';
import { json, num, whereClause } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type {
  ExperimentRecord,
  ExperimentStatus,
  ExperimentsStore,
  ExperimentTrafficInput,
} from './experiments.store.ts';

const COLUMNS =
  'id, flag, environment, status, metrics, plan, state_doc, traffic, auto_abort, rollout, revision, created_at, updated_at';

const bool = (x: unknown) => x === true || num(x) === 1;

function toExperiment(row: Row): ExperimentRecord {
  return {
    id: String(row.id),
    flag: String(row.flag),
    environment: String(row.environment),
    status: String(row.status) as ExperimentStatus,
    metrics: json(row.metrics) as MetricDefinition[],
    plan: json(row.plan),
    stateDoc: json(row.state_doc),
    traffic: json(row.traffic) as ExperimentTrafficInput | null,
    autoAbort: bool(row.auto_abort),
    rollout: row.rollout === null || row.rollout === undefined ? null : String(row.rollout),
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function params(e: ExperimentRecord, dialectBool: (b: boolean) => unknown): unknown[] {
  return [
    e.id,
    e.flag,
    e.environment,
    e.status,
    JSON.stringify(e.metrics),
    JSON.stringify(e.plan),
    JSON.stringify(e.stateDoc),
    e.traffic === null ? null : JSON.stringify(e.traffic),
    dialectBool(e.autoAbort),
    e.rollout,
  ];
}

/** The experiments store over a migrated driver. */
export function createSqlExperimentsStore(driver: SqlDriver, writes: SqlWrites): ExperimentsStore {
  const sqlBool = (b: boolean) => (driver.dialect === 'postgres' ? b : b ? 1 : 0);

  async function update(tx: SqlExecutor, record: ExperimentRecord, expectedRevision: number, at: number) {
    const [row] = await tx.all(
      `UPDATE experiments SET flag = ?, environment = ?, status = ?, metrics = ?, plan = ?, state_doc = ?, traffic = ?,
         auto_abort = ?, rollout = ?, revision = revision + 1, updated_at = ?
       WHERE id = ? AND revision = ? RETURNING ${COLUMNS}`,
      [...params(record, sqlBool).slice(1), at, record.id, expectedRevision],
    );
    if (row) return toExperiment(row);
    const [exists] = await tx.all('SELECT revision FROM experiments WHERE id = ?', [record.id]);
    if (!exists) throw new StoreNotFoundError(`experiment ${record.id} not found`);
    throw new StoreConflictError(`experiment ${record.id} was changed concurrently`);
  }

  return {
    async create(record, audit) {
      return writes.conflictOnUnique(`experiment ${record.id} exists`, () =>
        driver.transaction(async (tx) => {
          const [env] = await tx.all('SELECT key FROM environments WHERE key = ?', [record.environment]);
          if (!env) throw new StoreNotFoundError(`environment ${record.environment} not found`);
          const [row] = await tx.all(
            `INSERT INTO experiments (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${COLUMNS}`,
            [...params(record, sqlBool), audit.at, audit.at],
          );
          await writes.appendAudit(tx, audit);
          return toExperiment(row as Row);
        }),
      );
    },
    async get(id) {
      const [row] = await driver.all(`SELECT ${COLUMNS} FROM experiments WHERE id = ?`, [id]);
      return row ? toExperiment(row) : undefined;
    },
    async list(filter = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.environment !== undefined) {
        where.push('environment = ?');
        args.push(filter.environment);
      }
      if (filter.flag !== undefined) {
        where.push('flag = ?');
        args.push(filter.flag);
      }
      const rows = await driver.all(
        `SELECT ${COLUMNS} FROM experiments${whereClause(where)} ORDER BY created_at, id`,
        args,
      );
      return rows.map(toExperiment);
    },
    async commit(record, options, audits) {
      const at = audits[0]?.at ?? options.result?.at ?? record.updatedAt;
      return writes.conflictOnUnique('another experiment is running on the flag', () =>
        driver.transaction(async (tx) => {
          const value = await update(tx, record, options.expectedRevision, at);
          let changes: ConfigChange[] = [];
          if (options.flag !== undefined) {
            const flag = options.flag.document;
            const changed = await tx.run(
              'UPDATE flags SET document = ?, description = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ?',
              [JSON.stringify(flag), flag.description ?? '', at, flag.key, options.flag.revision],
            );
            if (changed === 0) throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
          }
          const r = options.result;
          if (r !== undefined)
            await tx.run(
              'INSERT INTO experiment_results (experiment_id, at, recommendation, applied, decision) VALUES (?, ?, ?, ?, ?)',
              [r.experiment, r.at, r.recommendation, sqlBool(r.applied), JSON.stringify(r.decision)],
            );
          for (const audit of audits) await writes.appendAudit(tx, audit);
          if (options.flag !== undefined) changes = await writes.bumpAll(tx, at);
          return { value, changes };
        }),
      );
    },
    async latestResult(id) {
      const [r] = await driver.all(
        'SELECT id, experiment_id, at, recommendation, applied, decision FROM experiment_results WHERE experiment_id = ? ORDER BY id DESC LIMIT 1',
        [id],
      );
      if (!r) return undefined;
      return {
        id: num(r.id),
        experiment: String(r.experiment_id),
        at: num(r.at),
        recommendation: String(r.recommendation),
        applied: bool(r.applied),
        decision: json(r.decision) as Record<string, unknown>,
      };
    },
  };
}
