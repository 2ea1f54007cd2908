/** The experiments port in memory (unit tests): experiments and their recorded results. */
import { FLAGS_TABLE, type FlagRecord } from '../flags/index.ts';
import {
  byCreation,
  copy,
  ENVIRONMENTS_TABLE,
  type MemoryDatabase,
} from '../storage/memory/memory-database.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import {
  ACTIVE_EXPERIMENT_STATUSES,
  type ExperimentRecord,
  type ExperimentResultRecord,
  type ExperimentsStore,
} from './experiments.store.ts';

/** The in-memory table of experiment records, by id. */
export const EXPERIMENTS_TABLE = 'experiments';

/** The experiments store over the shared in-memory database. */
export function createMemoryExperimentsStore(db: MemoryDatabase): ExperimentsStore {
  const experiments = db.table<ExperimentRecord>(EXPERIMENTS_TABLE);
  const flags = db.table<FlagRecord>(FLAGS_TABLE);
  const environments = db.table<unknown>(ENVIRONMENTS_TABLE);
  const results = db.table<ExperimentResultRecord>('experiment_results');

  const runningOn = (record: ExperimentRecord) =>
    ACTIVE_EXPERIMENT_STATUSES.includes(record.status) &&
    [...experiments.values()].some(
      (e) =>
        e.id !== record.id &&
        e.flag === record.flag &&
        e.environment === record.environment &&
        ACTIVE_EXPERIMENT_STATUSES.includes(e.status),
    );

  return {
    async create(record, audit) {
      db.checkOpen();
      if (!environments.has(record.environment))
        throw new StoreNotFoundError(`environment ${record.environment} not found`);
      if (experiments.has(record.id)) throw new StoreConflictError(`experiment ${record.id} exists`);
      const stored = { ...copy(record), revision: 1, createdAt: audit.at, updatedAt: audit.at };
      experiments.set(record.id, stored);
      db.appendAudit(audit);
      return copy(stored);
    },
    async get(id) {
      return copy(experiments.get(id));
    },
    async list(filter = {}) {
      return [...experiments.values()]
        .filter((e) => filter.environment === undefined || e.environment === filter.environment)
        .filter((e) => filter.flag === undefined || e.flag === filter.flag)
        .sort(byCreation)
        .map(copy);
    },
    async commit(record, options, audits) {
      db.checkOpen();
      const at = audits[0]?.at ?? options.result?.at ?? record.updatedAt;
      const old = experiments.get(record.id);
      if (!old) throw new StoreNotFoundError(`experiment ${record.id} not found`);
      if (old.revision !== options.expectedRevision)
        throw new StoreConflictError(`experiment ${record.id} was changed concurrently`);
      if (runningOn(record)) throw new StoreConflictError('another experiment is running on the flag');
      const flagWrite = options.flag;
      let flag: FlagRecord | undefined;
      if (flagWrite !== undefined) {
        flag = flags.get(flagWrite.document.key);
        if (!flag) throw new StoreNotFoundError(`flag ${flagWrite.document.key} not found`);
        if (flag.revision !== flagWrite.revision)
          throw new StoreConflictError(`flag ${flagWrite.document.key} was changed concurrently`);
      }
      const next = { ...copy(record), revision: old.revision + 1, createdAt: old.createdAt, updatedAt: at };
      experiments.set(record.id, next);
      let changes: ConfigChange[] = [];
      if (flagWrite !== undefined && flag !== undefined) {
        flags.set(flag.flag.key, {
          ...flag,
          flag: copy(flagWrite.document),
          revision: flag.revision + 1,
          updatedAt: at,
        });
        changes = db.bumpAll(at);
      }
      if (options.result !== undefined) {
        const id = results.size + 1;
        results.set(String(id), { ...copy(options.result), id });
      }
      for (const audit of audits) db.appendAudit(audit);
      return { value: copy(next), changes };
    },
    async latestResult(id) {
      const all = [...results.values()];
      for (let i = all.length - 1; i >= 0; i--) {
        const r = all[i] as ExperimentResultRecord;
        if (r.experiment === id) return copy(r);
      }
      return undefined;
    },
  };
}
