/**
 * In-memory metric, surface, rollout and event stores for unit tests. Ingestion runs the shared plan against
 * staged writes that are applied at the end without an await, so a group is all-or-nothing like a transaction;
 * groups run one at a time.
 */
import type { AnalysisChanges, TrackPoint, UnitEpochs } from '../../events/aggregation.ts';
import type { BatchAnswer, EventsStore, TrackInput } from '../../events/events.store.ts';
import { type IngestIo, runIngest } from '../../events/ingest-plan.ts';
import type { FlagRecord } from '../../flags/flags.store.ts';
import type { MetricDefinition } from '../../metrics/metric.model.ts';
import type { MetricsStore } from '../../metrics/metrics.store.ts';
import {
  ACTIVE_ROLLOUT_STATUSES,
  ANALYSED_ROLLOUT_STATUSES,
  type CohortStatsRow,
  type CohortUnitsRow,
  type DecisionRecord,
  type RolloutRecord,
  type RolloutsStore,
} from '../../rollouts/rollouts.store.ts';
import type { Surface, SurfacesStore } from '../../surfaces/surfaces.store.ts';
import { metricAndSurfaceStores } from '../document-stores.ts';
import { type AuditInput, type ConfigChange, StoreConflictError, StoreNotFoundError } from '../stores.ts';

function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** What the analysis stores share with the other in-memory stores. */
export interface MemoryShared {
  environments: Map<string, unknown>;
  flags: Map<string, FlagRecord>;
  appendAudit(input: AuditInput): void;
  bumpAll(at: number): ConfigChange[];
  checkOpen(): void;
}

function documents<T extends { key: string }>(shared: MemoryShared, what: string) {
  type Rec = { doc: T; revision: number; createdAt: number; updatedAt: number };
  const map = new Map<string, Rec>();
  const current = (key: string, expectedRevision: number): Rec => {
    const rec = map.get(key);
    if (!rec) throw new StoreNotFoundError(`${what} ${key} not found`);
    if (rec.revision !== expectedRevision)
      throw new StoreConflictError(`${what} ${key} was changed concurrently`);
    return rec;
  };
  return {
    async list(): Promise<Rec[]> {
      return [...map.values()]
        .sort((a, b) => (a.doc.key < b.doc.key ? -1 : a.doc.key > b.doc.key ? 1 : 0))
        .map(copy);
    },
    async get(key: string): Promise<Rec | undefined> {
      return copy(map.get(key));
    },
    async create(doc: T, audit: AuditInput): Promise<Rec> {
      shared.checkOpen();
      if (map.has(doc.key)) throw new StoreConflictError(`${what} ${doc.key} exists`);
      const rec: Rec = { doc: copy(doc), revision: 1, createdAt: audit.at, updatedAt: audit.at };
      map.set(doc.key, rec);
      shared.appendAudit(audit);
      return copy(rec);
    },
    async update(doc: T, options: { expectedRevision: number }, audit: AuditInput): Promise<Rec> {
      shared.checkOpen();
      const old = current(doc.key, options.expectedRevision);
      const rec: Rec = {
        doc: copy(doc),
        revision: old.revision + 1,
        createdAt: old.createdAt,
        updatedAt: audit.at,
      };
      map.set(doc.key, rec);
      shared.appendAudit(audit);
      return copy(rec);
    },
    async delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<void> {
      shared.checkOpen();
      current(key, options.expectedRevision);
      map.delete(key);
      shared.appendAudit(audit);
    },
  };
}

