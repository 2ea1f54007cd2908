import type { Role } from '@dimmer/api';
/** The client key and admin token port over SQL (SQLite and PostgreSQL). */
import type { ClientKeyKind } from '../client-deps.ts';
import type { Row, SqlDriver } from '../storage/sql/sql-driver.ts';
import { json, num, numOrNull, str } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import { StoreNotFoundError } from '../storage/write.ts';
import type { AdminTokenRecord, ClientKeyRecord, KeysStore } from './keys.store.ts';

const KEY_COLUMNS =
  'id, name, environment, kind, allowed_origins, prefix, key_hash, created_at, revoked_at, events_per_minute, ' +
  'rate_limit_per_minute';

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
    revokedAt: numOrNull(row.revoked_at),
    eventsPerMinute: numOrNull(row.events_per_minute),
    rateLimitPerMinute: numOrNull(row.rate_limit_per_minute),
  };
}

const TOKEN_COLUMNS = 'id, name, token_hash, created_at, revoked_at, role, owner';

function toAdminToken(row: Row): AdminTokenRecord {
  return {
    id: str(row.id),
    name: str(row.name),
    tokenHash: str(row.token_hash),
    createdAt: num(row.created_at),
    revokedAt: numOrNull(row.revoked_at),
    role: str(row.role) as Role,
    owner: row.owner === null || row.owner === undefined ? null : str(row.owner),
  };
}

function tokenValues(record: AdminTokenRecord): unknown[] {
  return [
    record.id,
    record.name,
    record.tokenHash,
    record.createdAt,
    record.revokedAt,
    record.role,
    record.owner,
  ];
}

/** The keys store over a migrated driver. */
export function createSqlKeysStore(driver: SqlDriver, writes: SqlWrites): KeysStore {
  return {
    async createClientKey(record, audit) {
      await writes.write('client key', async (tx) => {
        const [env] = await tx.all('SELECT key FROM environments WHERE key = ?', [record.environment]);
        if (!env) throw new StoreNotFoundError(`environment ${record.environment} not found`);
        await tx.run(`INSERT INTO client_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          record.id,
          record.name,
          record.environment,
          record.kind,
          JSON.stringify(record.allowedOrigins),
          record.prefix,
          record.keyHash,
          record.createdAt,
          record.revokedAt,
          record.eventsPerMinute,
          record.rateLimitPerMinute,
        ]);
        await writes.appendAudit(tx, audit);
        await driver.announceKeys?.(tx);
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
      const [row] = await driver.all(`SELECT ${KEY_COLUMNS} FROM client_keys WHERE key_hash = ?`, [keyHash]);
      return row ? toClientKey(row) : undefined;
    },
    async revokeClientKey(id, audit) {
      return driver.transaction(async (tx) => {
        const changed = await tx.run(
          'UPDATE client_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
          [audit.at, id],
        );
        if (changed > 0) {
          await writes.appendAudit(tx, audit);
          await driver.announceKeys?.(tx);
        }
        const [row] = await tx.all(`SELECT ${KEY_COLUMNS} FROM client_keys WHERE id = ?`, [id]);
        return row ? toClientKey(row) : undefined;
      });
    },
    async countAdminTokens() {
      const [row] = await driver.all('SELECT COUNT(*) AS n FROM admin_tokens');
      return num(row?.n ?? 0);
    },
    async createAdminToken(record, audit) {
      await writes.write('admin token', async (tx) => {
        await tx.run(
          `INSERT INTO admin_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          tokenValues(record),
        );
        await writes.appendAudit(tx, audit);
      });
    },
    async findAdminTokenByHash(tokenHash) {
      const [row] = await driver.all(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens WHERE token_hash = ?`, [
        tokenHash,
      ]);
      return row ? toAdminToken(row) : undefined;
    },
    async listAdminTokens() {
      const rows = await driver.all(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens ORDER BY created_at, id`);
      return rows.map(toAdminToken);
    },
    async revokeAdminToken(id, audit) {
      return driver.transaction(async (tx) => {
        const changed = await tx.run(
          'UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
          [audit.at, id],
        );
        if (changed > 0) await writes.appendAudit(tx, audit);
        const [row] = await tx.all(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens WHERE id = ?`, [id]);
        return row ? toAdminToken(row) : undefined;
      });
    },
    async rotateAdminToken(id, next, audit) {
      await writes.write('admin token', async (tx) => {
        const changed = await tx.run(
          'UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
          [audit.at, id],
        );
        if (changed === 0) throw new StoreNotFoundError(`admin token ${id} not found`);
        await tx.run(
          `INSERT INTO admin_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          tokenValues(next),
        );
        await writes.appendAudit(tx, audit);
      });
    },
  };
}
