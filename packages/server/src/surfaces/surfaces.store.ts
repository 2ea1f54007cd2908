import type { ApprovalPolicy } from '@dimmer/api';
import type { AuditInput } from '../storage/write.ts';

/** A guardrail a surface requires of every rollout on its flags; `margin` overrides the metric's own. */
export interface SurfaceGuardrail {
  metric: string;
  margin?: number;
}

/** An area of the product (checkout, search); flags name it in their `surface` field. */
export interface Surface {
  key: string;
  name: string;
  description?: string;
  guardrails: SurfaceGuardrail[];
  /** Approvals a rollout or experiment on this surface needs before it starts (and past a reach). */
  approvals?: ApprovalPolicy;
}

export interface SurfaceRecord {
  surface: Surface;
  revision: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** Surface writes record their audit entry in the same transaction. */
export interface SurfacesStore {
  /** Surfaces ordered by key. */
  list(): Promise<SurfaceRecord[]>;
  get(key: string): Promise<SurfaceRecord | undefined>;
  /** Throws StoreConflictError when the key exists. */
  create(surface: Surface, audit: AuditInput): Promise<SurfaceRecord>;
  /** Throws StoreConflictError when the revision moved on, StoreNotFoundError when the surface is gone. */
  update(surface: Surface, options: { expectedRevision: number }, audit: AuditInput): Promise<SurfaceRecord>;
  /** Throws StoreConflictError when the revision moved on, StoreNotFoundError when the surface is gone. */
  delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<void>;
}
