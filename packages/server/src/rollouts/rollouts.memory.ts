/** The rollouts port in memory (unit tests): rollouts, their decisions and their analysis tables. */
import { environmentsTouched, FLAGS_TABLE, type FlagRecord } from '../flags/index.ts';
import {
  byCreation,
  copy,
  ENVIRONMENTS_TABLE,
  type MemoryDatabase,
} from '../storage/memory/memory-database.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import { lookOf } from './chart.ts';
import {
  ACTIVE_ROLLOUT_STATUSES,
  type CohortStatsRow,
  type CohortUnitsRow,
  type DecisionRecord,
  foldsInto,
  type LookRecord,
  type QuantileStatsRow,
  type RolloutRecord,
  type RolloutsStore,
} from './rollouts.store.ts';
import { appendOutbox } from './webhooks.memory.ts';

/** The in-memory table of rollout records, by id. */
export const ROLLOUTS_TABLE = 'rollouts';
/** The in-memory table of cohort statistics (written by event ingestion, read by the analysis). */
export const COHORT_STATS_TABLE = 'cohort_stats';
/** The in-memory table of cohort unit counts (written by event ingestion, read by the analysis). */
export const COHORT_UNITS_TABLE = 'cohort_units';

/** The in-memory table of quantile metrics' statistics (written by event ingestion, read by the analysis). */
export const QUANTILE_STATS_TABLE = 'quantile_stats';

/** A quantile statistics row of one rollout attempt. */
export type MemoryQuantileStats = QuantileStatsRow & { attempt: number; rollout: string };

/** A cohort statistics row of one rollout attempt. */
export type MemoryCohortStats = CohortStatsRow & { attempt: number; rollout: string };
/** A cohort unit count row of one rollout attempt. */
export type MemoryCohortUnits = CohortUnitsRow & { attempt: number; rollout: string };

