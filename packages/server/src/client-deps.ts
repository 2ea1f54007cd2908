/**
 * What the client-facing routes (config, stream, resolve, OFREP, events) need from the rest of the server.
 * The composition root (app.ts) builds these from the stores; the SDK routes never touch storage.
 */
import type {
  CompiledConfig,
  EnvironmentSnapshot,
  EvaluationResult,
  Segment,
  SnapshotFlag,
} from '@dimmer/core';

/** `server` keys read the full config; `browser` keys only resolve for their own context. */
export type ClientKeyKind = 'server' | 'browser';

/** Who is calling an SDK route: resolved from the client key in the request. */
export interface ClientPrincipal {
  keyId: string;
  environment: string;
  kind: ClientKeyKind;
  /** Origins allowed for CORS (browser keys); empty means none. */
  allowedOrigins: string[];
  /** Events per minute this key may send to `/v1/events`; absent or null: the server default. */
  eventsPerMinute?: number | null;
  /** The key's own requests per minute per route; absent: the default of its kind. */
  rateLimitPerMinute?: number;
}

/** One environment's current configuration, held in memory and swapped atomically on change. */
export interface ConfigState {
  environment: string;
  version: number;
  snapshot: EnvironmentSnapshot;
  compiled: CompiledConfig;
  /** Strong ETag of the snapshot, e.g. `"production-42"`. */
  etag: string;
  /** Epoch milliseconds when this version was committed. */
  committedAt: number;
  /**
   * What changed since the version this node held before (its `base`), for server keys' streams; absent for
   * the first version held or a change too large to send (clients then refetch the config).
   */
  patch?: SnapshotPatch;
}

/** What changed from config version `base` to the next one a node held: flags and segments whole, removals by key. */
export interface SnapshotPatch {
  base: number;
  flags: SnapshotFlag[];
  removedFlags: string[];
  segments: Segment[];
  removedSegments: string[];
}

/** The in-memory config of every environment, kept current (on PostgreSQL through LISTEN/NOTIFY). */
export interface ConfigHub {
  /** The current config of an environment, or undefined if the environment does not exist. */
  get(environment: string): ConfigState | undefined;
  /** Calls `listener` with every new version of the environment's config; returns an unsubscribe function. */
  subscribe(environment: string, listener: (state: ConfigState) => void): () => void;
}

/** Where resolved evaluations served by rollout or experiment rules are reported (exposure logging). */
export type ExposureSink = (
  principal: ClientPrincipal,
  context: { unit?: string },
  results: EvaluationResult[],
) => void;

export interface SdkDeps {
  hub: ConfigHub;
  /**
   * Resolves a raw client key (from `Authorization: Bearer` or `X-API-Key`) to its principal, or null.
   * `keyHash`, when given, is the key's hex SHA-256 already computed for this request (see readClientCredential).
   * May answer synchronously (a cached key) or with a promise (a key read from the store).
   */
  authenticateClientKey(
    rawKey: string,
    keyHash?: string,
  ): ClientPrincipal | null | Promise<ClientPrincipal | null>;
  /** Optional exposure logging for remote resolution (issue 04 fills it in). */
  exposures?: ExposureSink;
  /** Epoch milliseconds; injectable for tests. */
  now(): number;
  /** Heartbeat interval of the SSE stream in milliseconds. */
  streamHeartbeatMs: number;
}
