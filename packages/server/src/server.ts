/**
 * Running the server: `startServer` (used by `npm start`, `dimmer serve` and tests) opens storage, builds the
 * app and listens; `createTestServer` does the same on in-memory or temporary SQLite with a known admin token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type LoggerOptions, pino } from 'pino';
import { type AppConfig, buildApp } from './app.ts';
import type { ExposureSink } from './client-deps.ts';
import { type Clock, systemClock } from './clock.ts';
import { listenOps, type OpsListener } from './http/ops-listener.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from './secrets.ts';
import { type DatabaseSettings, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT } from './settings.ts';
import type { Stores } from './stores.ts';
import { createMemoryStores, createPostgresStores, createSqliteStores } from './stores.ts';

/**
 * Pending connections the listening socket queues (the kernel caps it at net.core.somaxconn). Node's default of
 * 511 overflows when a thousand SDKs refetch at once after a change: the dropped SYNs come back a second later.
 */
export const LISTEN_BACKLOG = 4096;

export interface StartOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** A port of its own for /healthz, /readyz and /metrics (0 picks a free one); absent: none. */
  opsPort?: number;
  /** SQLite data directory (default ./.dimmer); ignored when `databaseUrl` or `stores` is given. */
  dataDir?: string;
  /** PostgreSQL connection string. */
  databaseUrl?: string;
  /** PostgreSQL schema (default: the connection's search_path). */
  databaseSchema?: string;
  /** PostgreSQL pool size, timeouts and keepalive (defaults: the driver's). */
  database?: DatabaseSettings;
  /** Ready-made stores (tests); closed with the server. */
  stores?: Stores;
  adminToken?: string;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
  config?: Partial<AppConfig>;
  exposures?: ExposureSink;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:4242`. */
  url: string;
  app: FastifyInstance;
  /** The admin token generated on first start (shown once), or the one given; undefined otherwise. */
  adminToken?: string;
  /** True when this start generated the admin token. */
  adminTokenGenerated: boolean;
  /** Base URL of the operations port, when one was asked for. */
  opsUrl?: string;
  close(): Promise<void>;
}

async function openStores(options: StartOptions): Promise<Stores> {
  if (options.stores) return options.stores;
  if (options.databaseUrl !== undefined) {
    const { poolSize, startupTimeoutMs, ...timeouts } = options.database ?? {};
    const log =
      options.logger === false || options.logger === undefined
        ? undefined
        : pino(typeof options.logger === 'object' ? (options.logger as LoggerOptions) : {});
    return createPostgresStores(
      {
        connectionString: options.databaseUrl,
        ...(options.databaseSchema !== undefined ? { schema: options.databaseSchema } : {}),
        ...(poolSize !== undefined ? { poolSize } : {}),
        ...(startupTimeoutMs !== undefined ? { startupTimeoutMs } : {}),
        timeouts,
      },
      log === undefined ? undefined : { warn: (message) => log.warn(message) },
    );
  }
  return createSqliteStores(options.dataDir ?? DEFAULT_DATA_DIR);
}

/** Opens storage, builds the app and listens; `close()` stops the server and closes storage. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const stores = await openStores(options);
  let generated: string | undefined;
  let app: FastifyInstance | undefined;
  let ops: OpsListener | undefined;
  try {
    app = await buildApp({
      stores,
      clock: options.clock ?? systemClock,
      logger: options.logger ?? false,
      ...(options.config !== undefined ? { config: options.config } : {}),
      ...(options.adminToken !== undefined ? { adminToken: options.adminToken } : {}),
      ...(options.exposures !== undefined ? { exposures: options.exposures } : {}),
      onAdminTokenCreated: (token) => {
        generated = token;
      },
    });
    await app.listen({
      host: options.host ?? DEFAULT_HOST,
      port: options.port ?? DEFAULT_PORT,
      backlog: LISTEN_BACKLOG,
    });
    if (options.opsPort !== undefined)
      ops = await listenOps(app, options.host ?? DEFAULT_HOST, options.opsPort);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await stores.close().catch(() => undefined);
    throw error;
  }
  const address = app.server.address();
  const port =
    typeof address === 'object' && address !== null ? address.port : (options.port ?? DEFAULT_PORT);
  const host = options.host ?? DEFAULT_HOST;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const adminToken = generated ?? options.adminToken;
  let closed = false;
  return {
    url: `http://${urlHost}:${port}`,
    app,
    ...(adminToken !== undefined ? { adminToken } : {}),
    adminTokenGenerated: generated !== undefined,
    ...(ops !== undefined ? { opsUrl: ops.url } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await ops?.close();
      await app.close();
      await stores.close();
    },
  };
}

export interface TestServerOptions {
  /** `memory` (default) or `sqlite` in a temporary directory removed on close. */
  storage?: 'memory' | 'sqlite';
  /** The server's clock (a controllable one makes stage durations pass in tests). */
  clock?: Clock;
  /** `controllerIntervalMs` defaults to 0 here: tests run the controller with `app.dimmer.controller.tick()`. */
  config?: Partial<AppConfig>;
  exposures?: ExposureSink;
}

export interface TestServer extends RunningServer {
  adminToken: string;
  /** Fetches `path` on the server with the admin token. */
  adminFetch(path: string, init?: RequestInit): Promise<Response>;
}

/** A server on 127.0.0.1 with a free port, fresh storage and a known admin token. */
export async function createTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const adminToken = generateSecret(ADMIN_TOKEN_PREFIX);
  let dir: string | undefined;
  let stores: Stores;
  if (options.storage === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'dimmer-test-'));
    stores = createSqliteStores(dir);
  } else {
    stores = createMemoryStores();
  }
  const server = await startServer({
    host: DEFAULT_HOST,
    port: 0,
    stores,
    adminToken,
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    config: { controllerIntervalMs: 0, ...options.config },
    ...(options.exposures !== undefined ? { exposures: options.exposures } : {}),
  });
  return {
    ...server,
    adminToken,
    adminFetch(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${adminToken}`);
      if (init.body !== undefined && !headers.has('content-type'))
        headers.set('content-type', 'application/json');
      return fetch(server.url + path, { ...init, headers });
    },
    async close() {
      await server.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
