/**
 * `GET /sdk/v1/stream`: server-sent events announcing each new config version of the key's environment.
 * Server keys' frames carry a patch against the previous version the node held, which SDKs holding that
 * version apply without a request; otherwise (no patch, another base) they refetch `/sdk/v1/config`.
 * Browser keys' frames only announce the version (they never see rules or segments); browser SDKs re-resolve.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CONFIG_STREAM_EVENT, type ConfigStreamEvent } from '@dimmer/api';
import type { FastifyReply } from 'fastify';
import type { ClientKeyKind, ClientPrincipal, ConfigState, SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';
import { readClientCredential } from '../http/client-credential.ts';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from '../http/connection-limits.ts';

export type { StreamLimits } from '../http/connection-limits.ts';

/** Reconnection delay suggested to EventSource clients (`retry:`), in milliseconds. */
export const STREAM_RETRY_MS = 2000;
/** The SSE event name of a config version announcement. */
export const CONFIG_EVENT = CONFIG_STREAM_EVENT;

/**
 * The SSE frame announcing a config version: `event: config`, `id: <version>`, data `{environment, version}`;
 * for server keys also the version's `etag` and its `patch` when the state has one.
 */
export function formatConfigEvent(
  state: Pick<ConfigState, 'environment' | 'version'> & Partial<Pick<ConfigState, 'etag' | 'patch'>>,
  audience: ClientKeyKind = 'browser',
): string {
  const event: ConfigStreamEvent = { environment: state.environment, version: state.version };
  if (audience === 'server') {
    if (state.etag !== undefined) event.etag = state.etag;
    if (state.patch !== undefined) event.patch = state.patch;
  }
  const data = JSON.stringify(event);
  return `event: ${CONFIG_EVENT}\nid: ${state.version}\ndata: ${data}\n\n`;
}

/**
 * The frames of each config version, formatted and encoded once per audience: every stream of the audience is
 * written the same bytes (a patch of up to 64 KiB is not encoded again for each of a thousand streams).
 */
const frames = new WeakMap<ConfigState, Partial<Record<ClientKeyKind, Buffer>>>();

function frameOf(state: ConfigState, audience: ClientKeyKind): Buffer {
  let byAudience = frames.get(state);
  if (byAudience === undefined) {
    byAudience = {};
    frames.set(state, byAudience);
  }
  let frame = byAudience[audience];
  if (frame === undefined) {
    frame = Buffer.from(formatConfigEvent(state, audience));
    byAudience[audience] = frame;
  }
  return frame;
}

/** Seconds a refused stream is told to wait before it tries again. */
export const STREAM_RETRY_AFTER_SECONDS = 5;
/** How often the keys of open streams are checked, in milliseconds: a revoked key's streams end within it. */
export const STREAM_KEY_CHECK_MS = 250;

/** The open streams of one key: its credential (to check it again) and its responses. */
interface KeyStreams {
  rawKey: string;
  keyHash: string;
  responses: Set<ServerResponse>;
}

/**
 * The open streams of one app: capped per key, per client address and in all; ended when the app closes
 * (they would hold `close()` forever) and when their key stops authenticating (revoked, on this node or any).
 */
export class StreamRegistry {
  readonly #open = new Set<ServerResponse>();
  readonly #byKey = new Map<string, KeyStreams>();
  readonly #byAddress = new Map<string, number>();
  readonly #limits: StreamLimits;
  readonly #authenticate: SdkDeps['authenticateClientKey'] | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #checking = false;

