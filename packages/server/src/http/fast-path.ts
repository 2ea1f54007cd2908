/**
 * Fast paths: the hot remote-evaluation routes (OFREP single flag and bulk, `POST /sdk/v1/resolve`) answered
 * straight from Node's `request` event, in front of Fastify. Routing, hooks, the reply object and the schema
 * serializer cost more than a cached evaluation; a fast path does only what these routes need, with the same
 * parts the Fastify routes use: the client key authentication and its cache, the client gate's rate-limit
 * counters, CORS for browser keys, the JSON body parser, the exposure sink and the request metrics.
 *
 * Only an ordinary request is answered here: POST to one of the routes (no query string), a JSON content type,
 * a Content-Length within the SDK body limit, a cached client key that its origin may use and within its rate
 * limit. Anything else (OPTIONS, another content type, a chunked or oversized body, a missing, unknown or
 * uncached key, a refused origin, a request past its rate limit, a closing server) is left untouched to
 * Fastify, which answers it as it always does. Once the body is read the fast path answers everything itself,
 * errors included, in the routes' own error shapes.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ClientPrincipal, SdkDeps } from '../client-deps.ts';
import { CORS_EXPOSED_HEADERS, isOriginAllowed, SDK_BODY_LIMIT_BYTES } from './client-auth.ts';
import { clientCredentialOf } from './client-credential.ts';
import type { ErrorLogTarget } from './error-handler.ts';
import type { JsonBodyParser } from './json-body.ts';
import type { RequestMetrics } from './metrics.ts';
import { budgetOf, type ClientGate, rateLimitHeaders } from './rate-limit.ts';

/** The content type of every JSON answer, as Fastify sends it. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** Longest path parameter the router accepts (find-my-way's maxParamLength); longer ones are Fastify's to refuse. */
export const MAX_PATH_PARAM_LENGTH = 100;

const MS_PER_SECOND = 1000;
/** Request content types answered here (lower case); any other goes to Fastify (415 or its own parser). */
const JSON_CONTENT_TYPES: ReadonlySet<string> = new Set(['application/json', JSON_CONTENT_TYPE]);
/** Characters of a path parameter that reads the same encoded or decoded (anything else: Fastify decodes it). */
const PLAIN_PARAM = /^[A-Za-z0-9._~-]+$/;

/** What a fast route knows of the request it answers once the body is read. */
export interface FastRequest {
  principal: ClientPrincipal;
  /** The path parameter (the flag key of `/ofrep/v1/evaluate/flags/:key`), or '' for routes without one. */
  param: string;
  /** The request headers of READ_HEADERS (If-None-Match among them), lower-case names. */
  headers: IncomingHttpHeaders;
  /** Where the route logs (exposure failures, internal errors). */
  log: ErrorLogTarget;
}

/** A fast route's answer: status, JSON body (absent: none, e.g. 304) and extra headers as name/value pairs. */
export interface FastAnswer {
  status: number;
  body?: string;
  headers?: readonly string[];
}

/** One route answered on the fast path. */
export interface FastRoute {
  /** The Fastify route it stands in for (`POST` only): the metrics label and the rate-limit counter. */
  url: string;
  /** The path parameter when `path` (without query string) is this route's, else undefined. */
  match(path: string): string | undefined;
  /** The answer to a request whose body was read and parsed as JSON. */
  answer(request: FastRequest, body: unknown): FastAnswer;
  /** The answer to an error `answer` threw or to a body that is not JSON, in the route's error shape. */
  fail(error: unknown, request: FastRequest): FastAnswer;
}

/** Matches the route `url` exactly (no parameter). */
export function exactPath(url: string): (path: string) => string | undefined {
  return (path) => (path === url ? '' : undefined);
}

/** Matches `prefix` followed by one plain path parameter (as `/:key` at the end of a Fastify URL). */
export function pathWithParam(prefix: string): (path: string) => string | undefined {
  return (path) => {
    if (!path.startsWith(prefix)) return undefined;
    const param = path.slice(prefix.length);
    return param.length <= MAX_PATH_PARAM_LENGTH && PLAIN_PARAM.test(param) ? param : undefined;
  };
}

/** What the fast paths share with the Fastify routes. */
export interface FastPathDeps {
  routes: readonly FastRoute[];
  authenticate: SdkDeps['authenticateClientKey'];
  gate: ClientGate;
  parseJson: JsonBodyParser;
  metrics: RequestMetrics;
  log: ErrorLogTarget['log'];
}

/** The fast paths of one app; `handle` sits in front of Fastify's request handler. */
export class FastPaths {
  readonly #deps: FastPathDeps;
  readonly #log: ErrorLogTarget;
  /** Set when the app starts closing: Fastify then answers every new request (503). */
  closing = false;

  constructor(deps: FastPathDeps) {
    this.#deps = deps;
    this.#log = { log: deps.log };
  }

