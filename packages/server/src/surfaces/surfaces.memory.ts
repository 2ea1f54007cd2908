/** The surfaces port in memory (unit tests): the generic document store. */
import { typedStore } from '../storage/document-stores.ts';
import type { MemoryDatabase } from '../storage/memory/memory-database.ts';
import { createMemoryDocumentStore } from '../storage/memory/memory-documents.ts';
import type { Surface, SurfacesStore } from './surfaces.store.ts';

/** The surfaces store over the shared in-memory database. */
export function createMemorySurfacesStore(db: MemoryDatabase): SurfacesStore {
  const store = typedStore(createMemoryDocumentStore<Surface>(db, 'surfaces', 'surface'), 'surface');
  return {
    ...store,
    async updateHoldback(surface, options, audit) {
      const value = await store.update(surface, options, audit);
      return { value, changes: db.bumpAll(audit.at) };
    },
  };
}
