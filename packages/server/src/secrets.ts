/** Secrets (admin tokens, client keys): 256-bit random, readable prefixes, stored only as SHA-256 hashes. */
import { hash, randomBytes } from 'node:crypto';

/** Random bytes per secret: 32 bytes = 256 bits. */
export const SECRET_BYTES = 32;
export const ADMIN_TOKEN_PREFIX = 'dmr_admin_';
export const SERVER_KEY_PREFIX = 'dmr_srv_';
export const BROWSER_KEY_PREFIX = 'dmr_pub_';
/** Shortest admin token accepted from DIMMER_ADMIN_TOKEN. */
export const MIN_CUSTOM_TOKEN_LENGTH = 32;
/** Characters of a secret kept in clear to recognise it in lists (prefix plus four). */
const VISIBLE_EXTRA_CHARS = 4;

/** A new secret: the prefix followed by 32 random bytes in base64url. */
export function generateSecret(prefix: string): string {
  return prefix + randomBytes(SECRET_BYTES).toString('base64url');
}

/** Hex SHA-256 of a secret (UTF-8), the only form stored. One-shot `crypto.hash`: no Hash object per call. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** The recognisable start of a secret: its prefix and a few characters. */
export function visiblePrefix(secret: string, prefix: string): string {
  return secret.slice(0, prefix.length + VISIBLE_EXTRA_CHARS);
}

/** A short random id with a prefix (`key_3f9a…`), for records. */
export function generateId(prefix: string): string {
  return prefix + randomBytes(8).toString('hex');
}

/** A flag salt: 16 hex characters from node:crypto. */
export function generateSalt(): string {
  return randomBytes(8).toString('hex');
}
