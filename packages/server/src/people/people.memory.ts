/** The sessions, grants and approvals port in memory (unit tests). */
import { copy, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import { StoreConflictError } from '../storage/write.ts';
import type { ApprovalRecord, GrantRecord, PeopleStore, SessionRecord } from './people.store.ts';

/** The people store over the shared in-memory database. */
export function createMemoryPeopleStore(db: MemoryDatabase): PeopleStore {
  const sessions = db.table<SessionRecord>('sessions');
  const grants = db.table<GrantRecord>('role_grants');
  const approvals = db.table<ApprovalRecord>('approvals');
  return {
    async createSession(record, audit) {
      db.checkOpen();
      if (sessions.has(record.id) || [...sessions.values()].some((s) => s.tokenHash === record.tokenHash))
        throw new StoreConflictError('session exists');
      sessions.set(record.id, copy(record));
      db.appendAudit(audit);
    },
    async findSessionByHash(tokenHash) {
      db.checkOpen();
      return copy([...sessions.values()].find((s) => s.tokenHash === tokenHash));
    },
    async listSessions({ since, limit }) {
      return [...sessions.values()]
        .filter((s) => s.expiresAt >= since)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .slice(0, limit)
        .map(copy);
    },
    async revokeSession(id, audit) {
      db.checkOpen();
      const current = sessions.get(id);
      if (!current) return undefined;
      if (current.revokedAt === null) {
        current.revokedAt = audit.at;
        db.appendAudit(audit);
      }
      return copy(current);
    },
    async pruneSessions(before) {
      let n = 0;
      for (const [id, s] of sessions)
        if (s.expiresAt < before) {
          sessions.delete(id);
          n++;
        }
      return n;
    },
    async listGrants() {
      return [...grants.values()]
        .sort((a, b) =>
          a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.environment < b.environment ? -1 : 1,
        )
        .map(copy);
    },
    async createGrant(record, audit) {
      db.checkOpen();
      if (
        grants.has(record.id) ||
        [...grants.values()].some((g) => g.subject === record.subject && g.environment === record.environment)
      )
        throw new StoreConflictError('grant exists');
      grants.set(record.id, copy(record));
      db.appendAudit(audit);
    },
    async deleteGrant(id, audit) {
      db.checkOpen();
      const current = grants.get(id);
      if (!current) return false;
      grants.delete(id);
      db.appendAudit(audit(copy(current)));
      return true;
    },
    async listApprovals(resourceType, resourceId) {
      return [...approvals.values()]
        .filter((a) => a.resourceType === resourceType && a.resourceId === resourceId)
        .sort((a, b) => a.at - b.at)
        .map(copy);
    },
    async createApproval(record, audit) {
      db.checkOpen();
      if (approvals.has(record.id)) throw new StoreConflictError('approval exists');
      approvals.set(record.id, copy(record));
      db.appendAudit(audit);
    },
    async appendAudit(audit) {
      db.checkOpen();
      db.appendAudit(audit);
    },
  };
}
