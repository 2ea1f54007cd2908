/** The rollouts port over SQL (SQLite and PostgreSQL): rollouts, their decisions and their analysis tables. */
import type { FlagConfig } from '@dimmer/core';
import { environmentsTouched, type FlagState } from '../flags/index.ts';
import type { MetricDefinition } from '../metrics/index.ts';
import type { Row, SqlDriver, SqlExecutor } from '../storage/sql/sql-driver.ts';
import { json, marks, num, numOrNull, whereClause } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import { lookOf, lookPoints } from './chart.ts';
import {
  ACTIVE_ROLLOUT_STATUSES,
  type ArmName,
  type CohortStatsRow,
  type DecisionRecord,
  foldsInto,
  type LookPoint,
  type LookRecord,
  type RolloutRecord,
  type RolloutStatus,
  type RolloutsStore,
  type RolloutTraffic,
} from './rollouts.store.ts';
import { insertOutbox } from './webhooks.sql.ts';

const ROLLOUT_COLUMNS =
  'id, flag, environment, treatment, control, state, stage, reach, attempt, guardrails, metrics, plan, state_doc, traffic, revision, created_at, updated_at';

const DECISION_COLUMNS =
  'id, rollout_id, attempt, at, action, rule, reason, applied, evidence, count, first_at, seq';

function toDecision(r: Row): DecisionRecord {
  return {
    id: num(r.id),
    rollout: String(r.rollout_id),
    attempt: num(r.attempt),
    at: num(r.at),
    count: num(r.count),
    firstAt: num(r.first_at),
    seq: num(r.seq),
    action: String(r.action) as DecisionRecord['action'],
    rule: String(r.rule),
    reason: String(r.reason),
    applied: r.applied === true || num(r.applied) === 1,
    evidence: json(r.evidence) as Record<string, unknown>,
  };
}

function toLook(r: Row): LookRecord {
  // Looks copied from decisions stored before looks were kept carry the whole evidence instead of points.
  const points =
    r.points === null || r.points === undefined
      ? lookPoints((json(r.evidence) ?? {}) as Record<string, unknown>)
      : (json(r.points) as Record<string, LookPoint>);
  return {
    id: num(r.id),
    rollout: String(r.rollout_id),
    attempt: num(r.attempt),
    at: num(r.at),
    stage: num(r.stage),
    reach: num(r.reach),
    action: String(r.action) as LookRecord['action'],
    applied: r.applied === true || num(r.applied) === 1,
    points,
  };
}

/** The third-order sums of a `cohort_stats` row; a NULL column (a row older than them) is left out. */
function thirdOrderSums(row: Row): Pick<CohortStatsRow, 'sumY3' | 'sumY2D' | 'sumYD2' | 'sumD3'> {
  const out: Pick<CohortStatsRow, 'sumY3' | 'sumY2D' | 'sumYD2' | 'sumD3'> = {};
  const y3 = numOrNull(row.sum_y3);
  const y2d = numOrNull(row.sum_y2d);
  const yd2 = numOrNull(row.sum_yd2);
  const d3 = numOrNull(row.sum_d3);
  if (y3 !== null) out.sumY3 = y3;
  if (y2d !== null) out.sumY2D = y2d;
  if (yd2 !== null) out.sumYD2 = yd2;
  if (d3 !== null) out.sumD3 = d3;
  return out;
}

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

