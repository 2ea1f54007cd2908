/**
 * Admin authentication: `Authorization: Bearer <admin token>`. No or unknown credentials → 401;
 * a valid client key → 403 (client keys cannot use admin routes).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { closeConnectionAfterReply } from './client-auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The audit actor of an authenticated admin request. */
    adminActor: string;
  }
}

/** The bearer credential of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Who may use the admin routes: the composition root wires the keys feature in. */
export interface AdminAuthenticator {
  /** The admin behind a token, or null when the token is no live admin token. */
  authenticateAdmin(rawToken: string): Promise<{ actor: string } | null>;
  /** Whether the token is a live client key (those get 403, not 401). */
  authenticateClientKey(rawKey: string): Promise<unknown>;
}

/** Adds the admin check to every route registered in `scope` (an encapsulated plugin). */
export function requireAdmin(scope: FastifyInstance, keys: AdminAuthenticator): void {
  scope.addHook('onRequest', async (request, reply) => {
    // Runs before the body is read; a refused request with a body also loses its connection.
    closeConnectionAfterReply(request, reply);
    const token = bearerToken(request);
    if (token === undefined)
      throw new AppError('UNAUTHORIZED', 'an admin token is required (Authorization: Bearer …)');
    const admin = await keys.authenticateAdmin(token);
    if (admin) {
      reply.removeHeader('connection');
      request.adminActor = admin.actor;
      return;
    }
    if (await keys.authenticateClientKey(token))
      throw new AppError('FORBIDDEN', 'client keys cannot use the admin API; use an admin token');
    throw new AppError('UNAUTHORIZED', 'the admin token is unknown or revoked');
  });
}
