/**
 * The stores over SQL, shared by the SQLite and PostgreSQL adapters (the schema is the same in both;
 * see their migrations). Every write runs in one transaction with its config version bump and audit entry.
 */
import type { FlagConfig, Segment } from '@dimmer/core';
import type { AuditEntry } from '../../audit/audit.store.ts';
import type { EnvironmentRecord } from '../../environments/environments.store.ts';
import type { FlagRecord } from '../../flags/flags.store.ts';
import type { AdminTokenRecord, ClientKeyRecord } from '../../keys/keys.store.ts';
import type { ClientKeyKind } from '../../sdk-deps.ts';
import type { SegmentRecord } from '../../segments/segments.store.ts';
import {
  type AuditInput,
  type ConfigChange,
  type ResourceType,
  StoreConflictError,
  StoreNotFoundError,
  type Stores,
} from '../stores.ts';
import { createSqlAnalysisStores } from './sql-analysis.ts';
import type { Row, SqlDriver, SqlExecutor } from './sql-driver.ts';

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function str(value: unknown): string {
  return String(value);
}

function json(value: unknown): unknown {
  return value === null || value === undefined ? null : JSON.parse(String(value));
}

function toJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

function toEnvironment(row: Row): EnvironmentRecord {
  return {
    key: str(row.key),
    name: str(row.name),
    createdAt: num(row.created_at),
    configVersion: num(row.config_version),
    committedAt: num(row.committed_at),
  };
}