  /**
   * Answers `request` when it is an ordinary request to a fast route and returns true; otherwise returns false
   * having read and written nothing, and Fastify answers it.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'POST' || this.closing) return false;
    const url = request.url as string;
    let route: FastRoute | undefined;
    let param: string | undefined;
    for (const candidate of this.#deps.routes) {
      param = candidate.match(url);
      if (param !== undefined) {
        route = candidate;
        break;
      }
    }
    if (route === undefined || param === undefined) return false;
    const headers = readHeaders(request.rawHeaders);
    if (headers === undefined) return false;
    const contentType = headers['content-type'];
    if (contentType === undefined || !JSON_CONTENT_TYPES.has(contentType.toLowerCase())) return false;
    if (headers['transfer-encoding'] !== undefined) return false;
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length) || length < 1 || length > SDK_BODY_LIMIT_BYTES) return false;
    const credential = clientCredentialOf(headers);
    if (credential === undefined) return false;
    const principal = this.#deps.authenticate(credential.raw, credential.hash);
    if (principal === null || principal instanceof Promise) return false;
    const origin = headers.origin;
    const originAllowed = origin === undefined || isOriginAllowed(origin, principal.allowedOrigins);
    if (principal.kind === 'browser' && !originAllowed) return false;
    const perMinute = budgetOf(principal, this.#deps.gate.budgets);
    const limiter = this.#deps.gate.limiter('POST', route.url);
    const now = Date.now();
    if (!limiter.wouldAdmit(credential.hash, now, perMinute)) return false;

    const started = performance.now();
    const limits = rateLimitHeaders(limiter.hit(credential.hash, now), perMinute, now);
    // The headers of the client gate (admitPrincipal's CORS answer, then the rate limit), in its order.
    const sent: (string | number)[] = [];
    if (origin !== undefined) {
      sent.push('vary', 'Origin');
      if (originAllowed)
        sent.push(
          'access-control-allow-origin',
          origin,
          'access-control-expose-headers',
          CORS_EXPOSED_HEADERS,
        );
    }
    sent.push(
      'x-ratelimit-limit',
      limits.limit,
      'x-ratelimit-reset',
      limits.reset,
      'x-ratelimit-remaining',
      limits.remaining,
    );
    const context: FastRequest = { principal, param, headers, log: this.#log };
    const pending = new PendingAnswer(this, route, context, response, sent, started);
    (request as IncomingMessage & PendingSlot)[PENDING] = pending;
    request.on('data', onBodyData);
    // No 'error' listener: Node drops the error of an aborted request that has none, and the request is gone.
    request.on('end', onBodyEnd);
    return true;
  }

  /** Answers `pending` once its body is read (`text`, UTF-8), records the metrics. */
  answer(pending: PendingAnswer, text: string): void {
    const { route, request, response, sent } = pending;
    const body = this.#deps.parseJson(text);
    let answer: FastAnswer;
    try {
      if (body.ok) answer = answerOrFail(route, request, body.value);
      else {
        // As Fastify does after a body parser error: the client's next bytes cannot be trusted to start a request.
        sent.push('connection', 'close');
        answer = route.fail(body.error, request);
      }
    } catch (error) {
      // Only a broken error renderer gets here: no answer can be trusted, so the connection is dropped.
      this.#log.log.error({ err: error }, 'fast path error renderer failed');
      response.destroy();
      return;
    }
    this.#send(response, answer, sent);
    this.#deps.metrics.record(
      route.url,
      'POST',
      answer.status,
      (performance.now() - pending.started) / MS_PER_SECOND,
    );
  }

  #send(response: ServerResponse, answer: FastAnswer, sent: (string | number)[]): void {
    if (answer.headers !== undefined) for (const part of answer.headers) sent.push(part);
    if (answer.body === undefined) {
      response.writeHead(answer.status, sent as string[]);
      response.end();
      return;
    }
    sent.push('content-type', JSON_CONTENT_TYPE, 'content-length', Buffer.byteLength(answer.body));
    response.writeHead(answer.status, sent as string[]);
    response.end(answer.body);
  }
}

/** The request headers a fast path reads (lower-case names); Node's `headers` object is built only on use. */
const READ_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'transfer-encoding',
  'authorization',
  'x-api-key',
  'origin',
  'if-none-match',
]);

/**
 * The headers of READ_HEADERS from Node's raw name/value list, without building `request.headers` (which costs
 * more than the rest of a cached answer); undefined when one of them is repeated (Node would join or drop the
 * repeats, so such a request goes to Fastify).
 */
function readHeaders(raw: readonly string[]): IncomingHttpHeaders | undefined {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!READ_HEADERS.has(name)) continue;
    if (headers[name] !== undefined) return undefined;
    headers[name] = raw[i + 1] as string;
  }
  return headers;
}

/** The route's answer, or its error answer when answering throws. */
function answerOrFail(route: FastRoute, request: FastRequest, body: unknown): FastAnswer {
  try {
    return route.answer(request, body);
  } catch (error) {
    return route.fail(error, request);
  }
}

/** Where a request being read keeps its pending answer (a property: no closure per request). */
const PENDING = Symbol('dimmer.fastPathAnswer');

interface PendingSlot {
  [PENDING]?: PendingAnswer;
}

/** A request admitted on a fast path whose body is being read; `started` is performance.now() at admission. */
class PendingAnswer {
  /** The body's first chunk, and all of them once a second arrives (a context is most often one chunk). */
  first: Buffer | undefined;
  chunks: Buffer[] | undefined;

  constructor(
    readonly paths: FastPaths,
    readonly route: FastRoute,
    readonly request: FastRequest,
    readonly response: ServerResponse,
    readonly sent: (string | number)[],
    readonly started: number,
  ) {}
}

/** The 'data' listener of an admitted request (`this` is the request). */
function onBodyData(this: IncomingMessage, chunk: Buffer): void {
  const pending = (this as IncomingMessage & PendingSlot)[PENDING] as PendingAnswer;
  if (pending.first === undefined) pending.first = chunk;
  else {
    pending.chunks ??= [pending.first];
    pending.chunks.push(chunk);
  }
}

/**
 * The 'end' listener of an admitted request: the body is whole (Node's parser holds the client to its
 * Content-Length), so it is answered. A request aborted before its end never gets here, as in Fastify.
 */
function onBodyEnd(this: IncomingMessage): void {
  const pending = (this as IncomingMessage & PendingSlot)[PENDING] as PendingAnswer;
  const body = pending.chunks !== undefined ? Buffer.concat(pending.chunks) : pending.first;
  pending.paths.answer(pending, body === undefined ? '' : body.toString('utf8'));
}
