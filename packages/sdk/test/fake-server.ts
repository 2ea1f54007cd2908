/**
 * A small stand-in for the Dimmer server's SDK routes (node:http on 127.0.0.1), for the SDK's unit tests:
 * config with ETag, the change stream, resolve, OFREP bulk evaluation and event ingestion.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { compileConfig, type EnvironmentSnapshot, type EvaluationContext, evaluateAll } from '@dimmer/core';

export const SERVER_KEY = 'srv-key';
export const BROWSER_KEY = 'web-key';

export interface ReceivedBatch {
  batchId: string;
  events: Record<string, unknown>[];
}

export interface FakeServerOptions {
  /** Answer the stream route with this status instead of streaming. */
  streamStatus?: number;
}

export class FakeServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<ServerResponse>();
  port = 0;
  snapshot: EnvironmentSnapshot;
  /** Every request as `METHOD path status`. */
  readonly log: string[] = [];
  readonly batches: ReceivedBatch[] = [];
  /** Statuses to answer `POST /v1/events` with before accepting (consumed in order). */
  eventStatuses: number[] = [];
  streamStatus: number | undefined;

  constructor(snapshot: EnvironmentSnapshot, options: FakeServerOptions = {}) {
    this.snapshot = snapshot;
    this.streamStatus = options.streamStatus;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  count(prefix: string): number {
    return this.log.filter((line) => line.startsWith(prefix)).length;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Publishes a new config and tells every open stream: a bare notice, or with `patch` (sent as given, beside
   * the new version's ETag) the frame a server key's stream carries.
   */
  publish(snapshot: EnvironmentSnapshot, patch?: unknown): void {
    this.snapshot = snapshot;
    for (const stream of this.streams) stream.write(this.notice(patch));
  }

  private notice(patch?: unknown): string {
    const { environment, version } = this.snapshot;
    const data =
      patch === undefined ? { environment, version } : { environment, version, etag: this.etag(), patch };
    return `event: config\ndata: ${JSON.stringify(data)}\n\n`;
  }

  private etag(): string {
    return `"${this.snapshot.environment}-${this.snapshot.version}"`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
      this.log.push(`${req.method} ${path} ${status}`);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (key !== SERVER_KEY && key !== BROWSER_KEY) return reply(401, { error: { code: 'UNAUTHORIZED' } });
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (req.method === 'GET' && path === '/sdk/v1/config') {
      if (key !== SERVER_KEY) return reply(403, { error: { code: 'FORBIDDEN' } });
      if (req.headers['if-none-match'] === this.etag()) return reply(304, undefined, { etag: this.etag() });
      return reply(200, this.snapshot, { etag: this.etag() });
    }
    if (req.method === 'GET' && path === '/sdk/v1/stream') {
      if (this.streamStatus !== undefined) return reply(this.streamStatus, { error: { code: 'NOT_FOUND' } });
      this.log.push(`GET ${path} 200`);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': hello\n\n');
      res.write(this.notice());
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    if (req.method === 'POST' && (path === '/sdk/v1/resolve' || path === '/ofrep/v1/evaluate/flags')) {
      const context = ((body as { context?: EvaluationContext } | undefined)?.context ??
        {}) as EvaluationContext;
      const results = evaluateAll(compileConfig(this.snapshot), context);
      const etag = `"${this.snapshot.version}-${JSON.stringify(context).length}-${context.targetingKey ?? ''}"`;
      if (req.headers['if-none-match'] === etag) return reply(304, undefined, { etag });
      if (path === '/sdk/v1/resolve') {
        const flags: Record<string, unknown> = {};
        for (const r of results)
          flags[r.flagKey] = { value: r.value, variant: r.variant, reason: r.reason, errorCode: r.errorCode };
        return reply(
          200,
          { environment: this.snapshot.environment, version: this.snapshot.version, flags },
          { etag },
        );
      }
      const flags = results.map((r) =>
        r.reason === 'ERROR'
          ? { key: r.flagKey, errorCode: r.errorCode, errorDetails: r.errorMessage }
          : { key: r.flagKey, value: r.value, variant: r.variant, reason: r.reason, metadata: {} },
      );
      return reply(200, { flags }, { etag });
    }
    if (req.method === 'POST' && path === '/v1/events') {
      const status = this.eventStatuses.shift();
      if (status !== undefined)
        return reply(status, { error: { code: 'X' } }, status === 429 ? { 'retry-after': '0' } : {});
      const batch = body as ReceivedBatch;
      this.batches.push(batch);
      return reply(202, { accepted: batch.events.length, rejected: [] });
    }
    return reply(404, { error: { code: 'NOT_FOUND' } });
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

/** Polls `check` every few milliseconds until it returns true; fails after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Fast reconnects and quiet logs for tests. */
export const TEST_SYNC = {
  reconnectBackoff: { initialMs: 20, maxMs: 100 },
  pollIntervalMs: 50,
  requestTimeoutMs: 1_000,
  random: () => 0.5,
  // Refetch at once after a notice, as the timing of these tests expects (the jitter has its own test).
  refetchJitterMs: 0,
};
