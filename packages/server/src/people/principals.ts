/**
 * The admin authenticator the HTTP layer checks every admin request with: admin tokens (their own role in
 * every environment), session bearer tokens of the CLI and session cookies of the dashboard (the person's
 * roles from grants and the group mapping).
 */
import type { Role } from '@dimmer/api';
import type { AdminAuthenticator, AdminPrincipal } from '../http/admin-auth.ts';
import type { AccessService } from './access.ts';
import type { SessionRecord } from './people.store.ts';
import { SESSION_TOKEN_PREFIX, type SessionsService } from './sessions.service.ts';

export interface AuthenticatorDeps {
  tokens: {
    authenticateAdmin(raw: string): Promise<{ actor: string; role: Role } | null>;
    authenticateClientKey(raw: string): Promise<unknown>;
  };
  sessions: SessionsService;
  access: AccessService;
  environmentOf: AdminAuthenticator['environmentOf'];
}

export function createAdminAuthenticator(deps: AuthenticatorDeps): AdminAuthenticator {
  const person = async (session: SessionRecord, viaCookie: boolean): Promise<AdminPrincipal> => ({
    actor: session.actor,
    kind: 'person',
    roles: await deps.access.rolesOf(session),
    name: session.name,
    email: session.email,
    groups: session.groups,
    session: { id: session.id, expiresAt: session.expiresAt, viaCookie },
  });
  return {
    async authenticateBearer(raw) {
      if (raw.startsWith(SESSION_TOKEN_PREFIX)) {
        const session = await deps.sessions.authenticate(raw);
        return session === null ? null : person(session, false);
      }
      const token = await deps.tokens.authenticateAdmin(raw);
      if (token === null) return null;
      return {
        actor: token.actor,
        kind: 'token',
        roles: { all: token.role, byEnvironment: new Map() },
        name: null,
        email: null,
        groups: [],
      };
    },
    async authenticateCookie(raw) {
      const session = await deps.sessions.authenticate(raw);
      if (session === null) return null;
      return {
        principal: await person(session, true),
        csrfMatches: (token) => deps.sessions.checkCsrf(session, token),
      };
    },
    authenticateClientKey: (raw) => deps.tokens.authenticateClientKey(raw),
    environmentOf: deps.environmentOf,
  };
}
