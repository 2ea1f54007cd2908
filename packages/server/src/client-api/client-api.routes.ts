/**
 * The Dimmer SDK's config routes (client key, scoped to one environment): `GET /sdk/v1/config` and
 * `GET /sdk/v1/stream`. (`POST /sdk/v1/resolve` belongs to the resolve feature.)
 */
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

/** The JSON text of each config version, serialized once and shared by every request. */
const snapshotJson = new WeakMap<ConfigState, string>();

function serializeSnapshot(state: ConfigState): string {
  let json = snapshotJson.get(state);
  if (json === undefined) {
    json = JSON.stringify(state.snapshot);
    snapshotJson.set(state, json);
  }
  return json;
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
        return reply.send(serializeSnapshot(state));
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
