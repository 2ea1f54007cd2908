/**
 * ETags for answers that depend on the config version and on what the client sent (its context): the
 * OFREP bulk evaluation and `POST /sdk/v1/resolve`.
 */
import { hash } from 'node:crypto';
import type { ConfigState } from '../client-deps.ts';

/** Characters of base64url hash kept in the ETag (132 bits). */
const ETAG_HASH_LENGTH = 22;

/**
 * A strong ETag `"<version>-<hash>"` over environment, config version and the canonical JSON of
 * `material`, so it changes when the config or the request's material changes, not with key order.
 */
export function contextEtag(state: Pick<ConfigState, 'environment' | 'version'>, material: unknown): string {
  // The one-shot hash: a Hash object per request costs more than the digest of a context.
  const digest = hash(
    'sha256',
    `${state.environment}\n${state.version}\n${canonicalJson(material)}`,
    'base64url',
  ).slice(0, ETAG_HASH_LENGTH);
  return `"${state.version}-${digest}"`;
}

/** JSON with object keys sorted at every depth, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  // Strings built by concatenation: this runs on every resolve and bulk request.
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += `${i === 0 ? '' : ','}${canonicalJson(value[i] ?? null)}`;
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  let text = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
    first = false;
  }
  return `${text}}`;
}
