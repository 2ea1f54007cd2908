import type { ApprovalPolicy } from '@dimmer/api';
import type { MetricDefinition } from '../metrics/index.ts';
import type { AuditInput, WriteResult } from '../storage/write.ts';

/** A guardrail a surface requires of every rollout on its flags; `margin` overrides the metric's own. */
export interface SurfaceGuardrail {
  metric: string;
  margin?: number;
}

/**
 * A surface's holdback: a fixed share of units (by the hash of its own salt) that every rollout and experiment
 * on the surface's flags serves the default. Immutable once set except to disable it; a later holdback is a new
 * generation with a new salt.
 */
export interface SurfaceHoldback {
  percent: number;
  salt: string;
  /** 1 for the surface's first holdback, then one more for each new one (its statistics are kept apart). */
  generation: number;
  enabled: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  disabledAt: number | null;
  /** The surface's required metrics as they were when the holdback was set: what its report compares. */
  metrics: MetricDefinition[];
}

/** An area of the product (checkout, search); flags name it in their `surface` field. */
export interface Surface {
  key: string;
  name: string;
  description?: string;
  guardrails: SurfaceGuardrail[];
  holdback?: SurfaceHoldback;
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
  /**
   * Replaces the surface (its holdback changed) and, in the same transaction, moves every environment to its next
   * config version: the holdback ships with the flags of the surface. Throws like `update`.
   */
  updateHoldback(
    surface: Surface,
    options: { expectedRevision: number },
    audit: AuditInput,
  ): Promise<WriteResult<SurfaceRecord>>;
  /** Throws StoreConflictError when the revision moved on, StoreNotFoundError when the surface is gone. */
  delete(key: string, options: { expectedRevision: number }, audit: AuditInput): Promise<void>;
}
