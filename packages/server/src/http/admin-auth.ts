/**
 * Admin authentication and authorization, in one place. A caller is an admin token or a person (a session
 * bearer token from the CLI, or the session cookie of the dashboard, whose unsafe requests must echo the CSRF
 * token in `X-CSRF-Token`). No or unknown credentials → 401; a valid client key → 403. Every admin route is then
 * checked against the access table of the contract (`permission` and `environmentFrom` of its `ROUTES` entry):
 * a caller whose role in the route's environment does not hold the permission gets 403, and a route missing
 * from the table is refused.
 */
import {
  type EnvironmentSource,
  PERMISSION_ROLE,
  type Permission,
  ROUTES,
  type Role,
  type RouteContract,
  roleAllows,
  strongerRole,
} from '@dimmer/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { closeConnectionAfterReply } from './client-auth.ts';
import { CSRF_HEADER, parseCookies, SESSION_COOKIE } from './cookies.ts';

/** An authenticated admin caller and its roles. */
export interface AdminPrincipal {
  /** The audit actor: `token:<name>` or `user:<email or subject>`. */
  actor: string;
  kind: 'person' | 'token';
  /** The role in every environment, and stronger ones per environment. */
  roles: { all: Role | null; byEnvironment: ReadonlyMap<string, Role> };
  name: string | null;
  email: string | null;
  groups: readonly string[];
  /** The session of a person (absent for tokens). */
  session?: { id: string; expiresAt: number; viaCookie: boolean };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The audit actor of an authenticated admin request. */
    adminActor: string;
    /** The authenticated admin caller. */
    adminPrincipal: AdminPrincipal | null;
  }
}

/** The bearer credential of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Who may use the admin routes: the composition root wires the keys and people features in. */
export interface AdminAuthenticator {
  /** The caller behind a bearer credential (admin token or session token), or null. */
  authenticateBearer(raw: string): Promise<AdminPrincipal | null>;
  /** The person behind a session cookie, with the hash check of the CSRF token; null when the session is not live. */
  authenticateCookie(
    raw: string,
  ): Promise<{ principal: AdminPrincipal; csrfMatches(token: string | undefined): boolean } | null>;
  /** Whether the token is a live client key (those get 403, not 401). */
  authenticateClientKey(raw: string): Promise<unknown>;
  /** The environment of a stored rollout, experiment or client key (undefined when unknown). */
  environmentOf(source: 'rollout' | 'experiment' | 'clientKey', id: string): Promise<string | undefined>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The access rule of every admin route, by `METHOD path`. */
export const ACCESS_TABLE: ReadonlyMap<
  string,
  { permission: Permission; environmentFrom?: EnvironmentSource; summary: string }
> = new Map(
  Object.values(ROUTES as Readonly<Record<string, RouteContract>>)
    .filter((route) => route.auth === 'admin' && route.permission !== undefined)
    .map((route) => [
      `${route.method} ${route.path}`,
      {
        permission: route.permission as Permission,
        ...(route.environmentFrom !== undefined ? { environmentFrom: route.environmentFrom } : {}),
        summary: route.summary,
      },
    ]),
);

/** The effective role of a caller in `environment` (undefined: the role for every environment). */
export function effectiveRole(principal: AdminPrincipal, environment: string | undefined): Role | null {
  if (environment === undefined) return principal.roles.all;
  return strongerRole(principal.roles.all, principal.roles.byEnvironment.get(environment) ?? null);
}

async function environmentOfRequest(
  request: FastifyRequest,
  source: EnvironmentSource | undefined,
  auth: AdminAuthenticator,
): Promise<string | undefined> {
  if (source === undefined) return undefined;
  const params = (request.params ?? {}) as Record<string, unknown>;
  if (source === 'params.env') return typeof params.env === 'string' ? params.env : undefined;
  if (source === 'body.environment') {
    const body = request.body as Record<string, unknown> | null | undefined;
    return typeof body?.environment === 'string' ? body.environment : undefined;
  }
  return typeof params.id === 'string' ? auth.environmentOf(source, params.id) : undefined;
}

/** Adds authentication and the access check to every route registered in `scope` (an encapsulated plugin). */
export function requireAdmin(scope: FastifyInstance, auth: AdminAuthenticator): void {
  scope.addHook('onRequest', async (request, reply) => {
    // Runs before the body is read; a refused request with a body also loses its connection.
    closeConnectionAfterReply(request, reply);
    const token = bearerToken(request);
    if (token !== undefined) {
      const principal = await auth.authenticateBearer(token);
      if (principal) {
        reply.removeHeader('connection');
        request.adminActor = principal.actor;
        request.adminPrincipal = principal;
        return;
      }
      if (await auth.authenticateClientKey(token))
        throw new AppError('FORBIDDEN', 'client keys cannot use the admin API; use an admin token');
      throw new AppError('UNAUTHORIZED', 'the admin token is unknown or revoked');
    }
    const cookie = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    if (cookie === undefined)
      throw new AppError('UNAUTHORIZED', 'sign in, or send an admin token (Authorization: Bearer …)');
    const session = await auth.authenticateCookie(cookie);
    if (session === null) throw new AppError('UNAUTHORIZED', 'the session has ended; sign in again');
    if (!SAFE_METHODS.has(request.method)) {
      const header = request.headers[CSRF_HEADER];
      if (!session.csrfMatches(typeof header === 'string' ? header : undefined))
        throw new AppError(
          'FORBIDDEN',
          `a signed-in write must carry the session's CSRF token in ${CSRF_HEADER}`,
        );
    }
    reply.removeHeader('connection');
    request.adminActor = session.principal.actor;
    request.adminPrincipal = session.principal;
  });
  // After the body is parsed, before it is validated: a caller without the permission learns nothing more.
  scope.addHook('preValidation', async (request) => {
    const principal = request.adminPrincipal;
    if (principal === null) throw new AppError('UNAUTHORIZED', 'not signed in');
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const rule = ACCESS_TABLE.get(`${method} ${request.routeOptions.url ?? ''}`);
    if (rule === undefined)
      throw new AppError(
        'FORBIDDEN',
        `${method} ${request.routeOptions.url ?? request.url} has no access rule`,
      );
    if (rule.permission === 'self') return;
    const environment = await environmentOfRequest(request, rule.environmentFrom, auth);
    // Reading across environments needs a role somewhere; writing across them needs it everywhere.
    const role =
      environment === undefined && rule.permission === 'read'
        ? [...principal.roles.byEnvironment.values()].reduce(strongerRole, principal.roles.all)
        : effectiveRole(principal, environment);
    if (!roleAllows(role, rule.permission))
      throw new AppError(
        'FORBIDDEN',
        `${principal.actor} is ${role === null ? 'without a role' : role} ${
          environment === undefined ? 'in every environment' : `in ${environment}`
        }; "${rule.summary}" needs ${PERMISSION_ROLE[rule.permission]}`,
        {
          actor: principal.actor,
          role,
          environment: environment ?? null,
          needs: PERMISSION_ROLE[rule.permission],
        },
      );
  });
}
