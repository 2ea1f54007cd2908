/**
 * The client key a request carries, read and hashed once per request: the rate limiter keys its counters
 * by the hash and authentication looks the same hash up, so a request costs one SHA-256, not two.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { hashSecret } from '../secrets.ts';

/** A request's raw client key and its hex SHA-256 (the form keys are stored and cached under). */
export interface ClientCredential {
  raw: string;
  hash: string;
}

const BEARER = /^Bearer[ \t]+(\S.*)$/i;

/**
 * Where a request keeps its credential once read (null: it carries none). A property on the request,
 * not a WeakMap entry: it costs the garbage collector nothing beyond the request itself.
 */
const CREDENTIAL = Symbol('dimmer.clientCredential');

interface CredentialSlot {
  [CREDENTIAL]?: ClientCredential | null;
}

/** Most raw keys whose hash is remembered; past it the table starts over (keys are few, garbage is not kept). */
const MAX_REMEMBERED_HASHES = 1024;
const hashes = new Map<string, string>();

/** The SHA-256 of a raw key, remembered: a key sends many requests, and each would hash it again. */
function hashOf(raw: string): string {
  let hash = hashes.get(raw);
  if (hash === undefined) {
    hash = hashSecret(raw);
    if (hashes.size >= MAX_REMEMBERED_HASHES) hashes.clear();
    hashes.set(raw, hash);
  }
  return hash;
}

/** The raw client key of a request (`Authorization: Bearer <key>` first, then `X-API-Key`), or undefined. */
export function readClientKey(request: { headers: IncomingHttpHeaders }): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = BEARER.exec(authorization);
    const key = match?.[1]?.trim();
    if (key) return key;
  }
  const apiKey = request.headers['x-api-key'];
  const raw = Array.isArray(apiKey) ? apiKey[0] : apiKey;
  const key = raw?.trim();
  return key ? key : undefined;
}

/** The client key in `headers` with its hash (not kept on a request: the fast paths read it once anyway). */
export function clientCredentialOf(headers: IncomingHttpHeaders): ClientCredential | undefined {
  const raw = readClientKey({ headers });
  return raw === undefined ? undefined : { raw, hash: hashOf(raw) };
}

/** The request's client key with its hash, computed on the first call for a request and reused after; undefined without a key. */
export function readClientCredential(request: FastifyRequest): ClientCredential | undefined {
  const slot = request as FastifyRequest & CredentialSlot;
  let credential = slot[CREDENTIAL];
  if (credential === undefined) {
    const raw = readClientKey(request);
    credential = raw === undefined ? null : { raw, hash: hashOf(raw) };
    slot[CREDENTIAL] = credential;
  }
  return credential ?? undefined;
}
