/**
 * The request log: one line per admin request at info (method, route, status, duration, actor), SDK, OFREP,
 * events and other routes at debug only (they are the hot path: thousands a second would drown the log),
 * and nothing for the health checks that load balancers call every few seconds.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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

/**
 * Adds the one-line request log (an onResponse hook) to `app`; admin routes live under `adminPrefix`. When the
 * logger is at debug when this is called, every request is logged as described above. Otherwise only admin
 * routes (registered after this call) get the hook: the SDK, OFREP and events routes, the hot path, pay nothing
 * for a line that would not be written.
 */
export function installRequestLog(app: FastifyInstance, adminPrefix: string): void {
  const hook = async (request: FastifyRequest, reply: FastifyReply) => {
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
  };
  if ((app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') === true) {
    app.addHook('onResponse', hook);
    return;
  }
  app.addHook('onRoute', (route) => {
    if (requestLogLevel(route.url, adminPrefix) !== 'info') return;
    const existing = route.onResponse;
    route.onResponse =
      existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
  });
}