/** The rollouts store over a migrated driver. */
export function createSqlRolloutsStore(driver: SqlDriver, writes: SqlWrites): RolloutsStore {
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

  /** The flag's stored state before this transaction's write. */
  async function flagState(tx: SqlExecutor, key: string): Promise<FlagState | undefined> {
    const [row] = await tx.all('SELECT document, archived FROM flags WHERE key = ?', [key]);
    return row === undefined
      ? undefined
      : { flag: json(row.document) as FlagConfig, archived: num(row.archived) === 1 };
  }

  /** Bumps the environments whose config the flag write changed (the flag's archived state is unchanged). */
  async function bumpTouched(tx: SqlExecutor, at: number, before: FlagState | undefined, flag: FlagConfig) {
    const after = { flag, archived: before?.archived ?? false };
    return writes.bump(tx, at, environmentsTouched(before, after, await writes.environmentKeys(tx)));
  }

  return {
    async create(record, audit) {
      return writes.conflictOnUnique(
        `rollout ${record.id} exists, or another rollout is active on the flag`,
        () =>
          driver.transaction(async (tx) => {
            const [env] = await tx.all('SELECT key FROM environments WHERE key = ?', [record.environment]);
            if (!env) throw new StoreNotFoundError(`environment ${record.environment} not found`);
            const [row] = await tx.all(
              `INSERT INTO rollouts (${ROLLOUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${ROLLOUT_COLUMNS}`,
              [...rolloutParams(record), audit.at, audit.at],
            );
            await writes.appendAudit(tx, audit);
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
        `SELECT ${ROLLOUT_COLUMNS} FROM rollouts${whereClause(where)} ORDER BY created_at, id`,
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
      return writes.conflictOnUnique('another rollout is active on the flag', () =>
        driver.transaction(async (tx) => {
          const updated = await updateRollout(tx, record, options.expectedRevision, audit.at);
          await writes.appendAudit(tx, audit);
          return updated;
        }),
      );
    },
    async updateWithFlag(record, options, audits) {
      const at = audits[0]?.at ?? record.updatedAt;
      return writes.conflictOnUnique('another rollout is active on the flag', () =>
        driver.transaction(async (tx) => {
          const value = await updateRollout(tx, record, options.expectedRevision, at);
          const flag: FlagConfig = options.flag;
          const before = await flagState(tx, flag.key);
          const changed = await tx.run(
            'UPDATE flags SET document = ?, description = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ?',
            [JSON.stringify(flag), flag.description ?? '', at, flag.key, options.flagRevision],
          );
          if (changed === 0) throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
          for (const audit of audits) await writes.appendAudit(tx, audit);
          return { value, changes: await bumpTouched(tx, at, before, flag) };
        }),
      );
    },
    async commit(record, options, audits) {
      const at = audits[0]?.at ?? options.decision?.at ?? record.updatedAt;
      return writes.conflictOnUnique('another rollout is active on the flag', () =>
        driver.transaction(async (tx) => {
          if (options.fence !== undefined) await driver.checkFence?.(tx, options.fence);
          const rollout = await updateRollout(tx, record, options.expectedRevision, at);
          let changes: ConfigChange[] = [];
          let before: FlagState | undefined;
          if (options.flag !== undefined) {
            const flag: FlagConfig = options.flag.document;
            before = await flagState(tx, flag.key);
            const changed = await tx.run(
              'UPDATE flags SET document = ?, description = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ?',
              [JSON.stringify(flag), flag.description ?? '', at, flag.key, options.flag.revision],
            );
            if (changed === 0) throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
          }
          let decision: DecisionRecord | null = null;
          const d = options.decision;
          if (d !== undefined) {
            const [newestRow] = await tx.all(
              `SELECT ${DECISION_COLUMNS} FROM rollout_decisions WHERE rollout_id = ? ORDER BY id DESC LIMIT 1`,
              [d.rollout],
            );
            const [top] = await tx.all(
              'SELECT COALESCE(MAX(seq), 0) AS seq FROM rollout_decisions WHERE rollout_id = ?',
              [d.rollout],
            );
            const seq = num(top?.seq) + 1;
            const newest = newestRow === undefined ? undefined : toDecision(newestRow);
            const [row] =
              newest !== undefined && foldsInto(newest, d)
                ? await tx.all(
                    `UPDATE rollout_decisions SET at = ?, reason = ?, evidence = ?, count = count + 1, seq = ?
                     WHERE id = ? RETURNING ${DECISION_COLUMNS}`,
                    [d.at, d.reason, JSON.stringify(d.evidence), seq, newest.id],
                  )
                : await tx.all(
                    `INSERT INTO rollout_decisions (rollout_id, attempt, at, action, rule, reason, applied, evidence, count, first_at, seq)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${DECISION_COLUMNS}`,
                    [
                      d.rollout,
                      d.attempt,
                      d.at,
                      d.action,
                      d.rule,
                      d.reason,
                      d.applied ? 1 : 0,
                      JSON.stringify(d.evidence),
                      d.at,
                      seq,
                    ],
                  );
            decision = toDecision(row as Row);
            const look = lookOf(d);
            await tx.run(
              `INSERT INTO rollout_looks (rollout_id, attempt, at, stage, reach, action, applied, points, evidence)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
              [
                look.rollout,
                look.attempt,
                look.at,
                look.stage,
                look.reach,
                look.action,
                look.applied ? 1 : 0,
                JSON.stringify(look.points),
              ],
            );
          }
          for (const audit of audits) await writes.appendAudit(tx, audit);
          if (options.outbox !== undefined) await insertOutbox(tx, options.outbox(decision?.id ?? null));
          if (options.flag !== undefined) changes = await bumpTouched(tx, at, before, options.flag.document);
          return { value: { rollout, decision }, changes };
        }),
      );
    },
    async listDecisions(id, page) {
      const where = ['rollout_id = ?'];
      const params: unknown[] = [id];
      if (page.beforeId !== undefined) {
        where.push('id < ?');
        params.push(page.beforeId);
      }
      if (page.afterSeq !== undefined) {
        where.push('seq > ?');
        params.push(page.afterSeq);
      }
      if (page.actions !== undefined) {
        where.push(`action IN (${marks(page.actions.length)})`);
        params.push(...page.actions);
      }
      const order = page.afterSeq === undefined ? 'id DESC' : 'seq';
      const rows = await driver.all(
        `SELECT ${DECISION_COLUMNS} FROM rollout_decisions${whereClause(where)} ORDER BY ${order} LIMIT ?`,
        [...params, page.limit],
      );
      return rows.map(toDecision);
    },
    async decisionCursor(id) {
      const [row] = await driver.all(
        'SELECT COALESCE(MAX(seq), 0) AS seq FROM rollout_decisions WHERE rollout_id = ?',
        [id],
      );
      return num(row?.seq);
    },
    async listLooks(id, query = {}) {
      const rows = await driver.all(
        `SELECT id, rollout_id, attempt, at, stage, reach, action, applied, points, evidence FROM rollout_looks
         WHERE rollout_id = ?${query.afterId !== undefined ? ' AND id > ?' : ''} ORDER BY id`,
        query.afterId !== undefined ? [id, query.afterId] : [id],
      );
      return rows.map(toLook);
    },
    async readAnalysis(id, attempt) {
      return driver.transaction(
        async (tx) => {
          const stats = await tx.all(
            `SELECT cohort, arm, metric, n, sum_y, sum_y2, sum_d, sum_d2, sum_yd, sum_y3, sum_y2d, sum_yd2, sum_d3
             FROM cohort_stats WHERE rollout_id = ? AND attempt = ? ORDER BY cohort, arm, metric`,
            [id, attempt],
          );
          const units = await tx.all(
            'SELECT cohort, arm, epochs, assigned FROM cohort_units WHERE rollout_id = ? AND attempt = ? ORDER BY cohort, arm',
            [id, attempt],
          );
          const quantiles = await tx.all(
            'SELECT cohort, arm, metric, data FROM quantile_stats WHERE rollout_id = ? AND attempt = ? ORDER BY cohort, arm, metric',
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
              ...thirdOrderSums(r),
            })),
            units: units.map((r) => ({
              cohort: num(r.cohort),
              arm: String(r.arm) as ArmName,
              epochs: num(r.epochs),
              assigned: num(r.assigned),
            })),
            quantiles: quantiles.map((r) => ({
              cohort: num(r.cohort),
              arm: String(r.arm) as ArmName,
              metric: String(r.metric),
              data: json(r.data),
            })),
          };
        },
        { readOnly: true },
      );
    },
  };
}
