/**
 * The request log: one line per admin request at info (method, route, status, duration, actor), SDK, OFREP,
 * events and other routes at debug only (they are the hot path: thousands a second would drown the log),
 * and nothing for the health checks that load balancers call every few seconds.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Routes never logged per request. */
export const UNLOGGED_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/**
 * The level a request to `route` is logged at: info for admin routes (under `adminPrefix`), none for health
 * checks, debug otherwise.
 */
export function requestLogLevel(route: string, adminPrefix: string): 'info' | 'debug' | null {
  if (UNLOGGED_ROUTES.has(route)) return null;
  return route === adminPrefix || route.startsWith(`${adminPrefix}/`) ? 'info' : 'debug';
}

function actorOf(request: FastifyRequest): string | undefined {
  const actor = (request as FastifyRequest & { adminActor?: unknown }).adminActor;
  return typeof actor === 'string' ? actor : undefined;
}

/** Adds the one-line request log (an onResponse hook) to `app`; admin routes live under `adminPrefix`. */
export function installRequestLog(app: FastifyInstance, adminPrefix: string): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? request.url.split('?')[0] ?? request.url;
    const level = requestLogLevel(route, adminPrefix);
    if (level === null) return;
    const actor = actorOf(request);
    request.log[level](
      {
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        ...(actor !== undefined ? { actor } : {}),
      },
      `${request.method} ${route} ${reply.statusCode}`,
    );
  });
}
