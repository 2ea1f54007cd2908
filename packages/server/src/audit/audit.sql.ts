/** The audit log port over SQL (SQLite and PostgreSQL); entries are written by the other stores' transactions. */
import type { Row, SqlDriver } from '../storage/sql/sql-driver.ts';
import { json, num, str, whereClause } from '../storage/sql/sql-rows.ts';
import type { ResourceType } from '../storage/write.ts';
import type { AuditEntry, AuditStore } from './audit.store.ts';

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

/** The audit store over a migrated driver. */
export function createSqlAuditStore(driver: SqlDriver): AuditStore {
  return {
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
        `SELECT * FROM audit_log${whereClause(where)} ORDER BY id DESC LIMIT ?`,
        params,
      );
      return rows.map(toAudit);
    },
  };
}
