/** Admin route for the audit log: filtered, newest first, paginated with an opaque cursor. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { ADMIN_ERRORS, ADMIN_SECURITY } from '../http/schemas.ts';
import type { ResourceType } from '../storage/write.ts';
import type { AuditStore } from './audit.store.ts';

/** Entries per page unless `limit` says otherwise, and the most a page may hold. */
export const DEFAULT_AUDIT_PAGE = 50;
export const MAX_AUDIT_PAGE = 500;

const ResourceTypeSchema = Type.Union([
  Type.Literal('environment'),
  Type.Literal('flag'),
  Type.Literal('segment'),
  Type.Literal('client_key'),
  Type.Literal('admin_token'),
  Type.Literal('metric'),
  Type.Literal('surface'),
  Type.Literal('rollout'),
]);

const AuditEntryView = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  action: Type.String(),
  resourceType: ResourceTypeSchema,
  resourceKey: Type.String(),
  environment: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
});

/** Registers GET /audit on an admin-authenticated scope. */
export async function registerAuditRoutes(scope: FastifyInstance, audit: AuditStore): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        security: ADMIN_SECURITY,
        summary: 'Read the append-only audit log, newest first',
        querystring: Type.Object(
          {
            resourceType: Type.Optional(ResourceTypeSchema),
            key: Type.Optional(Type.String({ maxLength: 200, description: 'Resource key' })),
            actor: Type.Optional(Type.String({ maxLength: 200 })),
            since: Type.Optional(
              Type.String({ format: 'date-time', description: 'ISO 8601 time (inclusive)' }),
            ),
            limit: Type.Optional(
              Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: `1 to ${MAX_AUDIT_PAGE}` }),
            ),
            cursor: Type.Optional(
              Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'nextCursor of the previous page' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            entries: Type.Array(AuditEntryView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...ADMIN_ERRORS,
        },
      },
    },
    async (request) => {
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
        ...(q.resourceType !== undefined ? { resourceType: q.resourceType as ResourceType } : {}),
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
    },
  );
}
