/**
 * Rate limiting for public (SDK and OFREP) routes. The plugin is registered with `global: false`;
 * a route opts in with `config: sdkRateLimit`. The limit is counted per client key when one is sent,
 * else per IP.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { readClientCredential } from './client-credential.ts';

/** Default requests per minute per key or IP on SDK and OFREP routes. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6_000;
const ONE_MINUTE_MS = 60_000;

/**
 * Route config that opts a route into the rate limit: `{ config: sdkRateLimit }`. The budget is the
 * app-wide `rateLimitPerMinute` (DIMMER_RATE_LIMIT_PER_MINUTE), counted per client key, else per IP.
 */
export const sdkRateLimit = { rateLimit: {} };

/** The counter key: the client key's SHA-256 (shared with authentication, never the raw key), else the IP. */
function limitKey(request: FastifyRequest): string {
  const credential = readClientCredential(request);
  return credential === undefined ? `ip:${request.ip}` : `key:${credential.hash}`;
}

/** Registers the rate-limit plugin for opted-in routes. */
export async function installRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    max: perMinute,
    timeWindow: ONE_MINUTE_MS,
    keyGenerator: limitKey,
    errorResponseBuilder: (_request, context) =>
      new AppError('RATE_LIMITED', `rate limit of ${context.max} requests per minute exceeded`, {
        retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });
}