/** Creates the in-memory analysis stores over the shared maps of createMemoryStores. */
export function createMemoryAnalysisStores(shared: MemoryShared): {
  metrics: MetricsStore;
  surfaces: SurfacesStore;
  rollouts: RolloutsStore;
  events: EventsStore;
} {
  const metricDocs = documents<MetricDefinition>(shared, 'metric');
  const surfaceDocs = documents<Surface>(shared, 'surface');
  const rollouts = new Map<string, RolloutRecord>();
  const batches = new Map<string, { at: number; answer: BatchAnswer }>();
  const tracks = new Map<string, Map<string, TrackPoint[]>>();
  const epochs = new Map<string, Map<string, UnitEpochs>>();
  const stats = new Map<string, CohortStatsRow & { attempt: number; rollout: string }>();
  const unitCounts = new Map<string, CohortUnitsRow & { attempt: number; rollout: string }>();
  const decisions: DecisionRecord[] = [];
  let trackCount = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const activeOn = (flag: string, environment: string, except: string) =>
    [...rollouts.values()].some(
      (r) =>
        r.id !== except &&
        r.flag === flag &&
        r.environment === environment &&
        ACTIVE_ROLLOUT_STATUSES.includes(r.state),
    );
  const byCreation = (a: RolloutRecord, b: RolloutRecord) =>
    a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

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
      async analysedRollouts(environment) {
        return [...rollouts.values()]
          .filter((r) => r.environment === environment && ANALYSED_ROLLOUT_STATUSES.includes(r.state))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((r) => ({
            id: r.id,
            attempt: r.attempt,
            stage: r.stage,
            flag: r.flag,
            treatment: r.treatment,
            control: r.control,
            metrics: copy(r.metrics),
          }));
      },
      async lockRollouts() {},
      async loadEpochs(rollout, units) {
        const map = epochs.get(`${rollout.id}|${rollout.attempt}`);
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
            unit.push({ name: t.name, ts: t.ts, value: t.value });
            env.set(t.unit, unit);
          }
          trackCount += rows.length;
        });
      },
      async writeChanges(rollout, changes: AnalysisChanges) {
        const c = copy(changes);
        staged.push(() => {
          const key = `${rollout.id}|${rollout.attempt}`;
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
            const row = stats.get(k) ?? {
              rollout: rollout.id,
              attempt: rollout.attempt,
              cohort: s.cohort,
              arm: s.arm,
              metric: s.metric,
              n: 0,
              sumY: 0,
              sumY2: 0,
              sumD: 0,
              sumD2: 0,
              sumYD: 0,
            };
            row.n += s.n;
            row.sumY += s.sumY;
            row.sumY2 += s.sumY2;
            row.sumD += s.sumD;
            row.sumD2 += s.sumD2;
            row.sumYD += s.sumYD;
            stats.set(k, row);
          }
          for (const u of c.units) {
            const k = `${key}|${u.cohort}|${u.arm}`;
            const row = unitCounts.get(k) ?? {
              rollout: rollout.id,
              attempt: rollout.attempt,
              cohort: u.cohort,
              arm: u.arm,
              epochs: 0,
              assigned: 0,
            };
            row.epochs += u.epochs;
            row.assigned += u.assigned;
            unitCounts.set(k, row);
          }
        });
      },
    };
  }

  return {
    ...metricAndSurfaceStores(metricDocs, surfaceDocs),
    rollouts: {
      async create(record, audit) {
        shared.checkOpen();
        if (!shared.environments.has(record.environment))
          throw new StoreNotFoundError(`environment ${record.environment} not found`);
        if (rollouts.has(record.id)) throw new StoreConflictError(`rollout ${record.id} exists`);
        if (
          ACTIVE_ROLLOUT_STATUSES.includes(record.state) &&
          activeOn(record.flag, record.environment, record.id)
        )
          throw new StoreConflictError('another rollout is active on the flag');
        const stored = { ...copy(record), revision: 1, createdAt: audit.at, updatedAt: audit.at };
        rollouts.set(record.id, stored);
        shared.appendAudit(audit);
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
        shared.checkOpen();
        const next = nextRollout(record, options.expectedRevision, audit.at);
        rollouts.set(record.id, next);
        shared.appendAudit(audit);
        return copy(next);
      },
      async updateWithFlag(record, options, audits) {
        shared.checkOpen();
        const at = audits[0]?.at ?? record.updatedAt;
        const next = nextRollout(record, options.expectedRevision, at);
        const flag = shared.flags.get(options.flag.key);
        if (!flag) throw new StoreNotFoundError(`flag ${options.flag.key} not found`);
        if (flag.revision !== options.flagRevision)
          throw new StoreConflictError(`flag ${options.flag.key} was changed concurrently`);
        rollouts.set(record.id, next);
        shared.flags.set(flag.flag.key, {
          ...flag,
          flag: copy(options.flag),
          revision: flag.revision + 1,
          updatedAt: at,
        });
        for (const audit of audits) shared.appendAudit(audit);
        return { value: copy(next), changes: shared.bumpAll(at) };
      },
      async commit(record, options, audits) {
        shared.checkOpen();
        const at = audits[0]?.at ?? options.decision?.at ?? record.updatedAt;
        const next = nextRollout(record, options.expectedRevision, at);
        const flagWrite = options.flag;
        let flag: FlagRecord | undefined;
        if (flagWrite !== undefined) {
          flag = shared.flags.get(flagWrite.document.key);
          if (!flag) throw new StoreNotFoundError(`flag ${flagWrite.document.key} not found`);
          if (flag.revision !== flagWrite.revision)
            throw new StoreConflictError(`flag ${flagWrite.document.key} was changed concurrently`);
        }
        rollouts.set(record.id, next);
        let changes: ConfigChange[] = [];
        if (flagWrite !== undefined && flag !== undefined) {
          shared.flags.set(flag.flag.key, {
            ...flag,
            flag: copy(flagWrite.document),
            revision: flag.revision + 1,
            updatedAt: at,
          });
          changes = shared.bumpAll(at);
        }
        let decisionId: number | null = null;
        if (options.decision !== undefined) {
          decisionId = decisions.length + 1;
          decisions.push({ ...copy(options.decision), id: decisionId });
        }
        for (const audit of audits) shared.appendAudit(audit);
        return { value: { rollout: copy(next), decisionId }, changes };
      },
      async listDecisions(id, page) {
        const out: DecisionRecord[] = [];
        for (let i = decisions.length - 1; i >= 0 && out.length < page.limit; i--) {
          const d = decisions[i] as DecisionRecord;
          if (d.rollout !== id) continue;
          if (page.beforeId !== undefined && d.id >= page.beforeId) continue;
          out.push(copy(d));
        }
        return out;
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
        };
      },
    },
    events: {
      ingest(list, at) {
        const run = queue.then(async () => {
          shared.checkOpen();
          const staged: (() => void)[] = [];
          const results = await runIngest(ingestIo(staged), list, at);
          for (const write of staged) write();
          return results;
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
    },
  };
}
