/** The surfaces port over SQL: the generic document store on table `surfaces`. */
import { typedStore } from '../storage/document-stores.ts';
import { createSqlDocumentStore } from '../storage/sql/sql-documents.ts';
import type { SqlDriver } from '../storage/sql/sql-driver.ts';
import type { SqlWrites } from '../storage/sql/sql-writes.ts';
import type { Surface, SurfacesStore } from './surfaces.store.ts';

/** The surfaces store over a migrated driver. */
export function createSqlSurfacesStore(driver: SqlDriver, writes: SqlWrites): SurfacesStore {
  return typedStore(createSqlDocumentStore<Surface>(driver, writes, 'surfaces', 'surface'), 'surface');
}