function toFlag(row: Row): FlagRecord {
  return {
    flag: json(row.document) as FlagConfig,
    archived: num(row.archived) === 1,
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toSegment(row: Row): SegmentRecord {
  return {
    segment: json(row.document) as Segment,
    revision: num(row.revision),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toClientKey(row: Row): ClientKeyRecord {
  return {
    id: str(row.id),
    name: str(row.name),
    environment: str(row.environment),
    kind: str(row.kind) as ClientKeyKind,
    allowedOrigins: json(row.allowed_origins) as string[],
    prefix: str(row.prefix),
    keyHash: str(row.key_hash),
    createdAt: num(row.created_at),
    revokedAt: row.revoked_at === null || row.revoked_at === undefined ? null : num(row.revoked_at),
  };
}

function toAdminToken(row: Row): AdminTokenRecord {
  return {
    id: str(row.id),
    name: str(row.name),
    tokenHash: str(row.token_hash),
    createdAt: num(row.created_at),
    revokedAt: row.revoked_at === null || row.revoked_at === undefined ? null : num(row.revoked_at),
  };
}

function toAudit(row: Row): AuditEntry {
  return {
    id: num(row.id),
    at: num(row.at),
    actor: str(row.actor),
    action: str(row.action),
    resourceType: str(row.resource_type) as ResourceType,
    resourceKey: str(row.resource_key),
    environment: row.environment === null || row.environment === undefined ? null : str(row.environment),
    before: json(row.before_doc),
    after: json(row.after_doc),
  };
}

const FLAG_COLUMNS = 'key, document, archived, revision, created_at, updated_at';
const SEGMENT_COLUMNS = 'key, document, revision, created_at, updated_at';
const KEY_COLUMNS = 'id, name, environment, kind, allowed_origins, prefix, key_hash, created_at, revoked_at';

/** Builds the stores over a driver whose schema is migrated. */
export function createSqlStores(
  driver: SqlDriver,
  options: { close?: () => Promise<void> } = {},
): Omit<Stores, 'kind' | 'watchConfig'> {
  async function appendAudit(tx: SqlExecutor, input: AuditInput): Promise<void> {
    await tx.run(
      'INSERT INTO audit_log (at, actor, action, resource_type, resource_key, environment, before_doc, after_doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        input.at,
        input.actor,
        input.action,
        input.resourceType,
        input.resourceKey,
        input.environment ?? null,
        toJson(input.before),
        toJson(input.after),
      ],
    );
  }

  async function bumpAll(tx: SqlExecutor, at: number): Promise<ConfigChange[]> {
    const rows = await tx.all(
      'UPDATE environments SET config_version = config_version + 1, committed_at = ? RETURNING key, config_version',
      [at],
    );
    const changes = rows
      .map((r) => ({ environment: str(r.key), version: num(r.config_version), committedAt: at }))
      .sort((a, b) => (a.environment < b.environment ? -1 : a.environment > b.environment ? 1 : 0));
    await driver.announce(tx, changes);
    return changes;
  }

  /** Runs a write, turning unique violations into StoreConflictError. */
  async function write<T>(what: string, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    try {
      return await driver.transaction(fn);
    } catch (error) {
      if (driver.isUniqueViolation(error)) throw new StoreConflictError(`${what} exists`);
      throw error;
    }
  }

  return {
    ...createSqlAnalysisStores(driver, { appendAudit, bumpAll }),
    environments: {
      async list() {
        const rows = await driver.all('SELECT * FROM environments ORDER BY key');
        return rows.map(toEnvironment);
      },
      async get(key) {
        const [row] = await driver.all('SELECT * FROM environments WHERE key = ?', [key]);
        return row ? toEnvironment(row) : undefined;
      },
      async create(input, audit) {
        return write(`environment ${input.key}`, async (tx) => {
          const [row] = await tx.all(
            'INSERT INTO environments (key, name, created_at, config_version, committed_at) VALUES (?, ?, ?, 1, ?) RETURNING *',
            [input.key, input.name, audit.at, audit.at],
          );
          const record = toEnvironment(row as Row);
          await appendAudit(tx, audit);
          const changes = [{ environment: record.key, version: record.configVersion, committedAt: audit.at }];
          await driver.announce(tx, changes);
          return { value: record, changes };
        });
      },
    },
    flags: {
      async list(filter = {}) {
        const where: string[] = [];
        const params: unknown[] = [];
        if (filter.includeArchived !== true) where.push('archived = 0');
        if (filter.q !== undefined && filter.q !== '') {
          const pattern = '%' + escapeLike(filter.q.toLowerCase()) + '%';
          where.push("(LOWER(key) LIKE ? ESCAPE '\\' OR LOWER(description) LIKE ? ESCAPE '\\')");
          params.push(pattern, pattern);
        }
        const rows = await driver.all(
          `SELECT ${FLAG_COLUMNS} FROM flags${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY key`,
          params,
        );
        return rows.map(toFlag);
      },
      async get(key) {
        const [row] = await driver.all(`SELECT ${FLAG_COLUMNS} FROM flags WHERE key = ?`, [key]);
        return row ? toFlag(row) : undefined;
      },
      async create(flag, audit) {
        return write(`flag ${flag.key}`, async (tx) => {
          const [row] = await tx.all(
            `INSERT INTO flags (key, document, description, archived, revision, created_at, updated_at) VALUES (?, ?, ?, 0, 1, ?, ?) RETURNING ${FLAG_COLUMNS}`,
            [flag.key, JSON.stringify(flag), flag.description ?? '', audit.at, audit.at],
          );
          await appendAudit(tx, audit);
          return { value: toFlag(row as Row), changes: await bumpAll(tx, audit.at) };
        });
      },
      async update(flag, options, audit) {
        return driver.transaction(async (tx) => {
          const [row] = await tx.all(
            `UPDATE flags SET document = ?, description = ?, archived = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ? RETURNING ${FLAG_COLUMNS}`,
            [
              JSON.stringify(flag),
              flag.description ?? '',
              options.archived ? 1 : 0,
              audit.at,
              flag.key,
              options.expectedRevision,
            ],
          );
          if (!row) {
            const [exists] = await tx.all('SELECT revision FROM flags WHERE key = ?', [flag.key]);
            if (!exists) throw new StoreNotFoundError(`flag ${flag.key} not found`);
            throw new StoreConflictError(`flag ${flag.key} was changed concurrently`);
          }
          await appendAudit(tx, audit);
          return { value: toFlag(row), changes: await bumpAll(tx, audit.at) };
        });
      },
    },
    segments: {
      async list() {
        const rows = await driver.all(`SELECT ${SEGMENT_COLUMNS} FROM segments ORDER BY key`);
        return rows.map(toSegment);
      },
      async get(key) {
        const [row] = await driver.all(`SELECT ${SEGMENT_COLUMNS} FROM segments WHERE key = ?`, [key]);
        return row ? toSegment(row) : undefined;
      },
      async create(segment, audit) {
        return write(`segment ${segment.key}`, async (tx) => {
          const [row] = await tx.all(
            `INSERT INTO segments (key, document, revision, created_at, updated_at) VALUES (?, ?, 1, ?, ?) RETURNING ${SEGMENT_COLUMNS}`,
            [segment.key, JSON.stringify(segment), audit.at, audit.at],
          );
          await appendAudit(tx, audit);
          return { value: toSegment(row as Row), changes: await bumpAll(tx, audit.at) };
        });
      },
      async update(segment, options, audit) {
        return driver.transaction(async (tx) => {
          const [row] = await tx.all(
            `UPDATE segments SET document = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ? RETURNING ${SEGMENT_COLUMNS}`,
            [JSON.stringify(segment), audit.at, segment.key, options.expectedRevision],
          );
          if (!row) {
            const [exists] = await tx.all('SELECT revision FROM segments WHERE key = ?', [segment.key]);
            if (!exists) throw new StoreNotFoundError(`segment ${segment.key} not found`);
            throw new StoreConflictError(`segment ${segment.key} was changed concurrently`);
          }
          await appendAudit(tx, audit);
          return { value: toSegment(row), changes: await bumpAll(tx, audit.at) };
        });
      },
      async delete(key, options, audit) {
        return driver.transaction(async (tx) => {
          const changed = await tx.run('DELETE FROM segments WHERE key = ? AND revision = ?', [
            key,
            options.expectedRevision,
          ]);
          if (changed === 0) {
            const [exists] = await tx.all('SELECT revision FROM segments WHERE key = ?', [key]);
            if (!exists) throw new StoreNotFoundError(`segment ${key} not found`);
            throw new StoreConflictError(`segment ${key} was changed concurrently`);
          }
          await appendAudit(tx, audit);
          return { value: null, changes: await bumpAll(tx, audit.at) };
        });
      },
    },
    keys: {
      async createClientKey(record, audit) {
        await write('client key', async (tx) => {
          const [env] = await tx.all('SELECT key FROM environments WHERE key = ?', [record.environment]);
          if (!env) throw new StoreNotFoundError(`environment ${record.environment} not found`);
          await tx.run(`INSERT INTO client_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
            record.id,
            record.name,
            record.environment,
            record.kind,
            JSON.stringify(record.allowedOrigins),
            record.prefix,
            record.keyHash,
            record.createdAt,
            record.revokedAt,
          ]);
          await appendAudit(tx, audit);
        });
      },
      async listClientKeys(filter = {}) {
        const rows =
          filter.environment === undefined
            ? await driver.all(`SELECT ${KEY_COLUMNS} FROM client_keys ORDER BY created_at, id`)
            : await driver.all(
                `SELECT ${KEY_COLUMNS} FROM client_keys WHERE environment = ? ORDER BY created_at, id`,
                [filter.environment],
              );
        return rows.map(toClientKey);
      },
      async getClientKey(id) {
        const [row] = await driver.all(`SELECT ${KEY_COLUMNS} FROM client_keys WHERE id = ?`, [id]);
        return row ? toClientKey(row) : undefined;
      },
      async findClientKeyByHash(keyHash) {
        const [row] = await driver.all(`SELECT ${KEY_COLUMNS} FROM client_keys WHERE key_hash = ?`, [
          keyHash,
        ]);
        return row ? toClientKey(row) : undefined;
      },
      async revokeClientKey(id, audit) {
        return driver.transaction(async (tx) => {
          const changed = await tx.run(
            'UPDATE client_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
            [audit.at, id],
          );
          if (changed > 0) await appendAudit(tx, audit);
          const [row] = await tx.all(`SELECT ${KEY_COLUMNS} FROM client_keys WHERE id = ?`, [id]);
          return row ? toClientKey(row) : undefined;
        });
      },
      async countAdminTokens() {
        const [row] = await driver.all('SELECT COUNT(*) AS n FROM admin_tokens');
        return num(row?.n ?? 0);
      },
      async createAdminToken(record, audit) {
        await write('admin token', async (tx) => {
          await tx.run(
            'INSERT INTO admin_tokens (id, name, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)',
            [record.id, record.name, record.tokenHash, record.createdAt, record.revokedAt],
          );
          await appendAudit(tx, audit);
        });
      },
      async findAdminTokenByHash(tokenHash) {
        const [row] = await driver.all(
          'SELECT id, name, token_hash, created_at, revoked_at FROM admin_tokens WHERE token_hash = ?',
          [tokenHash],
        );
        return row ? toAdminToken(row) : undefined;
      },
    },
    audit: {
      async list(filter) {
        const where: string[] = [];
        const params: unknown[] = [];
        if (filter.beforeId !== undefined) {
          where.push('id < ?');
          params.push(filter.beforeId);
        }
        if (filter.resourceType !== undefined) {
          where.push('resource_type = ?');
          params.push(filter.resourceType);
        }
        if (filter.resourceKey !== undefined) {
          where.push('resource_key = ?');
          params.push(filter.resourceKey);
        }
        if (filter.actor !== undefined) {
          where.push('actor = ?');
          params.push(filter.actor);
        }
        if (filter.since !== undefined) {
          where.push('at >= ?');
          params.push(filter.since);
        }
        params.push(filter.limit);
        const rows = await driver.all(
          `SELECT * FROM audit_log${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`,
          params,
        );
        return rows.map(toAudit);
      },
    },
    config: {
      async read(environment) {
        return driver.transaction(
          async (tx) => {
            const [env] = await tx.all(
              'SELECT config_version, committed_at FROM environments WHERE key = ?',
              [environment],
            );
            if (!env) return undefined;
            const flags = await tx.all('SELECT document FROM flags WHERE archived = 0 ORDER BY key');
            const segments = await tx.all('SELECT document FROM segments ORDER BY key');
            return {
              environment,
              version: num(env.config_version),
              committedAt: num(env.committed_at),
              flags: flags.map((r) => json(r.document) as FlagConfig),
              segments: segments.map((r) => json(r.document) as Segment),
            };
          },
          { readOnly: true },
        );
      },
    },
    async ping() {
      await driver.all('SELECT 1 AS one');
    },
    async close() {
      await options.close?.();
      await driver.close();
    },
  };
}
