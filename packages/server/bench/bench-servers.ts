/**
 * The two servers of the HTTP benchmark, each run as its own child process:
 * `bare` — a node:http server that reads the request body and answers a fixed JSON;
 * `dimmer` — a Dimmer server with BULK_FLAGS flags serving OFREP (single flag and bulk) and resolve.
 * Each prints one line `READY {json}` with its base URL, the flag to evaluate and the client key.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../src/secrets.ts';
import { startServer } from '../src/server.ts';

/** What a benchmark server tells the driver once it listens. */
export interface BenchServerInfo {
  url: string;
  /** Path to POST to (the OFREP single-flag evaluation, or the bare server's one answer). */
  path: string;
  /** The OFREP bulk evaluation and the resolve paths (Dimmer only). */
  bulkPath?: string;
  resolvePath?: string;
  /** Flags in the environment (Dimmer only). */
  flags?: number;
  key: string;
  /** Which server answers: the full Dimmer server or the bare node:http one. */
  app: 'full' | 'bare';
}

const FIXED_BODY = JSON.stringify({ key: 'new-checkout', value: true, reason: 'STATIC', variant: 'on' });

async function startBare(): Promise<BenchServerInfo> {
  const server = createServer((request, response) => {
    request.on('data', () => {});
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(FIXED_BODY);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    path: '/ofrep/v1/evaluate/flags/new-checkout',
    key: 'none',
    app: 'bare',
  };
}

/** Flags of the bench environment, all answered by the OFREP bulk evaluation. */
const BULK_FLAGS = 50;

/** Requests per minute per key for the bench server: far above what one key sends here, so it never throttles. */
const BENCH_RATE_LIMIT_PER_MINUTE = 1_000_000_000;

/**
 * The full Dimmer server with SQLite storage in a temporary directory and logging at warn; the flag and
 * the client key are created through the admin API, as an operator would.
 */
async function startDimmer(): Promise<BenchServerInfo> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dimmer-bench-data-'));
  const adminToken = generateSecret(ADMIN_TOKEN_PREFIX);
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    adminToken,
    logger: { level: 'warn' },
    config: { rateLimitPerMinute: BENCH_RATE_LIMIT_PER_MINUTE },
  });
  const admin = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(server.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`POST ${path} failed with ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  await admin('/api/v1/flags', {
    key: 'new-checkout',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: {
      production: {
        enabled: true,
        rules: [
          {
            id: 'nordics',
            when: { attr: 'country', op: 'in', value: ['SE', 'NO'] },
            serve: { variant: 'on' },
          },
        ],
      },
    },
  });
  // The bulk evaluation answers every flag of the environment: BULK_FLAGS in all, as in a mid-size product.
  for (let i = 1; i < BULK_FLAGS; i++) {
    await admin('/api/v1/flags', {
      key: `flag-${String(i).padStart(2, '0')}`,
      kind: i % 3 === 0 ? 'string' : 'boolean',
      variants: i % 3 === 0 ? { a: 'alpha', b: 'beta' } : { off: false, on: true },
      defaultVariant: i % 3 === 0 ? 'a' : 'off',
      environments: {
        production: {
          enabled: true,
          rules:
            i % 2 === 0
              ? [
                  {
                    id: 'plan',
                    when: { attr: 'plan', op: 'eq', value: 'pro' },
                    serve: { variant: i % 3 === 0 ? 'b' : 'on' },
                  },
                ]
              : [
                  {
                    id: 'split',
                    serve: { split: [{ variant: i % 3 === 0 ? 'b' : 'on', range: [0, 500_000] }] },
                  },
                ],
        },
      },
    });
  }
  const created = await admin('/api/v1/keys', { name: 'bench', environment: 'production', kind: 'server' });
  const stop = async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  return {
    url: server.url,
    path: '/ofrep/v1/evaluate/flags/new-checkout',
    bulkPath: '/ofrep/v1/evaluate/flags',
    resolvePath: '/sdk/v1/resolve',
    flags: BULK_FLAGS,
    key: String(created.secret),
    app: 'full',
  };
}

const which = process.argv[2];
const info = which === 'bare' ? await startBare() : which === 'dimmer' ? await startDimmer() : undefined;
if (info === undefined) {
  process.stderr.write('usage: bench-servers.ts bare|dimmer\n');
  process.exit(2);
}
process.stdout.write(`READY ${JSON.stringify(info)}\n`);
if (which === 'bare') process.on('SIGTERM', () => process.exit(0));
