/**
 * Test support for multi-node suites: Dimmer server processes (spawned with tsx on free ports on 127.0.0.1)
 * sharing one PostgreSQL database, a fresh database per run in the shared PostgreSQL, and a private PostgreSQL
 * cluster a test may stop and start (initdb as the postgres user into a temporary directory).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigStreamEvent } from '@dimmer/api';
import pg from 'pg';
import { quoteIdentifier } from '../src/storage/postgres/database.ts';

const ROOT = join(import.meta.dirname, '../../..');
/** Where Debian installs the PostgreSQL 15 server binaries. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
/** Longest wait for a node to answer /healthz after spawning, in milliseconds (tsx compiles the server first: slow on a busy machine). */
const NODE_START_TIMEOUT_MS = 90_000;
const POLL_MS = 100;

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A database created for one run (its URL) and the function dropping it. */
export async function createTestDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `dimmer_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface NodeProcess {
  name: string;
  url: string;
  proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
  /** Resolves with the exit code or signal once the process ended. */
  exited: Promise<number | string | null>;
  /** True while the process has not exited. */
  alive(): boolean;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Spawns `npm start`'s entry point with the given settings and waits until /healthz answers. `fileLimit` sets
 * the process's open-file limit (`ulimit -n`) before it starts.
 */
export async function startNode(
  name: string,
  env: Record<string, string>,
  options: { waitReady?: boolean; fileLimit?: number } = {},
): Promise<NodeProcess> {
  const port = await freePort();
  const entry = [process.execPath, '--import', 'tsx', 'packages/server/src/main.ts'];
  const [command, ...args] =
    options.fileLimit === undefined
      ? entry
      : ['sh', '-c', `ulimit -n ${Math.floor(options.fileLimit)} && exec "$@"`, 'sh', ...entry];
  const proc = spawn(command as string, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      DIMMER_LOG_LEVEL: 'warn',
      DIMMER_RATE_LIMIT_PER_MINUTE: '10000000',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let exitedWith: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolve) =>
    proc.once('exit', (code, signal) => {
      exitedWith = code ?? signal;
      resolve(exitedWith);
    }),
  );
  const node: NodeProcess = {
    name,
    url: `http://127.0.0.1:${port}`,
    proc,
    output: () => output,
    exited,
    alive: () => exitedWith === undefined,
    kill: (signal) => {
      if (exitedWith === undefined) proc.kill(signal);
    },
  };
  const deadline = Date.now() + NODE_START_TIMEOUT_MS;
  const path = options.waitReady === false ? '/healthz' : '/readyz';
  while (Date.now() < deadline) {
    if (!node.alive()) throw new Error(`node ${name} exited while starting (${exitedWith}):\n${output}`);
    try {
      if ((await fetch(node.url + path)).ok) return node;
    } catch {
      // not listening yet
    }
    await sleep(POLL_MS);
  }
  node.kill('SIGKILL');
  throw new Error(`node ${name} did not answer ${path} within ${NODE_START_TIMEOUT_MS} ms:\n${output}`);
}

/** Stops a node with SIGTERM (SIGKILL after 10 s) and waits for it to exit. */
export async function stopNode(node: NodeProcess): Promise<void> {
  if (!node.alive()) return;
  node.kill('SIGCONT');
  node.kill('SIGTERM');
  const timer = setTimeout(() => node.kill('SIGKILL'), 10_000);
  await node.exited;
  clearTimeout(timer);
}

/** Why the private-cluster suites skip, or undefined when they can run. */
export function privateClusterSkipReason(): string | undefined {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl')))
    return `PostgreSQL server binaries not found in ${PG_BIN} (apt-get install postgresql-15); outage suite skipped`;
  if (process.getuid?.() !== 0)
    return 'the outage suite runs initdb as the postgres user through su and needs root; skipped';
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
  } catch {
    return 'no postgres system user to run the private cluster; outage suite skipped';
  }
  return undefined;
}

/** A private PostgreSQL cluster in a temporary directory on its own port (never the shared server). */
export interface PrivateCluster {
  port: number;
  url: string;
  start(): void;
  /** Stops the server (fast shutdown: sessions are disconnected). */
  stop(): void;
  /** Stops the server and removes its directory. */
  remove(): void;
}

function asPostgres(command: string): void {
  execFileSync('su', ['postgres', '-c', command], { stdio: 'ignore', timeout: 60_000 });
}

/** initdb into a new temporary directory (owned by postgres) and start the server on a free port. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  asPostgres(`${PG_BIN}/initdb -D ${data} --auth=trust -U postgres >/dev/null`);
  const ctl = (action: string) =>
    asPostgres(
      `${PG_BIN}/pg_ctl -D ${data} -l ${join(dir, 'log')} -w -t 30 ${action === 'start' ? `-o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1"` : '-m fast'} ${action}`,
    );
  ctl('start');
  let running = true;
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start() {
      ctl('start');
      running = true;
    },
    stop() {
      ctl('stop');
      running = false;
    },
    remove() {
      try {
        if (running) ctl('stop');
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A reader of SSE text in chunks, calling `onConfig` with each config event's data. */
export function configFrameReader(onConfig: (frame: ConfigStreamEvent) => void): (chunk: string) => void {
  let text = '';
  return (chunk) => {
    text += chunk;
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const frame = text.slice(0, end);
      text = text.slice(end + 2);
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (frame.includes('event: config') && data !== undefined) onConfig(JSON.parse(data));
      end = text.indexOf('\n\n');
    }
  };
}

/** Reads an SSE response, calling `onFrame` with each `data:` payload of a config event. */
export function followStream(
  url: string,
  key: string,
  onConfig: (frame: ConfigStreamEvent) => void,
): { close(): void } {
  const controller = new AbortController();
  void (async () => {
    try {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${key}` },
        signal: controller.signal,
      });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const feed = configFrameReader(onConfig);
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        feed(decoder.decode(chunk.value, { stream: true }));
      }
    } catch {
      // closed
    }
  })();
  return { close: () => controller.abort() };
}
