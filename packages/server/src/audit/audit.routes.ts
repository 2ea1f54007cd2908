/** Admin route for the audit log: filtered, newest first, paginated with an opaque cursor. */
import { MAX_AUDIT_PAGE, ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import { routeSchema } from '../http/route-schema.ts';
import type { AuditStore } from './audit.store.ts';

/** Entries per page unless `limit` says otherwise. */
export const DEFAULT_AUDIT_PAGE = 50;
export { MAX_AUDIT_PAGE };

/** Registers GET /audit on an admin-authenticated scope. */
export async function registerAuditRoutes(scope: FastifyInstance, audit: AuditStore): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/audit', { schema: routeSchema(ROUTES.listAudit) }, async (request) => {
    const q = request.query;
    const limit = q.limit === undefined ? DEFAULT_AUDIT_PAGE : Number(q.limit);
    if (limit > MAX_AUDIT_PAGE)
      throw new AppError('VALIDATION_FAILED', `querystring.limit: at most ${MAX_AUDIT_PAGE}`, {
        issues: [{ path: 'querystring.limit', message: `must be at most ${MAX_AUDIT_PAGE}` }],
      });
    let since: number | undefined;
    if (q.since !== undefined) {
      since = Date.parse(q.since);
      if (Number.isNaN(since))
        throw new AppError('VALIDATION_FAILED', 'querystring.since: expected an ISO 8601 time', {
          issues: [{ path: 'querystring.since', message: 'expected an ISO 8601 time' }],
        });
    }
    const entries = await audit.list({
      limit: limit + 1,
      ...(q.resourceType !== undefined ? { resourceType: q.resourceType } : {}),
      ...(q.key !== undefined ? { resourceKey: q.key } : {}),
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(q.cursor !== undefined ? { beforeId: Number(q.cursor) } : {}),
    });
    const page = entries.slice(0, limit);
    const last = page[page.length - 1];
    return {
      entries: page.map((e) => ({ ...e, id: String(e.id), at: new Date(e.at).toISOString() })),
      nextCursor: entries.length > limit && last ? String(last.id) : null,
    };
  });
}
