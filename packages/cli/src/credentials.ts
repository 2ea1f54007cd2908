/**
 * The CLI's stored sign-ins: one credential per server URL in `<config dir>/dimmer/credentials.json`
 * (`$XDG_CONFIG_HOME`, else `~/.config`), readable by the user only (file 0600, folder 0700).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface StoredCredential {
  /** A session token from `dimmer login` (device sign-in) or a service (admin) token. */
  token: string;
  kind: 'session' | 'token';
  /** How the audit log names the caller. */
  actor: string;
  /** When a session ends (null for service tokens). */
  expiresAt: string | null;
}

interface CredentialsFile {
  servers: Record<string, StoredCredential>;
}

/** The credentials file for this environment. */
export function credentialsPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(base, 'dimmer', 'credentials.json');
}

/** A server URL as the key of its credential (no trailing slash). */
export function serverKey(url: string): string {
  return url.replace(/\/+$/, '');
}

function read(path: string): CredentialsFile {
  if (!existsSync(path)) return { servers: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as CredentialsFile;
    return typeof parsed.servers === 'object' && parsed.servers !== null ? parsed : { servers: {} };
  } catch {
    return { servers: {} };
  }
}

/** The stored credential for `url`, when one is stored and not expired. */
export function loadCredential(
  env: Record<string, string | undefined>,
  url: string,
  now = Date.now(),
): StoredCredential | undefined {
  const credential = read(credentialsPath(env)).servers[serverKey(url)];
  if (credential === undefined) return undefined;
  if (credential.expiresAt !== null && Date.parse(credential.expiresAt) <= now) return undefined;
  return credential;
}

/** Stores (or, with undefined, removes) the credential for `url`; the file is written 0600 through a rename. */
export function saveCredential(
  env: Record<string, string | undefined>,
  url: string,
  credential: StoredCredential | undefined,
): string {
  const path = credentialsPath(env);
  const file = read(path);
  if (credential === undefined) delete file.servers[serverKey(url)];
  else file.servers[serverKey(url)] = credential;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return path;
}
