/**
 * `GET /sdk/v1/stream`: server-sent events announcing each new config version of the key's environment.
 * Server SDKs refetch `/sdk/v1/config` on an event; browser SDKs re-resolve.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CONFIG_STREAM_EVENT, type ConfigStreamEvent } from '@dimmer/api';
import type { FastifyReply } from 'fastify';
import type { ClientPrincipal, ConfigState, SdkDeps } from '../client-deps.ts';
import { AppError } from '../errors.ts';

/** Reconnection delay suggested to EventSource clients (`retry:`), in milliseconds. */
export const STREAM_RETRY_MS = 2000;
/** The SSE event name of a config version announcement. */
export const CONFIG_EVENT = CONFIG_STREAM_EVENT;

/** The SSE frame announcing a config version: `event: config`, `id: <version>`, data `{environment, version}`. */
export function formatConfigEvent(state: Pick<ConfigState, 'environment' | 'version'>): string {
  const event: ConfigStreamEvent = { environment: state.environment, version: state.version };
  const data = JSON.stringify(event);
  return `event: ${CONFIG_EVENT}\nid: ${state.version}\ndata: ${data}\n\n`;
}

/** The open streams of one app, so that closing the app can end them (they would hold `close()` forever). */
export class StreamRegistry {
  readonly #open = new Set<ServerResponse>();

  get size(): number {
    return this.#open.size;
  }

  add(response: ServerResponse): void {
    this.#open.add(response);
  }

  delete(response: ServerResponse): void {
    this.#open.delete(response);
  }

  /** Ends every open stream. */
  endAll(): void {
    for (const response of this.#open) response.end();
    this.#open.clear();
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
  const headers: OutgoingHttpHeaders = {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  };
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, headers);
  let lastVersion = current.version;
  response.write(`retry: ${STREAM_RETRY_MS}\n\n${formatConfigEvent(current)}`);

  const unsubscribe = deps.hub.subscribe(environment, (state) => {
    if (state.version === lastVersion) return;
    lastVersion = state.version;
    response.write(formatConfigEvent(state));
  });
  const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), deps.streamHeartbeatMs);
  registry.add(response);
  const cleanUp = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
    registry.delete(response);
  };
  response.once('close', cleanUp);
  // A client that left before the listener was attached emits no further 'close'.
  if (response.socket === null || response.socket.destroyed) {
    response.off('close', cleanUp);
    cleanUp();
  }
}
