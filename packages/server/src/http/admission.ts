/**
 * Admission control for a costly route: at most so many requests (and so many announced body bytes) are
 * worked on at once; past either bound a request is answered 429 with Retry-After before its body is read,
 * so the latency of the admitted ones stays bounded instead of every request waiting longer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { closeConnectionAfterReply } from './client-auth.ts';

/** The bounds of one route's admission. */
export interface AdmissionLimits {
  /** Most requests admitted and not yet answered. */
  maxInFlight: number;
  /** Most body bytes (by Content-Length) of requests admitted and not yet answered. */
  maxInFlightBytes: number;
}

/**
 * Largest announced body (bytes) of a refused request whose connection is kept open: Node discards the body
 * after the 429, and the client sends its retry on the same connection after Retry-After. A client that had
 * to reconnect would wait behind every connection queued meanwhile, because Node accepts one new connection
 * per turn of its event loop and a flooded server's turns are long. Larger or unannounced (chunked) bodies
 * close the connection, so they are never read; so does a connection refused again well before its
 * Retry-After has passed (within half of it: a client ignoring it), which then queues for a new connection like any newcomer instead of
 * costing the server a refusal per round trip.
 */
export const KEEP_ALIVE_REFUSED_BODY_BYTES = 64 * 1024;

/** Seconds a refused client is told to wait. */
export const ADMISSION_RETRY_AFTER_SECONDS = 1;
/** Default most `POST /v1/events` requests worked on at once (DIMMER_EVENTS_MAX_IN_FLIGHT). */
export const DEFAULT_EVENTS_MAX_IN_FLIGHT = 64;
/** Default most body bytes in flight on an admitted route (64 MiB). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** Counts the requests in flight on one route and refuses those beyond its limits. */
export class AdmissionGate {
  readonly #limits: AdmissionLimits;
  #inFlight = 0;
  #bytes = 0;
  /** Requests refused so far. */
  refused = 0;
  /** When each connection was last refused (ms, monotonic). */
  readonly #refusedAt = new WeakMap<object, number>();

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Requests admitted and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * A `preParsing` hook (it runs after authentication and before the body is read): admits the request and
   * releases it when its response is finished or its connection closes, or refuses it with 429.
   */
  readonly hook = <P>(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: P,
    done: (error: Error | null, payload?: P) => void,
  ): void => {
    const length = Number(request.headers['content-length'] ?? 0);
    const bytes = Number.isFinite(length) && length > 0 ? length : 0;
    const limits = this.#limits;
    if (
      this.#inFlight >= limits.maxInFlight ||
      (this.#inFlight > 0 && this.#bytes + bytes > limits.maxInFlightBytes)
    ) {
      this.refused++;
      if (!this.#keepsConnection(request, bytes)) closeConnectionAfterReply(request, reply);
      reply.header('retry-after', ADMISSION_RETRY_AFTER_SECONDS);
      done(
        new AppError(
          'RATE_LIMITED',
          `the server is busy (${limits.maxInFlight} requests in flight); retry later`,
          {
            retryAfterSeconds: ADMISSION_RETRY_AFTER_SECONDS,
          },
        ),
      );
      return;
    }
    this.#inFlight++;
    this.#bytes += bytes;
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      this.#bytes -= bytes;
    });
    done(null, payload);
  };

  /**
   * Whether a refused request's connection stays open: its body is announced and small, and the connection
   * was not refused already within the last half Retry-After.
   */
  #keepsConnection(request: FastifyRequest, bytes: number): boolean {
    const socket = request.raw.socket;
    const now = performance.now();
    const last = this.#refusedAt.get(socket);
    this.#refusedAt.set(socket, now);
    // Half the Retry-After, so that a client waiting exactly Retry-After is never taken for one ignoring it.
    if (last !== undefined && now - last < ADMISSION_RETRY_AFTER_SECONDS * 500) return false;
    return (
      bytes > 0 &&
      bytes <= KEEP_ALIVE_REFUSED_BODY_BYTES &&
      request.headers['transfer-encoding'] === undefined
    );
  }
}
