/**
 * Client keys and admin tokens: creation (secret shown once), listing without secrets, revocation, and
 * authentication. Client keys are answered from an in-memory table of every key (live and revoked), loaded at
 * start, reloaded when another node announces a key change (PostgreSQL NOTIFY) and every KEYS_RELOAD_MS as a
 * fallback, so SDK routes keep authenticating while the database is unreachable. A key missing from the table
 * (created on another node a moment ago) is read from the store. Admin tokens use a short cache.
 */

import type { AdminTokenView as ApiAdminTokenView, Role } from '@dimmer/api';
import type { ClientKeyKind, ClientPrincipal } from '../client-deps.ts';
import type { Clock } from '../clock.ts';
import type { EnvironmentsStore } from '../environments/index.ts';
import { AppError } from '../errors.ts';
import { ANY_ORIGIN } from '../http/client-auth.ts';
import {
  ADMIN_TOKEN_PREFIX,
  BROWSER_KEY_PREFIX,
  generateId,
  generateSecret,
  hashSecret,
  MIN_CUSTOM_TOKEN_LENGTH,
  SERVER_KEY_PREFIX,
  visiblePrefix,
} from '../secrets.ts';
import { type AuditInput, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { AdminTokenRecord, ClientKeyRecord, KeysStore } from './keys.store.ts';

/** How long a key lookup is cached, in milliseconds. */
export const CACHE_TTL_MS = 1_000;
/** Default interval between full reloads of the client key table, in milliseconds. */
export const DEFAULT_KEYS_RELOAD_MS = 30_000;
/** Cache entries kept before the cache is cleared (bounds memory under key-guessing traffic). */
const CACHE_MAX_ENTRIES = 10_000;

/** A client key as the API shows it: no secret, no hash. */
export interface ClientKeyView {
  id: string;
  name: string;
  environment: string;
  kind: ClientKeyKind;
  allowedOrigins: string[];
  /** Events per minute the key may send; null: the server default. */
  eventsPerMinute: number | null;
  rateLimitPerMinute: number | null;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

/** The name of the token given through DIMMER_ADMIN_TOKEN (`from-environment` in installs before names mattered). */
export const ENV_TOKEN_NAME = 'env';
const ENV_TOKEN_NAMES: readonly string[] = [ENV_TOKEN_NAME, 'from-environment'];
/** The name of the token a start generates when no admin token is active. */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap';
/** The audit actor of start-time changes. */
const SYSTEM_ACTOR = 'system';

/** An admin token as the API shows it: no secret, no hash. */
export type AdminTokenView = ApiAdminTokenView;

/** The API view of a stored admin token. */
export function toAdminTokenView(record: AdminTokenRecord): AdminTokenView {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    owner: record.owner,
    createdAt: new Date(record.createdAt).toISOString(),
    revokedAt: isoTime(record.revokedAt),
  };
}

export interface AdminPrincipal {
  tokenId: string;
  name: string;
  /** The audit actor: `token:<token name>`. */
  actor: string;
  /** The token's role in every environment. */
  role: Role;
  owner: string | null;
}

class TtlCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();
  constructor(private readonly clock: Clock) {}

  /** The live entry of `key` (the stored entry itself: a lookup allocates nothing), or undefined. */
  get(key: string): { readonly value: T } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, value: T): void {
    if (this.#entries.size >= CACHE_MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(key, { value, expiresAt: this.clock.now() + CACHE_TTL_MS });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}

function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The API view of a stored client key. */
export function toClientKeyView(record: ClientKeyRecord): ClientKeyView {
  return {
    id: record.id,
    name: record.name,
    environment: record.environment,
    kind: record.kind,
    allowedOrigins: record.allowedOrigins,
    eventsPerMinute: record.eventsPerMinute ?? null,
    rateLimitPerMinute: record.rateLimitPerMinute,
    prefix: record.prefix,
    createdAt: new Date(record.createdAt).toISOString(),
    revokedAt: isoTime(record.revokedAt),
  };
}

/** True when `origin` is a bare origin (`https://app.example.com[:port]`). */
function isOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
  } catch {
    return false;
  }
}

