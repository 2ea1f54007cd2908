/**
 * ETags for answers that depend on the config version and on what the client sent (its context): the
 * OFREP bulk evaluation and `POST /sdk/v1/resolve`.
 */
import { createHash } from 'node:crypto';
import type { ConfigState } from '../client-deps.ts';

/** Characters of base64url hash kept in the ETag (132 bits). */
const ETAG_HASH_LENGTH = 22;

/**
 * A strong ETag `"<version>-<hash>"` over environment, config version and the canonical JSON of
 * `material`, so it changes when the config or the request's material changes, not with key order.
 */
export function contextEtag(state: Pick<ConfigState, 'environment' | 'version'>, material: unknown): string {
  const digest = createHash('sha256')
    .update(`${state.environment}\n${state.version}\n${canonicalJson(material)}`)
    .digest('base64url')
    .slice(0, ETAG_HASH_LENGTH);
  return `"${state.version}-${digest}"`;
}

/** JSON with object keys sorted at every depth, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
