/** The client key and admin token port in memory (unit tests). */
import {
  byCreation,
  copy,
  ENVIRONMENTS_TABLE,
  type MemoryDatabase,
} from '../storage/memory/memory-database.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { AdminTokenRecord, ClientKeyRecord, KeysStore } from './keys.store.ts';

/** The keys store over the shared in-memory database. */
export function createMemoryKeysStore(db: MemoryDatabase): KeysStore {
  const clientKeys = db.table<ClientKeyRecord>('client_keys');
  const adminTokens = db.table<AdminTokenRecord>('admin_tokens');
  const environments = db.table<unknown>(ENVIRONMENTS_TABLE);
  return {
    async createClientKey(record, auditInput) {
      db.checkOpen();
      if (clientKeys.has(record.id) || [...clientKeys.values()].some((k) => k.keyHash === record.keyHash))
        throw new StoreConflictError('client key exists');
      if (!environments.has(record.environment))
        throw new StoreNotFoundError(`environment ${record.environment} not found`);
      clientKeys.set(record.id, copy(record));
      db.appendAudit(auditInput);
    },
    async listClientKeys(filter = {}) {
      return [...clientKeys.values()]
        .filter((k) => filter.environment === undefined || k.environment === filter.environment)
        .sort(byCreation)
        .map(copy);
    },
    async getClientKey(id) {
      return copy(clientKeys.get(id));
    },
    async findClientKeyByHash(keyHash) {
      return copy([...clientKeys.values()].find((k) => k.keyHash === keyHash));
    },
    async revokeClientKey(id, auditInput) {
      db.checkOpen();
      const current = clientKeys.get(id);
      if (!current) return undefined;
      if (current.revokedAt === null) {
        current.revokedAt = auditInput.at;
        db.appendAudit(auditInput);
      }
      return copy(current);
    },
    async countAdminTokens() {
      return adminTokens.size;
    },
    async createAdminToken(record, auditInput) {
      db.checkOpen();
      if (
        adminTokens.has(record.id) ||
        [...adminTokens.values()].some((t) => t.tokenHash === record.tokenHash)
      )
        throw new StoreConflictError('admin token exists');
      adminTokens.set(record.id, copy(record));
      db.appendAudit(auditInput);
    },
    async findAdminTokenByHash(tokenHash) {
      return copy([...adminTokens.values()].find((t) => t.tokenHash === tokenHash));
    },
    async listAdminTokens() {
      return [...adminTokens.values()].sort(byCreation).map(copy);
    },
    async revokeAdminToken(id, auditInput) {
      db.checkOpen();
      const current = adminTokens.get(id);
      if (!current) return undefined;
      if (current.revokedAt === null) {
        current.revokedAt = auditInput.at;
        db.appendAudit(auditInput);
      }
      return copy(current);
    },
    async rotateAdminToken(id, next, auditInput) {
      db.checkOpen();
      const current = adminTokens.get(id);
      if (!current || current.revokedAt !== null) throw new StoreNotFoundError(`admin token ${id} not found`);
      if (adminTokens.has(next.id) || [...adminTokens.values()].some((t) => t.tokenHash === next.tokenHash))
        throw new StoreConflictError('admin token exists');
      current.revokedAt = auditInput.at;
      adminTokens.set(next.id, copy(next));
      db.appendAudit(auditInput);
    },
  };
}
