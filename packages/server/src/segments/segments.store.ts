import type { Segment } from '@dimmer/core';
import type { AuditInput, WriteResult } from '../storage/write.ts';

export interface SegmentRecord {
  segment: Segment;
  revision: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** Segment writes bump every environment's config version and record the audit entry in one transaction. */
export interface SegmentsStore {
  /** Segments ordered by key. */
  list(): Promise<SegmentRecord[]>;
  get(key: string): Promise<SegmentRecord | undefined>;
  /** Throws StoreConflictError when the key exists. */
  create(segment: Segment, audit: AuditInput): Promise<WriteResult<SegmentRecord>>;
  /** Throws StoreConflictError when the revision moved on, StoreNotFoundError when the segment is gone. */
  update(
    segment: Segment,
    options: { expectedRevision: number },
    audit: AuditInput,
  ): Promise<WriteResult<SegmentRecord>>;
  /** Throws StoreConflictError when the revision moved on, StoreNotFoundError when the segment is gone. */
  delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<WriteResult<null>>;
}
