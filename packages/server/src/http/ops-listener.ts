/**
 * The optional operations listener (DIMMER_OPS_PORT): `/healthz`, `/readyz` and `/metrics` on a port of their
 * own. Node accepts one new connection per turn of its event loop and per listening socket, and a flooded
 * server's turns are long, so a probe on the main port waits behind every connection queued there; on its own
 * socket it waits for one turn. Answers come from the app's own routes (hooks, metrics and bodies included).
 */
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.ts';

/** The paths served on the operations port. */
export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

export interface OpsListener {
  /** e.g. `http://127.0.0.1:4243`. */
  url: string;
  close(): Promise<void>;
}

/** Listens on `host`:`port` (0 picks a free port) and answers the operations paths through `app`. */
export async function listenOps(app: FastifyInstance, host: string, port: number): Promise<OpsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] as string;
    if (
      !(OPS_PATHS as readonly string[]).includes(path) ||
      (request.method !== 'GET' && request.method !== 'HEAD')
    ) {
      response.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      response.end(
        JSON.stringify(errorBody('NOT_FOUND', `the operations port serves only GET ${OPS_PATHS.join(', ')}`)),
      );
      return;
    }
    request.resume();
    app
      .inject({ method: request.method === 'HEAD' ? 'HEAD' : 'GET', url: path })
      .then((answer) => {
        response.writeHead(answer.statusCode, answer.headers as Record<string, string>);
        response.end(answer.rawPayload);
      })
      .catch(() => {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(errorBody('INTERNAL', 'the operations route failed')));
      });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
