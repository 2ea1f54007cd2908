/**
 * Admin routes of people and access: the caller (`/me`), role grants, sign-in sessions, and the approvals of
 * rollouts and experiments. The access table of the contract decides who may call each.
 */
import { ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type AdminPrincipal, effectiveRole } from '../http/admin-auth.ts';
import { routeSchema } from '../http/route-schema.ts';
import type { AccessService } from './access.ts';
import type { ApprovalsService } from './approvals.service.ts';
import type { SessionsService } from './sessions.service.ts';

export interface PeopleRoutesDeps {
  access: AccessService;
  sessions: SessionsService;
  approvals: ApprovalsService;
  environmentKeys(): Promise<string[]>;
}

function principalOf(request: { adminPrincipal: AdminPrincipal | null }): AdminPrincipal {
  if (request.adminPrincipal === null) throw new Error('admin route without a principal');
  return request.adminPrincipal;
}

/** Registers the people routes on an admin-authenticated scope. */
export async function registerPeopleRoutes(scope: FastifyInstance, deps: PeopleRoutesDeps): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/me', { schema: routeSchema(ROUTES.getMe) }, async (request) => {
    const principal = principalOf(request);
    const environments: Record<string, ReturnType<typeof effectiveRole>> = {};
    for (const key of await deps.environmentKeys()) environments[key] = effectiveRole(principal, key);
    return {
      actor: principal.actor,
      kind: principal.kind,
      name: principal.name,
      email: principal.email,
      groups: [...principal.groups],
      role: principal.roles.all,
      environments,
      sessionExpiresAt:
        principal.session === undefined ? null : new Date(principal.session.expiresAt).toISOString(),
    };
  });

  app.get('/grants', { schema: routeSchema(ROUTES.listGrants) }, async () => ({
    grants: await deps.access.listGrants(),
  }));
  app.post('/grants', { schema: routeSchema(ROUTES.createGrant) }, async (request, reply) =>
    reply.status(201).send(await deps.access.createGrant(request.body, request.adminActor)),
  );
  app.delete('/grants/:id', { schema: routeSchema(ROUTES.deleteGrant) }, async (request, reply) => {
    await deps.access.deleteGrant(request.params.id, request.adminActor);
    return reply.status(204).send(null);
  });

  app.get('/sessions', { schema: routeSchema(ROUTES.listSessions) }, async () => ({
    sessions: await deps.sessions.list(),
  }));
  app.post('/sessions/:id/revoke', { schema: routeSchema(ROUTES.revokeSession) }, async (request) =>
    deps.sessions.revoke(request.params.id, request.adminActor),
  );

  for (const type of ['rollout', 'experiment'] as const) {
    const names =
      type === 'rollout'
        ? {
            get: ROUTES.getRolloutApprovals,
            request: ROUTES.requestRolloutApproval,
            approve: ROUTES.approveRollout,
          }
        : {
            get: ROUTES.getExperimentApprovals,
            request: ROUTES.requestExperimentApproval,
            approve: ROUTES.approveExperiment,
          };
    const base = `/${type}s/:id/approvals`;
    app.get(base, { schema: routeSchema(names.get) }, async (request) =>
      deps.approvals.status(type, (request.params as { id: string }).id),
    );
    app.post(`${base}/request`, { schema: routeSchema(names.request) }, async (request) =>
      deps.approvals.request(
        type,
        (request.params as { id: string }).id,
        request.body as { action: 'start' | 'advance'; comment?: string },
        request.adminActor,
      ),
    );
    app.post(base, { schema: routeSchema(names.approve) }, async (request) =>
      deps.approvals.approve(
        type,
        (request.params as { id: string }).id,
        request.body as { action: 'start' | 'advance'; version: number; comment?: string },
        request.adminActor,
      ),
    );
  }
}
