/**
 * The generic document store: a keyed JSON document with a revision, stored the same way on every adapter
 * (metrics and surfaces use it). `typedStore` turns one into a feature's port, whose records carry the
 * document under the feature's own name.
 */
import type { AuditInput } from './write.ts';

/** One stored document with its revision and times (epoch milliseconds). */
export interface DocumentRecord<T> {
  doc: T;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** A keyed document store with optimistic concurrency; every write records its audit entry. */
export interface DocumentStore<T> {
  list(): Promise<DocumentRecord<T>[]>;
  get(key: string): Promise<DocumentRecord<T> | undefined>;
  create(doc: T, audit: AuditInput): Promise<DocumentRecord<T>>;
  update(doc: T, options: { expectedRevision: number }, audit: AuditInput): Promise<DocumentRecord<T>>;
  delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<void>;
}

/** Wraps a document store so its records carry the document under `name` (`metric`, `surface`). */
export function typedStore<T, N extends string>(docs: DocumentStore<T>, name: N) {
  type Typed = { [K in N]: T } & Omit<DocumentRecord<T>, 'doc'>;
  const typed = ({ doc, ...rest }: DocumentRecord<T>) => ({ [name]: doc, ...rest }) as Typed;
  return {
    list: async () => (await docs.list()).map(typed),
    get: async (key: string) => {
      const record = await docs.get(key);
      return record ? typed(record) : undefined;
    },
    create: async (doc: T, audit: AuditInput) => typed(await docs.create(doc, audit)),
    update: async (doc: T, options: { expectedRevision: number }, audit: AuditInput) =>
      typed(await docs.update(doc, options, audit)),
    delete: (key: string, options: { expectedRevision: number }, audit: AuditInput) =>
      docs.delete(key, options, audit),
  };
}