function toPrincipal(record: ClientKeyRecord): ClientPrincipal | null {
  return record.revokedAt === null
    ? {
        keyId: record.id,
        environment: record.environment,
        kind: record.kind,
        allowedOrigins: [...record.allowedOrigins],
        eventsPerMinute: record.eventsPerMinute ?? null,
        ...(record.rateLimitPerMinute !== null ? { rateLimitPerMinute: record.rateLimitPerMinute } : {}),
      }
    : null;
}

export class KeysService {
  readonly #clientCache: TtlCache<ClientPrincipal | null>;
  readonly #adminCache: TtlCache<AdminPrincipal | null>;
  /** Every stored client key by hash: its principal, or null when revoked; undefined until first loaded. */
  #table: Map<string, ClientPrincipal | null> | undefined;
  /** Hashes revoked through this node (re-applied over a reload that read before the revocation committed). */
  readonly #revokedHere = new Set<string>();
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { keys: KeysStore; environments: EnvironmentsStore; clock: Clock }) {
    this.#clientCache = new TtlCache(deps.clock);
    this.#adminCache = new TtlCache(deps.clock);
  }

  /** Loads the client key table now (coalescing overlapping calls: a call during a reload runs one more after it). */
  reloadClientKeys(): Promise<void> {
    if (this.#reloading !== undefined) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      try {
        do {
          this.#reloadAgain = false;
          const records = await this.deps.keys.listClientKeys();
          const table = new Map<string, ClientPrincipal | null>();
          for (const record of records) table.set(record.keyHash, toPrincipal(record));
          for (const hash of this.#revokedHere) if (table.has(hash)) table.set(hash, null);
          this.#table = table;
        } while (this.#reloadAgain);
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  /** Reloads the table every `intervalMs` (0: never); failures are reported and the table kept. */
  startKeyReload(intervalMs: number, onError: (error: unknown) => void): void {
    if (intervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.reloadClientKeys().catch(onError);
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the periodic reload. */
  stopKeyReload(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Creates a client key; the raw secret is in the result and nowhere else. */
  async createClientKey(
    input: {
      name: string;
      environment: string;
      kind: ClientKeyKind;
      allowedOrigins?: string[];
      eventsPerMinute?: number | null;
      /** The key's own requests per minute per route; null or absent: the default of its kind. */
      rateLimitPerMinute?: number | null;
    },
    actor: string,
  ): Promise<{ key: ClientKeyView; secret: string }> {
    const issues: { path: string; message: string }[] = [];
    (input.allowedOrigins ?? []).forEach((origin, i) => {
      if (origin !== ANY_ORIGIN && !isOrigin(origin))
        issues.push({
          path: `allowedOrigins[${i}]`,
          message: 'expected an origin like https://app.example.com, or "*" for any origin',
        });
    });
    if (!(await this.deps.environments.get(input.environment)))
      issues.push({ path: 'environment', message: `unknown environment "${input.environment}"` });
    if (issues.length > 0) throw new AppError('VALIDATION_FAILED', 'the key is invalid', { issues });
    const prefix = input.kind === 'server' ? SERVER_KEY_PREFIX : BROWSER_KEY_PREFIX;
    const secret = generateSecret(prefix);
    const now = this.deps.clock.now();
    const record: ClientKeyRecord = {
      id: generateId('key_'),
      name: input.name,
      environment: input.environment,
      kind: input.kind,
      allowedOrigins: input.allowedOrigins ?? [],
      eventsPerMinute: input.eventsPerMinute ?? null,
      rateLimitPerMinute: input.rateLimitPerMinute ?? null,
      prefix: visiblePrefix(secret, prefix),
      keyHash: hashSecret(secret),
      createdAt: now,
      revokedAt: null,
    };
    const view = toClientKeyView(record);
    try {
      await this.deps.keys.createClientKey(record, {
        at: now,
        actor,
        action: 'client_key.create',
        resourceType: 'client_key',
        resourceKey: record.id,
        environment: record.environment,
        before: null,
        after: view,
      });
    } catch (error) {
      if (error instanceof StoreNotFoundError)
        throw new AppError('VALIDATION_FAILED', 'the key is invalid', {
          issues: [{ path: 'environment', message: `unknown environment "${input.environment}"` }],
        });
      throw error;
    }
    this.#clientCache.delete(record.keyHash);
    this.#table?.set(record.keyHash, toPrincipal(record));
    return { key: view, secret };
  }

  /** Client keys without secrets, optionally of one environment. */
  async listClientKeys(environment?: string): Promise<ClientKeyView[]> {
    const records = await this.deps.keys.listClientKeys(environment === undefined ? {} : { environment });
    return records.map(toClientKeyView);
  }

  /** Revokes a key; it stops authenticating at once on this node. Throws NOT_FOUND for an unknown id. */
  async revokeClientKey(id: string, actor: string): Promise<ClientKeyView> {
    const current = await this.deps.keys.getClientKey(id);
    if (!current) throw new AppError('NOT_FOUND', `client key ${id} not found`);
    const now = this.deps.clock.now();
    const revoked = await this.deps.keys.revokeClientKey(id, {
      at: now,
      actor,
      action: 'client_key.revoke',
      resourceType: 'client_key',
      resourceKey: id,
      environment: current.environment,
      before: toClientKeyView(current),
      after: toClientKeyView({ ...current, revokedAt: current.revokedAt ?? now }),
    });
    if (!revoked) throw new AppError('NOT_FOUND', `client key ${id} not found`);
    this.#clientCache.delete(revoked.keyHash);
    this.#revokedHere.add(revoked.keyHash);
    this.#table?.set(revoked.keyHash, null);
    return toClientKeyView(revoked);
  }

  /**
   * The principal of a live client key, or null (unknown, revoked, or not a client key). `keyHash` is
   * `hashSecret(rawKey)` when the caller already computed it for this request.
   */
  async authenticateClientKey(rawKey: string, keyHash?: string): Promise<ClientPrincipal | null> {
    return this.resolveClientKey(rawKey, keyHash);
  }

  /**
   * As authenticateClientKey, but answers synchronously (no promise, no microtask) when the key's
   * principal is cached; only a cache miss returns a promise that reads the store.
   */
  resolveClientKey(
    rawKey: string,
    keyHash?: string,
  ): ClientPrincipal | null | Promise<ClientPrincipal | null> {
    if (!rawKey.startsWith(SERVER_KEY_PREFIX) && !rawKey.startsWith(BROWSER_KEY_PREFIX)) return null;
    const hash = keyHash ?? hashSecret(rawKey);
    const known = this.#table?.get(hash);
    if (known !== undefined) return known;
    const cached = this.#clientCache.get(hash);
    if (cached) return cached.value;
    return this.#loadClientKey(hash);
  }

  async #loadClientKey(hash: string): Promise<ClientPrincipal | null> {
    const record = await this.deps.keys.findClientKeyByHash(hash);
    const principal = record === undefined ? null : toPrincipal(record);
    this.#clientCache.set(hash, principal);
    if (record !== undefined && !this.#revokedHere.has(hash)) this.#table?.set(hash, principal);
    return principal;
  }

  /** The principal of a live admin token, or null. */
  async authenticateAdmin(rawToken: string): Promise<AdminPrincipal | null> {
    if (!rawToken.startsWith(ADMIN_TOKEN_PREFIX) && !this.#looksLikeCustomToken(rawToken)) return null;
    const hash = hashSecret(rawToken);
    const cached = this.#adminCache.get(hash);
    if (cached) return cached.value;
    const record = await this.deps.keys.findAdminTokenByHash(hash);
    const principal = record && record.revokedAt === null ? toAdminPrincipal(record) : null;
    this.#adminCache.set(hash, principal);
    return principal;
  }

  /** Admin tokens without secrets, revoked ones too, oldest first. */
  async listAdminTokens(): Promise<AdminTokenView[]> {
    return (await this.deps.keys.listAdminTokens()).map(toAdminTokenView);
  }

  /** Creates a named admin token; the raw secret is in the result and nowhere else. */
  async createAdminToken(
    input: string | { name: string; role?: Role; owner?: string },
    actor: string,
  ): Promise<{ token: AdminTokenView; secret: string }> {
    const { name, role = 'admin', owner = actor } = typeof input === 'string' ? { name: input } : input;
    if (ENV_TOKEN_NAMES.includes(name))
      throw new AppError('VALIDATION_FAILED', 'the token is invalid', {
        issues: [{ path: 'name', message: `"${name}" is reserved for the DIMMER_ADMIN_TOKEN token` }],
      });
    const tokens = await this.deps.keys.listAdminTokens();
    if (tokens.some((t) => t.revokedAt === null && t.name === name))
      throw new AppError(
        'CONFLICT',
        `an active admin token is named "${name}"; rotate it or pick another name`,
      );
    const { record, secret } = this.#newToken(name, { role, owner });
    const view = toAdminTokenView(record);
    await this.deps.keys.createAdminToken(
      record,
      this.#audit('admin_token.create', record.id, actor, null, view),
    );
    return { token: view, secret };
  }

  /**
   * Revokes a token given by id or active name; it stops authenticating at once on this node and within
   * CACHE_TTL_MS on others. Revoking the last active token (a lock-out) needs `force`.
   */
  async revokeAdminToken(
    idOrName: string,
    actor: string,
    options: { force?: boolean } = {},
  ): Promise<AdminTokenView> {
    const tokens = await this.deps.keys.listAdminTokens();
    const current = findToken(tokens, idOrName);
    if (current.revokedAt === null && options.force !== true) {
      const active = tokens.filter((t) => t.revokedAt === null);
      if (active.length === 1)
        throw new AppError(
          'CONFLICT',
          `"${current.name}" is the last active admin token: revoking it locks every admin out; create another first, or revoke with force=true`,
        );
    }
    const before = toAdminTokenView(current);
    const revoked = await this.deps.keys.revokeAdminToken(
      current.id,
      this.#audit('admin_token.revoke', current.id, actor, before, {
        ...before,
        revokedAt: before.revokedAt ?? new Date(this.deps.clock.now()).toISOString(),
      }),
    );
    if (!revoked) throw new AppError('NOT_FOUND', `admin token ${idOrName} not found`);
    this.#adminCache.delete(revoked.tokenHash);
    return toAdminTokenView(revoked);
  }

  /** Replaces an active token (by id or name) by a new secret under the same name; the old one is revoked. */
  async rotateAdminToken(
    idOrName: string,
    actor: string,
  ): Promise<{ token: AdminTokenView; secret: string }> {
    const current = findToken(await this.deps.keys.listAdminTokens(), idOrName);
    if (current.revokedAt !== null)
      throw new AppError('CONFLICT', `admin token ${current.id} is revoked; create a new one instead`);
    const { record, secret } = this.#newToken(current.name, { role: current.role, owner: current.owner });
    const view = toAdminTokenView(record);
    try {
      await this.deps.keys.rotateAdminToken(
        current.id,
        record,
        this.#audit('admin_token.rotate', current.id, actor, toAdminTokenView(current), view),
      );
    } catch (error) {
      if (error instanceof StoreNotFoundError)
        throw new AppError('CONFLICT', `admin token ${current.id} was revoked meanwhile`);
      throw error;
    }
    this.#adminCache.delete(current.tokenHash);
    return { token: view, secret };
  }

  /**
   * Start-time admin tokens. With `given` (DIMMER_ADMIN_TOKEN): it is stored as the token named `env` unless
   * stored already, and an earlier `env` token with another secret is revoked (the variable changed). Without
   * it: active `env` tokens are revoked (the variable was removed). Then, when no admin token is active at
   * all, one named `bootstrap` is generated and returned (shown once). A revoked DIMMER_ADMIN_TOKEN stays revoked.
   */
  async bootstrapAdminToken(given: string | undefined): Promise<string | undefined> {
    const tokens = await this.deps.keys.listAdminTokens();
    const givenHash = given === undefined ? undefined : hashSecret(given);
    for (const token of tokens)
      if (token.revokedAt === null && ENV_TOKEN_NAMES.includes(token.name) && token.tokenHash !== givenHash) {
        const before = toAdminTokenView(token);
        await this.deps.keys.revokeAdminToken(
          token.id,
          this.#audit('admin_token.revoke', token.id, SYSTEM_ACTOR, before, {
            ...before,
            revokedAt: new Date(this.deps.clock.now()).toISOString(),
          }),
        );
        this.#adminCache.delete(token.tokenHash);
      }
    if (given !== undefined && givenHash !== undefined) {
      if (tokens.some((t) => t.tokenHash === givenHash)) return undefined;
      try {
        const record = this.#record(ENV_TOKEN_NAME, givenHash);
        await this.deps.keys.createAdminToken(
          record,
          this.#audit('admin_token.create', record.id, SYSTEM_ACTOR, null, toAdminTokenView(record)),
        );
      } catch (error) {
        // Another node starting at the same moment stored it first.
        if (!(error instanceof StoreConflictError)) throw error;
      }
      return undefined;
    }
    if ((await this.deps.keys.listAdminTokens()).some((t) => t.revokedAt === null)) return undefined;
    const { record, secret } = this.#newToken(BOOTSTRAP_TOKEN_NAME);
    await this.deps.keys.createAdminToken(
      record,
      this.#audit('admin_token.create', record.id, SYSTEM_ACTOR, null, toAdminTokenView(record)),
    );
    return secret;
  }

  #record(
    name: string,
    tokenHash: string,
    access: { role: Role; owner: string | null } = { role: 'admin', owner: null },
  ): AdminTokenRecord {
    return {
      id: generateId('tok_'),
      name,
      tokenHash,
      role: access.role,
      owner: access.owner,
      createdAt: this.deps.clock.now(),
      revokedAt: null,
    };
  }

  #newToken(
    name: string,
    access?: { role: Role; owner: string | null },
  ): { record: AdminTokenRecord; secret: string } {
    const secret = generateSecret(ADMIN_TOKEN_PREFIX);
    return { record: this.#record(name, hashSecret(secret), access), secret };
  }

  #audit(action: string, id: string, actor: string, before: unknown, after: unknown): AuditInput {
    return {
      at: this.deps.clock.now(),
      actor,
      action,
      resourceType: 'admin_token',
      resourceKey: id,
      before,
      after,
    };
  }

  /** Tokens given through DIMMER_ADMIN_TOKEN may lack the prefix; anything long enough is looked up. */
  #looksLikeCustomToken(rawToken: string): boolean {
    return (
      rawToken.length >= MIN_CUSTOM_TOKEN_LENGTH &&
      !rawToken.startsWith(SERVER_KEY_PREFIX) &&
      !rawToken.startsWith(BROWSER_KEY_PREFIX)
    );
  }
}

function toAdminPrincipal(record: AdminTokenRecord): AdminPrincipal {
  return {
    tokenId: record.id,
    name: record.name,
    actor: `token:${record.name}`,
    role: record.role,
    owner: record.owner,
  };
}

/** The token `idOrName` names: its id, else the active token of that name. Throws NOT_FOUND. */
function findToken(tokens: readonly AdminTokenRecord[], idOrName: string): AdminTokenRecord {
  const found =
    tokens.find((t) => t.id === idOrName) ?? tokens.find((t) => t.revokedAt === null && t.name === idOrName);
  if (!found) throw new AppError('NOT_FOUND', `admin token ${idOrName} not found`);
  return found;
}
