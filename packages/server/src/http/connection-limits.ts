/**
 * Connection hygiene of the Node server: how long a client may take to send its headers and its body, how
 * long an idle socket and a kept-alive connection may stay open. Slow or silent clients are dropped once
 * these run out, so they cannot hold the process's file descriptors.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { FastifyServerOptions } from 'fastify';

/** The server's timeouts, in milliseconds (0 turns one off). */
export interface ConnectionTimeouts {
  /** Time to receive the request headers (DIMMER_HEADERS_TIMEOUT_MS); Node answers 408 and closes. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, headers and body (DIMMER_REQUEST_TIMEOUT_MS); Node answers 408. */
  requestTimeoutMs: number;
  /** Time a socket may stay silent in either direction before it is destroyed (DIMMER_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** Time a kept-alive connection may wait for its next request (DIMMER_KEEP_ALIVE_TIMEOUT_MS). */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_CONNECTION_TIMEOUTS: ConnectionTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

/** Longest time between two of Node's checks of the header and request timeouts, in milliseconds. */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Shortest such time: checks more often than this cost more than they save. */
const MIN_TIMEOUT_CHECK_INTERVAL_MS = 50;

/**
 * The Fastify server options that enforce `timeouts`. Node checks the header and request timeouts on an
 * interval (30 s by default); it is shortened so that a slow client is dropped close to its deadline.
 */
export function serverTimeoutOptions(timeouts: ConnectionTimeouts): Pick<
  FastifyServerOptions,
  'connectionTimeout' | 'keepAliveTimeout' | 'requestTimeout'
> & {
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  const deadlines = [timeouts.headersTimeoutMs, timeouts.requestTimeoutMs].filter((ms) => ms > 0);
  const shortest = deadlines.length > 0 ? Math.min(...deadlines) : MAX_TIMEOUT_CHECK_INTERVAL_MS;
  const interval = Math.max(
    MIN_TIMEOUT_CHECK_INTERVAL_MS,
    Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, Math.floor(shortest / 4)),
  );
  // Node requires headersTimeout ≤ requestTimeout when both are on.
  const headersTimeout =
    timeouts.requestTimeoutMs > 0 && timeouts.headersTimeoutMs > 0
      ? Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs)
      : timeouts.headersTimeoutMs;
  return {
    connectionTimeout: timeouts.idleTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    http: {
      headersTimeout,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: interval,
    },
  };
}

/**
 * The Node server Fastify would build from `options` (serverTimeoutOptions), with `listener` as its request
 * handler: the app's `serverFactory`, so that the fast paths (fast-path.ts) see requests before Fastify.
 */
export function createHttpServer(
  options: ReturnType<typeof serverTimeoutOptions>,
  listener: RequestListener,
): Server {
  const server = createServer(options.http, listener);
  server.keepAliveTimeout = options.keepAliveTimeout as number;
  server.requestTimeout = options.requestTimeout as number;
  server.setTimeout(options.connectionTimeout as number);
  return server;
}

/** Caps on open config streams; past one, a new stream is refused (429 per key or address, 503 overall). */
export interface StreamLimits {
  /** Most open streams in all (DIMMER_MAX_STREAMS). */
  maxStreams: number;
  /** Most open streams per client key (DIMMER_MAX_STREAMS_PER_KEY). */
  maxStreamsPerKey: number;
  /** Most open streams per client address (DIMMER_MAX_STREAMS_PER_ADDRESS). */
  maxStreamsPerAddress: number;
}

/** Default most open streams in all (see also defaultMaxStreams in settings.ts, which caps it by the fd limit). */
export const DEFAULT_MAX_STREAMS = 5_000;
/** Default most open streams per client key: a browser key serves every open page of a site. */
export const DEFAULT_MAX_STREAMS_PER_KEY = 2_000;
/** Default most open streams per client address. */
export const DEFAULT_MAX_STREAMS_PER_ADDRESS = 100;

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxStreams: DEFAULT_MAX_STREAMS,
  maxStreamsPerKey: DEFAULT_MAX_STREAMS_PER_KEY,
  maxStreamsPerAddress: DEFAULT_MAX_STREAMS_PER_ADDRESS,
};
