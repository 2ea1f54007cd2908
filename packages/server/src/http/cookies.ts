/** Cookie parsing and `Set-Cookie` values for the sign-in session (no other cookie is used). */

/** The session secret (HttpOnly). */
export const SESSION_COOKIE = 'dimmer_session';
/** The CSRF token the dashboard echoes in the CSRF header (readable by the page: double submit). */
export const CSRF_COOKIE = 'dimmer_csrf';
/** The header that must carry the CSRF token on unsafe methods of a cookie-authenticated request. */
export const CSRF_HEADER = 'x-csrf-token';

/** The cookies of a `Cookie` header by name (the first of each name). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || out.has(name)) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      out.set(name, decodeURIComponent(raw));
    } catch {
      out.set(name, raw);
    }
  }
  return out;
}

/** A `Set-Cookie` value: SameSite=Lax always, Secure when the server is reached over HTTPS. */
export function setCookie(
  name: string,
  value: string,
  options: { httpOnly: boolean; secure: boolean; maxAgeSeconds: number; path?: string },
): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? '/'}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    'SameSite=Lax',
    ...(options.httpOnly ? ['HttpOnly'] : []),
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
