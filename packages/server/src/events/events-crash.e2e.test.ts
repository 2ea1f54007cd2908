import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_METRICS } from '../../testing/analysis-harness.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../secrets.ts';
import { createSqliteStores } from '../stores.ts';

const root = join(import.meta.dirname, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'dimmer-crash-'));
const token = generateSecret(ADMIN_TOKEN_PREFIX);
const CLICKS_PER_BATCH = 3;
const BATCHES = 400;
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const exits = new WeakMap<ChildProcess, Promise<unknown>>();

async function start(port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DIMMER_DATA_DIR: dir,
      DIMMER_ADMIN_TOKEN: token,
      PORT: String(port),
      DIMMER_LOG_LEVEL: 'warn',
      DIMMER_RATE_LIMIT_PER_MINUTE: '1000000',
    },
    stdio: 'ignore',
  });
  exits.set(proc, new Promise((resolve) => proc.once('exit', resolve)));
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return proc;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function stop(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  proc.kill(signal);
  await exits.get(proc);
}

function batch(i: number) {
  const ts = Date.now() - 60_000;
  return {
    batchId: `crash-${i}`,
    events: [
      { type: 'exposure', flag: 'new-checkout', variant: 'on', unit: `u${i}`, timestamp: ts },
      ...Array.from({ length: CLICKS_PER_BATCH }, (_, k) => ({
        type: 'track',
        name: 'click',
        unit: `u${i}`,
        timestamp: ts + k + 1,
      })),
    ],
  };
}

describe('ingestion survives SIGKILL', () => {
  it('counts every acknowledged batch exactly once and nothing half', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const admin = (path: string, body?: unknown) =>
      fetch(base + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    child = await start(port);
    expect((await admin('/api/v1/metrics', SAMPLE_METRICS[2])).status).toBe(201);
    const flag = await admin('/api/v1/flags', {
      key: 'new-checkout',
      kind: 'boolean',
      variants: { off: false, on: true },
      defaultVariant: 'off',
      environments: { production: { enabled: true, rules: [] } },
    });
    expect(flag.status).toBe(201);
    const key = (await (
      await admin('/api/v1/keys', { name: 'sdk', environment: 'production', kind: 'server' })
    ).json()) as { secret: string };
    await stop(child, 'SIGTERM');
    // No rollout route yet (issue 05): create the running rollout through the store.
    const stores = createSqliteStores(dir);
    const metric = await stores.metrics.get('clicks');
    await stores.rollouts.create(
      {
        id: 'ro_crash',
        flag: 'new-checkout',
        environment: 'production',
        treatment: 'on',
        control: 'off',
        state: 'running',
        stage: 0,
        reach: 50,
        attempt: 1,
        guardrails: ['clicks'],
        metrics: metric ? [metric.metric] : [],
        plan: null,
        stateDoc: null,
        traffic: null,
        revision: 1,
        createdAt: 0,
        updatedAt: 0,
      },
      {
        at: Date.now(),
        actor: 'test',
        action: 'rollout.create',
        resourceType: 'rollout',
        resourceKey: 'ro_crash',
        before: null,
        after: null,
      },
    );
    await stores.close();

    child = await start(port);
    const send = (i: number) =>
      fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch(i)),
      });
    const acked = new Set<number>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < BATCHES && !killed) {
        const i = next++;
        try {
          const r = await send(i);
          if (r.status === 202) acked.add(i);
          if (acked.size >= 60 && !killed) {
            killed = true;
            child?.kill('SIGKILL');
          }
        } catch {
          // The connection died with the server: this batch is unacknowledged.
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await exits.get(child);
    expect(acked.size).toBeGreaterThanOrEqual(60);

    child = await start(port);
    const read = async () => {
      const r = (await (await admin('/api/v1/rollouts/ro_crash/evidence')).json()) as {
        evidence: { metrics: { clicks: { cohorts: { treatment: { n: number; sumY: number } }[] } } };
      };
      return r.evidence.metrics.clicks.cohorts[0]?.treatment ?? { n: 0, sumY: 0 };
    };
    const after = await read();
    // Every acknowledged batch is there; no batch is there in part (its exposure without its clicks).
    expect(after.n).toBeGreaterThanOrEqual(acked.size);
    expect(after.sumY).toBe(after.n * CLICKS_PER_BATCH);
    // Resending everything: acknowledged batches are duplicates, and the totals count each batch once.
    for (let i = 0; i < next; i++) {
      const r = (await (await send(i)).json()) as { duplicate: boolean };
      if (acked.has(i)) expect(r.duplicate).toBe(true);
    }
    const final = await read();
    expect(final).toMatchObject({ n: next, sumY: next * CLICKS_PER_BATCH });
    await stop(child, 'SIGTERM');
  });
});
