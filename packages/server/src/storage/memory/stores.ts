/**
 * In-memory adapter for unit tests. Every write runs without an await between its steps, so it is
 * atomic with respect to other requests, like a transaction. Values are deep-copied in and out.
 */
import type { FlagConfig, Segment } from '@dimmer/core';
import type { AuditEntry, AuditFilter } from '../../audit/audit.store.ts';
import type { EnvironmentRecord } from '../../environments/environments.store.ts';
import type { FlagRecord } from '../../flags/flags.store.ts';
import type { AdminTokenRecord, ClientKeyRecord } from '../../keys/keys.store.ts';
import type { SegmentRecord } from '../../segments/segments.store.ts';
import {
  type AuditInput,
  type ConfigChange,
  StoreConflictError,
  StoreNotFoundError,
  type Stores,
} from '../stores.ts';
import { createMemoryAnalysisStores } from './analysis.ts';

function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function byKey<T extends { key: string }>(a: T, b: T): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Creates empty in-memory stores. */
export function createMemoryStores(): Stores {
  const environments = new Map<string, EnvironmentRecord>();
  const flags = new Map<string, FlagRecord>();
  const segments = new Map<string, SegmentRecord>();
  const clientKeys = new Map<string, ClientKeyRecord>();
  const adminTokens = new Map<string, AdminTokenRecord>();
  const audit: AuditEntry[] = [];
  let closed = false;

  function appendAudit(input: AuditInput): void {
    audit.push({
      id: audit.length + 1,
      at: input.at,
      actor: input.actor,
      action: input.action,
      resourceType: input.resourceType,
      resourceKey: input.resourceKey,
      environment: input.environment ?? null,
      before: copy(input.before ?? null),
      after: copy(input.after ?? null),
    });
  }

  function bumpAll(at: number): ConfigChange[] {
    const changes: ConfigChange[] = [];
    for (const env of [...environments.values()].sort(byKey)) {
      env.configVersion += 1;
      env.committedAt = at;
      changes.push({ environment: env.key, version: env.configVersion, committedAt: at });
    }
    return changes;
  }

  function checkOpen(): void {
    if (closed) throw new Error('memory stores are closed');
  }

  return {
    kind: 'memory',
    ...createMemoryAnalysisStores({ environments, flags, appendAudit, bumpAll, checkOpen }),
    environments: {
      async list() {
        return [...environments.values()].sort(byKey).map(copy);
      },
      async get(key) {
        return copy(environments.get(key));
      },
      async create(input, auditInput) {
        checkOpen();
        if (environments.has(input.key)) throw new StoreConflictError(`environment ${input.key} exists`);
        const record: EnvironmentRecord = {
          key: input.key,
          name: input.name,
          createdAt: auditInput.at,
          configVersion: 1,
          committedAt: auditInput.at,
        };
        environments.set(input.key, record);
        appendAudit(auditInput);
        return {
          value: copy(record),
          changes: [{ environment: record.key, version: 1, committedAt: record.committedAt }],
        };
      },
    },
    flags: {
      async list(filter = {}) {
        const q = filter.q?.toLowerCase();
        return [...flags.values()]
          .filter((r) => filter.includeArchived === true || !r.archived)
          .filter(
            (r) =>
              q === undefined ||
              r.flag.key.toLowerCase().includes(q) ||
              (r.flag.description ?? '').toLowerCase().includes(q),
          )
          .sort((a, b) => byKey(a.flag, b.flag))
          .map(copy);
      },
      async get(key) {
        return copy(flags.get(key));
      },
      async create(flag, auditInput) {
        checkOpen();
        if (flags.has(flag.key)) throw new StoreConflictError(`flag ${flag.key} exists`);
        const record: FlagRecord = {
          flag: copy(flag),
          archived: false,
          revision: 1,
          createdAt: auditInput.at,
          updatedAt: auditInput.at,
        };
        flags.set(flag.key, record);
        appendAudit(auditInput);
        return { value: copy(record), changes: bumpAll(auditInput.at) };
      },
      async update(flag, options, auditInput) {
        checkOpen();
        const current = flags.get(flag.key);
        if (!current) throw new StoreNotFoundError(`flag ${flag.key} not found`);
        if (current.revision !== options.expectedRevision)
          throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
        const record: FlagRecord = {
          flag: copy(flag),
          archived: options.archived,
          revision: current.revision + 1,
          createdAt: current.createdAt,
          updatedAt: auditInput.at,
        };
        flags.set(flag.key, record);
        appendAudit(auditInput);
        return { value: copy(record), changes: bumpAll(auditInput.at) };
      },
    },
    segments: {
      async list() {
        return [...segments.values()].sort((a, b) => byKey(a.segment, b.segment)).map(copy);
      },
      async get(key) {
        return copy(segments.get(key));
      },
      async create(segment, auditInput) {
        checkOpen();
        if (segments.has(segment.key)) throw new StoreConflictError(`segment ${segment.key} exists`);
        const record: SegmentRecord = {
          segment: copy(segment),
          revision: 1,
          createdAt: auditInput.at,
          updatedAt: auditInput.at,
        };
        segments.set(segment.key, record);
        appendAudit(auditInput);
        return { value: copy(record), changes: bumpAll(auditInput.at) };
      },
      async update(segment, options, auditInput) {
        checkOpen();
        const current = segments.get(segment.key);
        if (!current) throw new StoreNotFoundError(`segment ${segment.key} not found`);
        if (current.revision !== options.expectedRevision)
          throw new StoreConflictError(`segment ${segment.key} was changed concurrently`);
        const record: SegmentRecord = {
          segment: copy(segment),
          revision: current.revision + 1,
          createdAt: current.createdAt,
          updatedAt: auditInput.at,
        };
        segments.set(segment.key, record);
        appendAudit(auditInput);
        return { value: copy(record), changes: bumpAll(auditInput.at) };
      },
      async delete(key, options, auditInput) {
        checkOpen();
        const current = segments.get(key);
        if (!current) throw new StoreNotFoundError(`segment ${key} not found`);
        if (current.revision !== options.expectedRevision)
          throw new StoreConflictError(`segment ${key} was changed concurrently`);
        segments.delete(key);
        appendAudit(auditInput);
        return { value: null, changes: bumpAll(auditInput.at) };
      },
    },
    keys: {
      async createClientKey(record, auditInput) {
        checkOpen();
        if (clientKeys.has(record.id) || [...clientKeys.values()].some((k) => k.keyHash === record.keyHash))
          throw new StoreConflictError('client key exists');
        if (!environments.has(record.environment))
          throw new StoreNotFoundError(`environment ${record.environment} not found`);
        clientKeys.set(record.id, copy(record));
        appendAudit(auditInput);
      },
      async listClientKeys(filter = {}) {
        return [...clientKeys.values()]
          .filter((k) => filter.environment === undefined || k.environment === filter.environment)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map(copy);
      },
      async getClientKey(id) {
        return copy(clientKeys.get(id));
      },
      async findClientKeyByHash(keyHash) {
        return copy([...clientKeys.values()].find((k) => k.keyHash === keyHash));
      },
      async revokeClientKey(id, auditInput) {
        checkOpen();
        const current = clientKeys.get(id);
        if (!current) return undefined;
        if (current.revokedAt === null) {
          current.revokedAt = auditInput.at;
          appendAudit(auditInput);
        }
        return copy(current);
      },
      async countAdminTokens() {
        return adminTokens.size;
      },
      async createAdminToken(record, auditInput) {
        checkOpen();
        if (
          adminTokens.has(record.id) ||
          [...adminTokens.values()].some((t) => t.tokenHash === record.tokenHash)
        )
          throw new StoreConflictError('admin token exists');
        adminTokens.set(record.id, copy(record));
        appendAudit(auditInput);
      },
      async findAdminTokenByHash(tokenHash) {
        return copy([...adminTokens.values()].find((t) => t.tokenHash === tokenHash));
      },
    },
    audit: {
      async list(filter: AuditFilter) {
        const out: AuditEntry[] = [];
        for (let i = audit.length - 1; i >= 0 && out.length < filter.limit; i--) {
          const e = audit[i] as AuditEntry;
          if (filter.beforeId !== undefined && e.id >= filter.beforeId) continue;
          if (filter.resourceType !== undefined && e.resourceType !== filter.resourceType) continue;
          if (filter.resourceKey !== undefined && e.resourceKey !== filter.resourceKey) continue;
          if (filter.actor !== undefined && e.actor !== filter.actor) continue;
          if (filter.since !== undefined && e.at < filter.since) continue;
          out.push(copy(e));
        }
        return out;
      },
    },
    config: {
      async read(environment) {
        const env = environments.get(environment);
        if (!env) return undefined;
        const flagDocs: FlagConfig[] = [...flags.values()]
          .filter((r) => !r.archived)
          .sort((a, b) => byKey(a.flag, b.flag))
          .map((r) => copy(r.flag));
        const segmentDocs: Segment[] = [...segments.values()]
          .sort((a, b) => byKey(a.segment, b.segment))
          .map((r) => copy(r.segment));
        return {
          environment,
          version: env.configVersion,
          committedAt: env.committedAt,
          flags: flagDocs,
          segments: segmentDocs,
        };
      },
    },
    async ping() {
      checkOpen();
    },
    async close() {
      closed = true;
    },
  };
}
