/** People and access as the composition root sees them. */
export { AccessService, type GroupRole, parseGroupRoles } from './access.ts';
export { ApprovalsService, type Reviewable } from './approvals.service.ts';
export { registerAuthRoutes } from './auth.routes.ts';
export { DEFAULT_GROUPS_CLAIM, DEFAULT_OIDC_SCOPES, OidcClient, type OidcSettings } from './oidc.ts';
export { createMemoryPeopleStore } from './people.memory.ts';
export { registerPeopleRoutes } from './people.routes.ts';
export { createSqlPeopleStore } from './people.sql.ts';
export type { PeopleStore } from './people.store.ts';
export { createAdminAuthenticator } from './principals.ts';
export { DEFAULT_SESSION_TTL_MS, SESSION_TOKEN_PREFIX, SessionsService } from './sessions.service.ts';