  /** Without `authenticate`, streams are not checked for revocation (tests of the stream alone). */
  constructor(limits: Partial<StreamLimits> = {}, authenticate?: SdkDeps['authenticateClientKey']) {
    this.#limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
    this.#authenticate = authenticate;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Throws RATE_LIMITED (per key or address) or UNAVAILABLE (in all) when one more stream would exceed a cap. */
  checkCapacity(keyHash: string, address: string): void {
    const details = { retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS };
    const limits = this.#limits;
    if ((this.#byKey.get(keyHash)?.responses.size ?? 0) >= limits.maxStreamsPerKey)
      throw new AppError(
        'RATE_LIMITED',
        `this key already has ${limits.maxStreamsPerKey} open streams (the most per key)`,
        { ...details, limit: limits.maxStreamsPerKey },
      );
    if ((this.#byAddress.get(address) ?? 0) >= limits.maxStreamsPerAddress)
      throw new AppError(
        'RATE_LIMITED',
        `this address already has ${limits.maxStreamsPerAddress} open streams (the most per address)`,
        { ...details, limit: limits.maxStreamsPerAddress },
      );
    if (this.#open.size >= limits.maxStreams)
      throw new AppError('UNAVAILABLE', `the server holds its most open streams (${limits.maxStreams})`, {
        ...details,
        limit: limits.maxStreams,
      });
  }

  /** Adds an open stream of a key from an address; the returned function removes it. */
  add(response: ServerResponse, credential: { raw: string; hash: string }, address: string): () => void {
    this.#open.add(response);
    let group = this.#byKey.get(credential.hash);
    if (group === undefined) {
      group = { rawKey: credential.raw, keyHash: credential.hash, responses: new Set() };
      this.#byKey.set(credential.hash, group);
    }
    group.responses.add(response);
    this.#byAddress.set(address, (this.#byAddress.get(address) ?? 0) + 1);
    this.#startChecking();
    const keyStreams = group;
    return () => {
      if (!this.#open.delete(response)) return;
      keyStreams.responses.delete(response);
      if (keyStreams.responses.size === 0 && this.#byKey.get(credential.hash) === keyStreams)
        this.#byKey.delete(credential.hash);
      const left = (this.#byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#byAddress.set(address, left);
      else this.#byAddress.delete(address);
      if (this.#open.size === 0) this.#stopChecking();
    };
  }

  /** Ends every open stream. */
  endAll(): void {
    for (const response of [...this.#open]) response.end();
    this.#stopChecking();
  }

  /** Checks every key with open streams once and ends the streams of keys that no longer authenticate. */
  async checkKeys(): Promise<void> {
    const authenticate = this.#authenticate;
    if (authenticate === undefined || this.#checking) return;
    this.#checking = true;
    try {
      for (const group of [...this.#byKey.values()]) {
        let principal: Awaited<ReturnType<typeof authenticate>>;
        try {
          principal = await authenticate(group.rawKey, group.keyHash);
        } catch {
          continue; // Storage unreachable: keep the streams and look again on the next check.
        }
        if (principal === null) for (const response of [...group.responses]) response.end();
      }
    } finally {
      this.#checking = false;
    }
  }

  #startChecking(): void {
    if (this.#authenticate === undefined || this.#checkTimer !== undefined) return;
    this.#checkTimer = setInterval(() => void this.checkKeys(), STREAM_KEY_CHECK_MS);
    this.#checkTimer.unref();
  }

  #stopChecking(): void {
    if (this.#checkTimer !== undefined) clearInterval(this.#checkTimer);
    this.#checkTimer = undefined;
  }
}

/**
 * Takes over the reply and streams config events until the client disconnects: the current version at
 * once, then every new one, with a heartbeat comment every `deps.streamHeartbeatMs` milliseconds.
 */
export function openConfigStream(
  reply: FastifyReply,
  principal: ClientPrincipal,
  deps: SdkDeps,
  registry: StreamRegistry,
): void {
  const environment = principal.environment;
  const current = deps.hub.get(environment);
  if (current === undefined) {
    throw new AppError('NOT_FOUND', `Environment "${environment}" of this key does not exist`);
  }
  const credential = readClientCredential(reply.request);
  if (credential === undefined) throw new AppError('UNAUTHORIZED', 'Missing client key');
  registry.checkCapacity(credential.hash, reply.request.ip);
  const headers: OutgoingHttpHeaders = {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  };
  reply.hijack();
  const response = reply.raw;
  // A stream is kept alive by its heartbeat and bounded by the caps, not by the idle timeout.
  response.socket?.setTimeout(0);
  response.writeHead(200, headers);
  let lastVersion = current.version;
  const audience = principal.kind;
  response.write(`retry: ${STREAM_RETRY_MS}\n\n`);
  response.write(frameOf(current, audience));

  const unsubscribe = deps.hub.subscribe(environment, (state) => {
    if (state.version === lastVersion) return;
    lastVersion = state.version;
    response.write(frameOf(state, audience));
  });
  const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), deps.streamHeartbeatMs);
  const remove = registry.add(response, credential, reply.request.ip);
  const cleanUp = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
    remove();
  };
  response.once('close', cleanUp);
  // A client that left before the listener was attached emits no further 'close'.
  if (response.socket === null || response.socket.destroyed) {
    response.off('close', cleanUp);
    cleanUp();
  }
}