/** The rollouts store over the shared in-memory database. */
export function createMemoryRolloutsStore(db: MemoryDatabase): RolloutsStore {
  const rollouts = db.table<RolloutRecord>(ROLLOUTS_TABLE);
  const flags = db.table<FlagRecord>(FLAGS_TABLE);
  const environments = db.table<unknown>(ENVIRONMENTS_TABLE);
  const stats = db.table<MemoryCohortStats>(COHORT_STATS_TABLE);
  const unitCounts = db.table<MemoryCohortUnits>(COHORT_UNITS_TABLE);
  const quantileStats = db.table<MemoryQuantileStats>(QUANTILE_STATS_TABLE);
  const decisions = db.table<DecisionRecord>('rollout_decisions');
  const looks = db.table<LookRecord>('rollout_looks');
  let nextDecisionId = 1;
  let nextLookId = 1;
  const ofRollout = (id: string) => [...decisions.values()].filter((d) => d.rollout === id);

  const activeOn = (flag: string, environment: string, except: string) =>
    [...rollouts.values()].some(
      (r) =>
        r.id !== except &&
        r.flag === flag &&
        r.environment === environment &&
        ACTIVE_ROLLOUT_STATUSES.includes(r.state),
    );

  function nextRollout(record: RolloutRecord, expectedRevision: number, at: number): RolloutRecord {
    const old = rollouts.get(record.id);
    if (!old) throw new StoreNotFoundError(`rollout ${record.id} not found`);
    if (old.revision !== expectedRevision)
      throw new StoreConflictError(`rollout ${record.id} was changed concurrently`);
    if (
      ACTIVE_ROLLOUT_STATUSES.includes(record.state) &&
      activeOn(record.flag, record.environment, record.id)
    )
      throw new StoreConflictError('another rollout is active on the flag');
    return { ...copy(record), revision: old.revision + 1, createdAt: old.createdAt, updatedAt: at };
  }

  return {
    async create(record, audit) {
      db.checkOpen();
      if (!environments.has(record.environment))
        throw new StoreNotFoundError(`environment ${record.environment} not found`);
      if (rollouts.has(record.id)) throw new StoreConflictError(`rollout ${record.id} exists`);
      if (
        ACTIVE_ROLLOUT_STATUSES.includes(record.state) &&
        activeOn(record.flag, record.environment, record.id)
      )
        throw new StoreConflictError('another rollout is active on the flag');
      const stored = { ...copy(record), revision: 1, createdAt: audit.at, updatedAt: audit.at };
      rollouts.set(record.id, stored);
      db.appendAudit(audit);
      return copy(stored);
    },
    async get(id) {
      return copy(rollouts.get(id));
    },
    async list(filter = {}) {
      return [...rollouts.values()]
        .filter((r) => filter.environment === undefined || r.environment === filter.environment)
        .filter((r) => filter.flag === undefined || r.flag === filter.flag)
        .sort(byCreation)
        .map(copy);
    },
    async listActive(environment) {
      return [...rollouts.values()]
        .filter((r) => r.environment === environment && ACTIVE_ROLLOUT_STATUSES.includes(r.state))
        .sort(byCreation)
        .map(copy);
    },
    async update(record, options, audit) {
      db.checkOpen();
      const next = nextRollout(record, options.expectedRevision, audit.at);
      rollouts.set(record.id, next);
      db.appendAudit(audit);
      return copy(next);
    },
    async updateWithFlag(record, options, audits) {
      db.checkOpen();
      const at = audits[0]?.at ?? record.updatedAt;
      const next = nextRollout(record, options.expectedRevision, at);
      const flag = flags.get(options.flag.key);
      if (!flag) throw new StoreNotFoundError(`flag ${options.flag.key} not found`);
      if (flag.revision !== options.flagRevision)
        throw new StoreConflictError(`flag ${options.flag.key} was changed concurrently`);
      rollouts.set(record.id, next);
      flags.set(flag.flag.key, {
        ...flag,
        flag: copy(options.flag),
        revision: flag.revision + 1,
        updatedAt: at,
      });
      for (const audit of audits) db.appendAudit(audit);
      const touched = environmentsTouched(
        flag,
        { flag: options.flag, archived: flag.archived },
        db.environmentKeys(),
      );
      return { value: copy(next), changes: db.bump(at, touched) };
    },
    async commit(record, options, audits) {
      db.checkOpen();
      const at = audits[0]?.at ?? options.decision?.at ?? record.updatedAt;
      const next = nextRollout(record, options.expectedRevision, at);
      const flagWrite = options.flag;
      let flag: FlagRecord | undefined;
      if (flagWrite !== undefined) {
        flag = flags.get(flagWrite.document.key);
        if (!flag) throw new StoreNotFoundError(`flag ${flagWrite.document.key} not found`);
        if (flag.revision !== flagWrite.revision)
          throw new StoreConflictError(`flag ${flagWrite.document.key} was changed concurrently`);
      }
      rollouts.set(record.id, next);
      let changes: ConfigChange[] = [];
      if (flagWrite !== undefined && flag !== undefined) {
        flags.set(flag.flag.key, {
          ...flag,
          flag: copy(flagWrite.document),
          revision: flag.revision + 1,
          updatedAt: at,
        });
        const touched = environmentsTouched(
          flag,
          { flag: flagWrite.document, archived: flag.archived },
          db.environmentKeys(),
        );
        changes = db.bump(at, touched);
      }
      let decision: DecisionRecord | null = null;
      const d = options.decision;
      if (d !== undefined) {
        const mine = ofRollout(d.rollout);
        const seq = mine.reduce((max, r) => Math.max(max, r.seq), 0) + 1;
        const newest = mine.reduce<DecisionRecord | undefined>(
          (a, r) => (a === undefined || r.id > a.id ? r : a),
          undefined,
        );
        decision =
          newest !== undefined && foldsInto(newest, d)
            ? { ...copy(d), id: newest.id, count: newest.count + 1, firstAt: newest.firstAt, seq }
            : { ...copy(d), id: nextDecisionId++, count: 1, firstAt: d.at, seq };
        decisions.set(String(decision.id), decision);
        const look = { ...lookOf(d), id: nextLookId++ };
        looks.set(String(look.id), look);
      }
      for (const audit of audits) db.appendAudit(audit);
      if (options.outbox !== undefined) appendOutbox(db, options.outbox(decision?.id ?? null));
      return { value: { rollout: copy(next), decision: copy(decision) }, changes };
    },
    async listDecisions(id, page) {
      const rows = ofRollout(id).filter(
        (d) =>
          (page.actions === undefined || page.actions.includes(d.action)) &&
          (page.beforeId === undefined || d.id < page.beforeId) &&
          (page.afterSeq === undefined || d.seq > page.afterSeq),
      );
      rows.sort(page.afterSeq === undefined ? (a, b) => b.id - a.id : (a, b) => a.seq - b.seq);
      return rows.slice(0, page.limit).map(copy);
    },
    async decisionCursor(id) {
      return ofRollout(id).reduce((max, r) => Math.max(max, r.seq), 0);
    },
    async listLooks(id, query = {}) {
      return [...looks.values()]
        .filter((l) => l.rollout === id && (query.afterId === undefined || l.id > query.afterId))
        .sort((a, b) => a.id - b.id)
        .map(copy);
    },
    async readAnalysis(id, attempt) {
      const pick = <T extends { rollout: string; attempt: number }>(rows: Iterable<T>) =>
        [...rows].filter((r) => r.rollout === id && r.attempt === attempt);
      const order = (a: { cohort: number; arm: string }, b: { cohort: number; arm: string }) =>
        a.cohort - b.cohort || (a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : 0);
      return {
        stats: pick(stats.values())
          .sort((a, b) => order(a, b) || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0))
          .map(({ rollout: _r, attempt: _a, ...row }) => ({ ...row })),
        units: pick(unitCounts.values())
          .sort(order)
          .map(({ rollout: _r, attempt: _a, ...row }) => ({ ...row })),
        quantiles: pick(quantileStats.values())
          .sort((a, b) => order(a, b) || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0))
          .map(({ rollout: _r, attempt: _a, ...row }) => copy(row)),
      };
    },
  };
}
