/**
 * `POST /v1/events` (client key, both kinds): validated batches of exposures and tracked events, idempotent
 * per environment and batch id, acknowledged (202) only after the durable commit.
 */
import { type EventsReply, ROUTES } from '@dimmer/api';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';
import {
  AdmissionGate,
  type AdmissionLimits,
  DEFAULT_EVENTS_MAX_IN_FLIGHT,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
} from '../http/admission.ts';
import { acceptJsonOnly, authenticateRequest, registerPreflight } from '../http/client-auth.ts';
import { fastifyErrorCode, renderError } from '../http/error-handler.ts';
import { sdkRateLimit } from '../http/rate-limit.ts';
import { routeSchema } from '../http/route-schema.ts';
import { admitExposures, type EventQuotas } from './event-admission.ts';
import { DEFAULT_EVENT_LIMITS, type EventLimits, parseEventBatch } from './event-parse.ts';
import type { EventPipeline } from './events.service.ts';

export const EVENTS_URL = '/v1/events';
/** Largest events request body, in bytes (1 MiB). */
export const EVENTS_BODY_LIMIT_BYTES = 1024 * 1024;

export type { EventsReply };

/** Registers the events route with its CORS preflight and error replies in an encapsulated scope. */
export async function registerEventRoutes(
  app: FastifyInstance,
  deps: {
    sdk: SdkDeps;
    pipeline: EventPipeline;
    limits?: Partial<EventLimits>;
    /** Admission control: most batches (and body bytes) worked on at once before 429. */
    admission?: Partial<AdmissionLimits>;
    quotas?: EventQuotas;
    /** Check exposures against the assignment (default true). */
    checkExposures?: boolean;
  },
): Promise<void> {
  const limits: EventLimits = { ...DEFAULT_EVENT_LIMITS, ...deps.limits };
  const admission = new AdmissionGate({
    maxInFlight: DEFAULT_EVENTS_MAX_IN_FLIGHT,
    maxInFlightBytes: DEFAULT_MAX_IN_FLIGHT_BYTES,
    ...deps.admission,
  });
  await app.register(async (scope) => {
    scope.setErrorHandler(replyWithEventsError);
    acceptJsonOnly(scope);
    registerPreflight(scope, [EVENTS_URL], 'POST, OPTIONS');
    scope.post(
      EVENTS_URL,
      {
        bodyLimit: EVENTS_BODY_LIMIT_BYTES,
        config: sdkRateLimit,
        // After the client gate (onRequest), before the body is read.
        preParsing: admission.hook,
        schema: routeSchema(ROUTES.sendEvents),
      },
      async (request, reply) => {
        const principal = await authenticateRequest(request, reply, deps.sdk);
        const parsed = parseEventBatch(request.body, deps.sdk.now(), limits, principal.kind === 'browser');
        if (!parsed.ok) {
          const message = parsed.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
          throw new AppError(parsed.tooLarge ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED', message, {
            issues: parsed.issues,
            ...(parsed.tooLarge ? { maxEvents: limits.maxEvents } : {}),
          });
        }
        const batch = parsed.value;
        const admitted =
          deps.checkExposures === false
            ? { exposures: batch.exposures, rejected: [] }
            : admitExposures(
                deps.sdk.hub.get(principal.environment)?.compiled,
                batch.exposures,
                batch.exposureIndexes,
              );
        const exposures = admitted.exposures;
        const tracks = batch.tracks;
        const rejected = [...batch.rejected, ...admitted.rejected].sort((a, b) => a.index - b.index);
        const batchId = batch.batchId;
        deps.quotas?.take(principal.keyId, exposures.length + tracks.length, principal.eventsPerMinute);
        const result = await deps.pipeline.submit({
          environment: principal.environment,
          batchId,
          answer: { batchId, accepted: exposures.length + tracks.length, rejected },
          exposures,
          tracks,
        });
        const body: EventsReply = { ...result.answer, duplicate: result.duplicate };
        return reply.code(202).send(body);
      },
    );
  });
}

/**
 * Errors on the events route through the one error renderer; a body over the limit is answered with the limit
 * named, so a client knows how to split its batch.
 */
export function replyWithEventsError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (fastifyErrorCode(error) === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return renderError(
      new AppError(
        'PAYLOAD_TOO_LARGE',
        `request body exceeds the limit of ${EVENTS_BODY_LIMIT_BYTES} bytes (1 MiB)`,
        { limitBytes: EVENTS_BODY_LIMIT_BYTES },
      ),
      request,
      reply,
    );
  return renderError(error, request, reply);
}
