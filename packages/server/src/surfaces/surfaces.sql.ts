/** The surfaces port over SQL: the generic document store on table `surfaces`. */
import { typedStore } from '../storage/document-stores.ts';
import { createSqlDocumentStore } from '../storage/sql/sql-documents.ts';
import type { SqlDriver } from '../storage/sql/sql-driver.ts';
import { num } from '../storage/sql/sql-rows.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { Surface, SurfacesStore } from './surfaces.store.ts';

/** The surfaces store over a migrated driver. */
export function createSqlSurfacesStore(driver: SqlDriver, writes: SqlWrites): SurfacesStore {
  const store = typedStore(createSqlDocumentStore<Surface>(driver, writes, 'surfaces', 'surface'), 'surface');
  return {
    ...store,
    updateHoldback(surface, options, audit) {
      return driver.transaction(async (tx) => {
        const [row] = await tx.all(
          'UPDATE surfaces SET document = ?, revision = revision + 1, updated_at = ? WHERE key = ? AND revision = ? RETURNING revision, created_at, updated_at',
          [JSON.stringify(surface), audit.at, surface.key, options.expectedRevision],
        );
        if (!row) {
          const [exists] = await tx.all('SELECT revision FROM surfaces WHERE key = ?', [surface.key]);
          if (!exists) throw new StoreNotFoundError(`surface ${surface.key} not found`);
          throw new StoreConflictError(`surface ${surface.key} was changed concurrently`);
        }
        await writes.appendAudit(tx, audit);
        const changes = await writes.bumpAll(tx, audit.at);
        return {
          value: {
            surface,
            revision: num(row.revision),
            createdAt: num(row.created_at),
            updatedAt: num(row.updated_at),
          },
          changes,
        };
      });
    },
  };
}
