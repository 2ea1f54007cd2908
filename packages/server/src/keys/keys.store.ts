import type { Role } from '@dimmer/api';
import type { ClientKeyKind } from '../client-deps.ts';
import type { AuditInput } from '../storage/write.ts';

/** A client key as stored: only the SHA-256 hash of the secret is kept. */
export interface ClientKeyRecord {
  id: string;
  name: string;
  environment: string;
  kind: ClientKeyKind;
  allowedOrigins: string[];
  /** Events per minute the key may send to `/v1/events`; null: the server default. */
  eventsPerMinute: number | null;
  /** The key's own requests per minute per route; null: the default of its kind. */
  rateLimitPerMinute: number | null;
  /** The first characters of the secret, to recognise a key in lists. */
  prefix: string;
  /** Hex SHA-256 of the raw key. */
  keyHash: string;
  /** Epoch milliseconds. */
  createdAt: number;
  revokedAt: number | null;
}

/** An admin token as stored: only the SHA-256 hash of the secret is kept. */
export interface AdminTokenRecord {
  id: string;
  name: string;
  tokenHash: string;
  /** The token's role in every environment (tokens stored before roles existed are admins). */
  role: Role;
  /** Who answers for the token (`user:<email>`), or null (tokens made at start or before owners existed). */
  owner: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  revokedAt: number | null;
}

/** Credentials: client keys (SDK routes) and admin tokens (admin API). */
export interface KeysStore {
  /** Throws StoreConflictError on a duplicate id or hash. */
  createClientKey(record: ClientKeyRecord, audit: AuditInput): Promise<void>;
  /** Keys ordered by creation time, then id. */
  listClientKeys(filter?: { environment?: string }): Promise<ClientKeyRecord[]>;
  getClientKey(id: string): Promise<ClientKeyRecord | undefined>;
  findClientKeyByHash(keyHash: string): Promise<ClientKeyRecord | undefined>;
  /** Marks the key revoked (idempotent: a revoked key keeps its first revocation time); undefined when unknown. */
  revokeClientKey(id: string, audit: AuditInput): Promise<ClientKeyRecord | undefined>;
  countAdminTokens(): Promise<number>;
  /** Throws StoreConflictError on a duplicate id or hash. */
  createAdminToken(record: AdminTokenRecord, audit: AuditInput): Promise<void>;
  findAdminTokenByHash(tokenHash: string): Promise<AdminTokenRecord | undefined>;
  /** Every admin token, revoked ones too, ordered by creation time, then id. */
  listAdminTokens(): Promise<AdminTokenRecord[]>;
  /** Marks the token revoked (idempotent: the first revocation time stays); undefined when unknown. */
  revokeAdminToken(id: string, audit: AuditInput): Promise<AdminTokenRecord | undefined>;
  /**
   * In one transaction: stores `next` and revokes the active token `id` (at `audit.at`). Throws
   * StoreNotFoundError when `id` is unknown or already revoked, StoreConflictError on a duplicate.
   */
  rotateAdminToken(id: string, next: AdminTokenRecord, audit: AuditInput): Promise<void>;
}
