/** The surfaces port in memory (unit tests): the generic document store. */
import { typedStore } from '../storage/document-stores.ts';
import type { MemoryDatabase } from '../storage/memory/memory-database.ts';
import { createMemoryDocumentStore } from '../storage/memory/memory-documents.ts';
import type { Surface, SurfacesStore } from './surfaces.store.ts';

/** The surfaces store over the shared in-memory database. */
export function createMemorySurfacesStore(db: MemoryDatabase): SurfacesStore {
  return typedStore(createMemoryDocumentStore<Surface>(db, 'surfaces', 'surface'), 'surface');
}
