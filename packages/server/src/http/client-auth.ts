/**
 * HTTP plumbing shared by the client-facing routes (SDK, OFREP, events): authenticating the client key through
 * the authenticator it is given, CORS for browser keys, JSON-only bodies and conditional-request (ETag) matching.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientPrincipal, SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';
import { readClientCredential } from './client-credential.ts';

export { readClientKey } from './client-credential.ts';

/** Request headers a browser may send to the SDK and OFREP routes. */
export const CORS_ALLOWED_HEADERS = 'Authorization, X-API-Key, Content-Type, If-None-Match';
/** Response headers a browser script may read. */
export const CORS_EXPOSED_HEADERS = 'ETag';
/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 600;
/** An allowed-origins entry that admits every origin. */
export const ANY_ORIGIN = '*';

/** Largest accepted request body on SDK and OFREP routes, in bytes (a context is small). */
export const SDK_BODY_LIMIT_BYTES = 64 * 1024;

/** Makes `scope` accept JSON bodies only (Fastify also parses text/plain by default); others get 415. */
export function acceptJsonOnly(scope: FastifyInstance): void {
  scope.removeContentTypeParser('text/plain');
}

/** The principal the client gate (rate-limit.ts) admitted a request with, kept on the request. */
const PRINCIPAL = Symbol('dimmer.clientPrincipal');

interface PrincipalSlot {
  [PRINCIPAL]?: ClientPrincipal;
}

/** The error of a request that carries no client key. */
export function missingKeyError(): AppError {
  return new AppError(
    'UNAUTHORIZED',
    'Missing client key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"',
  );
}

/** The error of a request whose client key is unknown or revoked. */
export function unknownKeyError(): AppError {
  return new AppError('UNAUTHORIZED', 'Unknown or revoked client key');
}

/**
 * Asks Node to close the connection once the reply is sent when the request announced a body: a refused
 * request's body is never read, so a slow upload cannot keep the socket.
 */
export function closeConnectionAfterReply(request: FastifyRequest, reply: FastifyReply): void {
  const headers = request.headers;
  const length = headers['content-length'];
  if ((length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined)
    reply.header('connection', 'close');
}

/**
 * Records `principal` as the request's client and applies the CORS answer for its origin. Throws FORBIDDEN
 * when a browser key comes from an origin not on its list (before the route reads or writes anything:
 * resolution records exposures, so it is refused too).
 */
export function admitPrincipal(
  request: FastifyRequest,
  reply: FastifyReply,
  principal: ClientPrincipal,
): void {
  const origin = request.headers.origin;
  if (
    principal.kind === 'browser' &&
    origin !== undefined &&
    !isOriginAllowed(origin, principal.allowedOrigins)
  )
    throw new AppError('FORBIDDEN', `This browser key may not be used from origin ${origin}`, { origin });
  (request as FastifyRequest & PrincipalSlot)[PRINCIPAL] = principal;
  applyCors(request, reply, principal);
}

/**
 * The request's client: the principal the client gate admitted it with, else the client key authenticated
 * here (synchronously when the key is cached, else through a promise). Throws (or rejects with) AppError
 * UNAUTHORIZED when the key is missing, unknown or revoked, and FORBIDDEN for a browser key used from an
 * origin not on its list.
 */
export function authenticateRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: Pick<SdkDeps, 'authenticateClientKey'>,
): ClientPrincipal | Promise<ClientPrincipal> {
  const admitted = (request as FastifyRequest & PrincipalSlot)[PRINCIPAL];
  if (admitted !== undefined) return admitted;
  const credential = readClientCredential(request);
  if (credential === undefined) throw missingKeyError();
  const found = deps.authenticateClientKey(credential.raw, credential.hash);
  if (found instanceof Promise) return found.then((principal) => admit(request, reply, principal));
  return admit(request, reply, found);
}

function admit(
  request: FastifyRequest,
  reply: FastifyReply,
  principal: ClientPrincipal | null,
): ClientPrincipal {
  if (principal === null) throw unknownKeyError();
  admitPrincipal(request, reply, principal);
  return principal;
}

/** Whether a key with these allowed origins may be used from `origin` (exact match, or `*`). */
export function isOriginAllowed(origin: string, allowedOrigins: readonly string[]): boolean {
  const wanted = origin.toLowerCase();
  for (const allowed of allowedOrigins) {
    if (allowed === ANY_ORIGIN || allowed.toLowerCase() === wanted) return true;
  }
  return false;
}

/**
 * Echoes Access-Control-Allow-Origin only when the key allows the request's origin; a browser then
 * refuses to hand the answer of any other origin to the page.
 */
export function applyCors(request: FastifyRequest, reply: FastifyReply, principal: ClientPrincipal): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  reply.header('vary', 'Origin');
  if (!isOriginAllowed(origin, principal.allowedOrigins)) return;
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-expose-headers', CORS_EXPOSED_HEADERS);
}

/**
 * Registers permissive CORS preflight (OPTIONS) answers for `urls`: a preflight carries no key, so the
 * origin is enforced on the actual request instead (see applyCors).
 */
export function registerPreflight(scope: FastifyInstance, urls: readonly string[], methods: string): void {
  for (const url of urls) {
    scope.options(url, async (request, reply) => {
      const origin = request.headers.origin;
      reply.header('vary', 'Origin');
      if (origin !== undefined) {
        reply.header('access-control-allow-origin', origin);
        reply.header('access-control-allow-methods', methods);
        reply.header('access-control-allow-headers', CORS_ALLOWED_HEADERS);
        reply.header('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
      }
      reply.code(204).send();
    });
  }
}

/**
 * Whether an If-None-Match header matches `etag` (weak comparison, as RFC 9110 prescribes for
 * If-None-Match; a list and `*` are understood).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const wanted = stripWeak(etag.trim());
  for (const part of header.split(',')) {
    const candidate = part.trim();
    if (candidate === '*' || stripWeak(candidate) === wanted) return true;
  }
  return false;
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
