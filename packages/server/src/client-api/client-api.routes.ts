/**
 * The Dimmer SDK's config routes (client key, scoped to one environment): `GET /sdk/v1/config` and
 * `GET /sdk/v1/stream`. (`POST /sdk/v1/resolve` belongs to the resolve feature.)
 */
import { gzipSync } from 'node:zlib';
import { ROUTES } from '@dimmer/api';
import type { FastifyInstance } from 'fastify';
import type { ConfigState, SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';
import {
  acceptJsonOnly,
  authenticateRequest,
  ifNoneMatchMatches,
  registerPreflight,
} from '../http/client-auth.ts';
import { sdkRateLimit } from '../http/rate-limit.ts';
import { routeSchema } from '../http/route-schema.ts';
import { openConfigStream, type StreamLimits, StreamRegistry } from './config-stream.ts';

export const CONFIG_URL = '/sdk/v1/config';
export const STREAM_URL = '/sdk/v1/stream';

/** Bodies at least this long are sent gzipped to clients that accept it. */
export const GZIP_MIN_BYTES = 1024;

/** The body of each config version: its JSON text and its gzip, each made once and shared by every request. */
interface SnapshotBody {
  json: string;
  gzip?: Buffer;
}
const snapshotBodies = new WeakMap<ConfigState, SnapshotBody>();

function snapshotBody(state: ConfigState): SnapshotBody {
  let body = snapshotBodies.get(state);
  if (body === undefined) {
    body = { json: JSON.stringify(state.snapshot) };
    snapshotBodies.set(state, body);
  }
  return body;
}

/** True when `Accept-Encoding` lists gzip (or `*`) without `q=0`. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** Registers the SDK routes, their CORS preflights and their error replies in an encapsulated scope of `app`. */
export async function registerSdkRoutes(
  app: FastifyInstance,
  deps: SdkDeps,
  streamLimits: Partial<StreamLimits> = {},
): Promise<void> {
  await app.register(async (scope) => {
    // Opt in to the app's rate limit (http/rate-limit.ts): per client key, per minute.
    const routeConfig = sdkRateLimit;
    const streams = new StreamRegistry(streamLimits, deps.authenticateClientKey);
    acceptJsonOnly(scope);
    scope.addHook('preClose', (done) => {
      streams.endAll();
      done();
    });
    registerPreflight(scope, [CONFIG_URL, STREAM_URL], 'GET, OPTIONS');

    scope.get(
      CONFIG_URL,
      { config: routeConfig, schema: routeSchema(ROUTES.getConfig) },
      async (request, reply) => {
        const principal = await authenticateRequest(request, reply, deps);
        if (principal.kind !== 'server') {
          throw new AppError(
            'FORBIDDEN',
            'Browser keys cannot read the flag configuration (it holds rules and segments); ' +
              'use POST /sdk/v1/resolve or OFREP (POST /ofrep/v1/evaluate/flags) instead',
          );
        }
        const state = deps.hub.get(principal.environment);
        if (state === undefined) {
          throw new AppError(
            'NOT_FOUND',
            `Environment "${principal.environment}" of this key does not exist`,
          );
        }
        reply.header('etag', state.etag);
        reply.header('cache-control', 'no-cache');
        if (ifNoneMatchMatches(request.headers['if-none-match'], state.etag)) {
          return reply.code(304).send();
        }
        reply.header('content-type', 'application/json; charset=utf-8');
        reply.header('vary', 'accept-encoding');
        const body = snapshotBody(state);
        if (body.json.length >= GZIP_MIN_BYTES && acceptsGzip(request.headers['accept-encoding'])) {
          body.gzip ??= gzipSync(body.json);
          reply.header('content-encoding', 'gzip');
          return reply.send(body.gzip);
        }
        return reply.send(body.json);
      },
    );

    scope.get(
      STREAM_URL,
      { config: routeConfig, exposeHeadRoute: false, schema: routeSchema(ROUTES.streamConfig) },
      async (request, reply) => {
        const principal = await authenticateRequest(request, reply, deps);
        openConfigStream(reply, principal, deps, streams);
      },
    );
  });
}
