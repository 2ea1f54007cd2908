import type { ApprovalAction, Role } from '@dimmer/api';
import type { AuditInput } from '../storage/write.ts';

/** A sign-in session as stored: only SHA-256 hashes of its secret and of its CSRF token are kept. */
export interface SessionRecord {
  id: string;
  tokenHash: string;
  csrfHash: string;
  /** The audit actor: `user:<email or subject>`. */
  actor: string;
  /** The provider's subject (`sub`). */
  subject: string;
  name: string | null;
  email: string | null;
  /** The provider groups at sign-in (the groups claim). */
  groups: string[];
  via: 'browser' | 'device';
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/** An explicit role grant to a person or a provider group. */
export interface GrantRecord {
  id: string;
  /** `user:<email or subject>` or `group:<name>`. */
  subject: string;
  /** An environment key, or `*` for every environment. */
  environment: string;
  role: Role;
  createdAt: number;
  createdBy: string;
}

/** One approval of a rollout or experiment at a reviewed version. */
export interface ApprovalRecord {
  id: string;
  resourceType: 'rollout' | 'experiment';
  resourceId: string;
  action: ApprovalAction;
  approver: string;
  /** The version of the rollout or experiment the approver reviewed. */
  version: number;
  /** Digest of what was reviewed (the plan and the flag document); a change makes the approval stale. */
  digest: string;
  comment: string | null;
  at: number;
}

/** Sessions, grants and approvals; writes that change access record their audit entry in the same transaction. */
export interface PeopleStore {
  /** Throws StoreConflictError on a duplicate id or hash. */
  createSession(record: SessionRecord, audit: AuditInput): Promise<void>;
  findSessionByHash(tokenHash: string): Promise<SessionRecord | undefined>;
  /** Sessions not expired before `since`, newest first, at most `limit`. */
  listSessions(options: { since: number; limit: number }): Promise<SessionRecord[]>;
  /** Marks the session revoked (idempotent); undefined when unknown. */
  revokeSession(id: string, audit: AuditInput): Promise<SessionRecord | undefined>;
  /** Deletes sessions that expired before `before`; returns how many. */
  pruneSessions(before: number): Promise<number>;

  /** Grants ordered by subject, then environment. */
  listGrants(): Promise<GrantRecord[]>;
  /** Throws StoreConflictError when the subject already has a grant in that environment. */
  createGrant(record: GrantRecord, audit: AuditInput): Promise<void>;
  /** Deletes a grant; false when unknown. */
  deleteGrant(id: string, audit: (record: GrantRecord) => AuditInput): Promise<boolean>;

  /** Approvals of one resource, oldest first. */
  listApprovals(resourceType: ApprovalRecord['resourceType'], resourceId: string): Promise<ApprovalRecord[]>;
  createApproval(record: ApprovalRecord, audit: AuditInput): Promise<void>;
  /** Records an audit entry alone (an approval request). */
  appendAudit(audit: AuditInput): Promise<void>;
}
