/**
 * Sign-in sessions: opened after the provider vouched for a person (browser or device sign-in), stored
 * server-side by the hash of their secret, expiring, revocable. The browser holds the secret in an HttpOnly
 * cookie and a CSRF token in a readable one; the CLI holds the secret as a bearer token. Lookups are cached
 * briefly: a revocation takes effect at once on this node and within a second on the others.
 */
import type { SessionView } from '@dimmer/api';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { generateId, generateSecret, hashSecret } from '../secrets.ts';
import type { PeopleStore, SessionRecord } from './people.store.ts';

/** Prefix of session secrets (cookie values and CLI bearer tokens). */
export const SESSION_TOKEN_PREFIX = 'dmr_ses_';
/** Default session lifetime, in milliseconds (12 hours). */
export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;
const CACHE_MS = 1_000;
const CACHE_MAX = 10_000;
const LIST_LIMIT = 500;

/** What the provider said about the person. */
export interface Identity {
  subject: string;
  email: string | null;
  name: string | null;
  groups: string[];
}

/** The audit actor of a person: `user:<email>`, or `user:<subject>` when the provider gave no email. */
export function personActor(identity: { subject: string; email: string | null }): string {
  return `user:${identity.email ?? identity.subject}`;
}

export function toSessionView(record: SessionRecord): SessionView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: record.id,
    actor: record.actor,
    name: record.name,
    email: record.email,
    groups: record.groups,
    via: record.via,
    createdAt: iso(record.createdAt),
    expiresAt: iso(record.expiresAt),
    revokedAt: record.revokedAt === null ? null : iso(record.revokedAt),
  };
}

export class SessionsService {
  readonly #cache = new Map<string, { record: SessionRecord | null; until: number }>();

  constructor(private readonly deps: { store: PeopleStore; clock: Clock; ttlMs: number }) {}

  /** Opens a session; the secret and CSRF token are in the result and nowhere else. */
  async open(
    identity: Identity,
    via: SessionRecord['via'],
  ): Promise<{ session: SessionRecord; token: string; csrf: string }> {
    const token = generateSecret(SESSION_TOKEN_PREFIX);
    const csrf = generateSecret('');
    const now = this.deps.clock.now();
    const record: SessionRecord = {
      id: generateId('ses_'),
      tokenHash: hashSecret(token),
      csrfHash: hashSecret(csrf),
      actor: personActor(identity),
      subject: identity.subject,
      name: identity.name,
      email: identity.email,
      groups: identity.groups,
      via,
      createdAt: now,
      expiresAt: now + this.deps.ttlMs,
      revokedAt: null,
    };
    await this.deps.store.createSession(record, {
      at: now,
      actor: record.actor,
      action: 'session.create',
      resourceType: 'session',
      resourceKey: record.id,
      before: null,
      after: toSessionView(record),
    });
    return { session: record, token, csrf };
  }

  /** The live session of a secret, or null (unknown, expired or revoked). */
  async authenticate(rawToken: string): Promise<SessionRecord | null> {
    if (!rawToken.startsWith(SESSION_TOKEN_PREFIX)) return null;
    const hash = hashSecret(rawToken);
    const now = this.deps.clock.now();
    const cached = this.#cache.get(hash);
    let record: SessionRecord | null;
    if (cached !== undefined && cached.until > now) record = cached.record;
    else {
      record = (await this.deps.store.findSessionByHash(hash)) ?? null;
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      this.#cache.set(hash, { record, until: now + CACHE_MS });
    }
    if (record === null || record.revokedAt !== null || record.expiresAt <= now) return null;
    return record;
  }

  /** Whether `csrf` is the CSRF token of `session`. */
  checkCsrf(session: SessionRecord, csrf: string | undefined): boolean {
    return csrf !== undefined && csrf !== '' && hashSecret(csrf) === session.csrfHash;
  }

  /** Sessions not yet expired, newest first. */
  async list(): Promise<SessionView[]> {
    const rows = await this.deps.store.listSessions({ since: this.deps.clock.now(), limit: LIST_LIMIT });
    return rows.map(toSessionView);
  }

  /** Ends a session at once on this node (within a second on others). NOT_FOUND for an unknown id. */
  async revoke(id: string, actor: string): Promise<SessionView> {
    const now = this.deps.clock.now();
    const revoked = await this.deps.store.revokeSession(id, {
      at: now,
      actor,
      action: 'session.revoke',
      resourceType: 'session',
      resourceKey: id,
      before: null,
      after: { id, revokedAt: new Date(now).toISOString() },
    });
    if (!revoked) throw new AppError('NOT_FOUND', `session ${id} not found`);
    for (const [hash, entry] of this.#cache) if (entry.record?.id === id) this.#cache.delete(hash);
    this.#cache.set(revoked.tokenHash, { record: revoked, until: now + CACHE_MS });
    return toSessionView(revoked);
  }

  /** Deletes sessions expired for a day. */
  async prune(): Promise<number> {
    return this.deps.store.pruneSessions(this.deps.clock.now() - 86_400_000);
  }
}
