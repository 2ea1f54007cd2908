/** The sessions, grants and approvals port over SQL (SQLite and PostgreSQL). */
import type { ApprovalAction, Role } from '@dimmer/api';
import type { Row, SqlDriver } from '../storage/sql/sql-driver.ts';
import { json, num, numOrNull, str } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import type { ApprovalRecord, GrantRecord, PeopleStore, SessionRecord } from './people.store.ts';

const SESSION_COLUMNS =
  'id, token_hash, csrf_hash, actor, subject, name, email, groups_json, via, created_at, expires_at, revoked_at';
const GRANT_COLUMNS = 'id, subject, environment, role, created_at, created_by';
const APPROVAL_COLUMNS = 'id, resource_type, resource_id, action, approver, version, digest, comment, at';

const strOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : str(value);

function toSession(row: Row): SessionRecord {
  return {
    id: str(row.id),
    tokenHash: str(row.token_hash),
    csrfHash: str(row.csrf_hash),
    actor: str(row.actor),
    subject: str(row.subject),
    name: strOrNull(row.name),
    email: strOrNull(row.email),
    groups: json(row.groups_json) as string[],
    via: str(row.via) as SessionRecord['via'],
    createdAt: num(row.created_at),
    expiresAt: num(row.expires_at),
    revokedAt: numOrNull(row.revoked_at),
  };
}

function toGrant(row: Row): GrantRecord {
  return {
    id: str(row.id),
    subject: str(row.subject),
    environment: str(row.environment),
    role: str(row.role) as Role,
    createdAt: num(row.created_at),
    createdBy: str(row.created_by),
  };
}

function toApproval(row: Row): ApprovalRecord {
  return {
    id: str(row.id),
    resourceType: str(row.resource_type) as ApprovalRecord['resourceType'],
    resourceId: str(row.resource_id),
    action: str(row.action) as ApprovalAction,
    approver: str(row.approver),
    version: num(row.version),
    digest: str(row.digest),
    comment: strOrNull(row.comment),
    at: num(row.at),
  };
}

/** The people store over a migrated driver. */
export function createSqlPeopleStore(driver: SqlDriver, writes: SqlWrites): PeopleStore {
  return {
    async createSession(r, audit) {
      await writes.write('session', async (tx) => {
        await tx.run(
          `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            r.id,
            r.tokenHash,
            r.csrfHash,
            r.actor,
            r.subject,
            r.name,
            r.email,
            JSON.stringify(r.groups),
            r.via,
            r.createdAt,
            r.expiresAt,
            r.revokedAt,
          ],
        );
        await writes.appendAudit(tx, audit);
      });
    },
    async findSessionByHash(tokenHash) {
      const [row] = await driver.all(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE token_hash = ?`, [
        tokenHash,
      ]);
      return row ? toSession(row) : undefined;
    },
    async listSessions({ since, limit }) {
      const rows = await driver.all(
        `SELECT ${SESSION_COLUMNS} FROM sessions WHERE expires_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?`,
        [since, limit],
      );
      return rows.map(toSession);
    },
    async revokeSession(id, audit) {
      return driver.transaction(async (tx) => {
        const changed = await tx.run(
          'UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
          [audit.at, id],
        );
        if (changed > 0) await writes.appendAudit(tx, audit);
        const [row] = await tx.all(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`, [id]);
        return row ? toSession(row) : undefined;
      });
    },
    async pruneSessions(before) {
      return driver.run('DELETE FROM sessions WHERE expires_at < ?', [before]);
    },
    async listGrants() {
      const rows = await driver.all(`SELECT ${GRANT_COLUMNS} FROM role_grants ORDER BY subject, environment`);
      return rows.map(toGrant);
    },
    async createGrant(g, audit) {
      await writes.write('grant', async (tx) => {
        await tx.run(`INSERT INTO role_grants (${GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`, [
          g.id,
          g.subject,
          g.environment,
          g.role,
          g.createdAt,
          g.createdBy,
        ]);
        await writes.appendAudit(tx, audit);
      });
    },
    async deleteGrant(id, audit) {
      return driver.transaction(async (tx) => {
        const [row] = await tx.all(`SELECT ${GRANT_COLUMNS} FROM role_grants WHERE id = ?`, [id]);
        if (!row) return false;
        await tx.run('DELETE FROM role_grants WHERE id = ?', [id]);
        await writes.appendAudit(tx, audit(toGrant(row)));
        return true;
      });
    },
    async listApprovals(resourceType, resourceId) {
      const rows = await driver.all(
        `SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE resource_type = ? AND resource_id = ? ORDER BY at, id`,
        [resourceType, resourceId],
      );
      return rows.map(toApproval);
    },
    async createApproval(a, audit) {
      await writes.write('approval', async (tx) => {
        await tx.run(`INSERT INTO approvals (${APPROVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          a.id,
          a.resourceType,
          a.resourceId,
          a.action,
          a.approver,
          a.version,
          a.digest,
          a.comment,
          a.at,
        ]);
        await writes.appendAudit(tx, audit);
      });
    },
    async appendAudit(audit) {
      await driver.transaction(async (tx) => writes.appendAudit(tx, audit));
    },
  };
}
