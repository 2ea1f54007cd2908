/**
 * `npm run bench:cluster`: Dimmer nodes sharing one PostgreSQL database (a fresh database in
 * DIMMER_BENCH_DATABASE_URL, else DIMMER_TEST_DATABASE_URL, dropped at the end), each a child process on 127.0.0.1.
 * Measures `POST /sdk/v1/resolve` throughput against one node and spread over three, the propagation of a flag
 * change made through one node to the SDK streams of the other two (p99, from the writing node's own stream
 * announcing the version), and a change reaching 1,000 streams open on one node: from the first stream announcing
 * the new version until each stream's client holds it (p99, target < 500 ms), by applying the stream's patch, and
 * again with the clients refetching the config with its ETag instead (as older SDKs and changes too large for a
 * patch do; reported without a target) against a baseline of the same 1,000 clients each fetching /healthz on a
 * new connection.
 * `--seconds N` sets the throughput runs' length; `--json` adds a last line `{"bench":"cluster","figures":[...]}`.
 */

import { type IncomingMessage, request } from 'node:http';
import type { ConfigStreamEvent } from '@dimmer/api';
import { DEFAULT_REFETCH_JITTER_MS } from '@dimmer/sdk';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../src/secrets.ts';
import {
  configFrameReader,
  createTestDatabase,
  followStream,
  type NodeProcess,
  sleep,
  startNode,
  stopNode,
} from '../testing/cluster.ts';

const args = process.argv.slice(2);
const secondsArg = args.indexOf('--seconds');
/** Seconds per throughput run. */
const RUN_SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 8;
/** Concurrent requests in flight during a throughput run. */
const CONCURRENCY = 32;
/** Flag changes whose propagation is timed. */
const PROPAGATION_CHANGES = 30;
/** Streams held open in the refetch run, spread over the nodes. */
const STREAMS = 1_000;
/** Changes timed in the 1,000-stream run, with patches applied and again with refetches. */
const REFETCH_ROUNDS = 3;
/** Targets. */
const TARGET_CHANGE_P99_MS = 500;
const TARGET_PROPAGATION_P99_MS = 1_000;
const FLAGS = 20;

interface Figure {
  name: string;
  value: number;
  unit: string;
  compare_to: string | null;
  ratio: number | null;
  target: number | null;
  pass: boolean | null;
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** `GET` with node:http on a new connection: the status and the ETag, the body read and dropped. */
function getOnce(url: string, headers: Record<string, string>): Promise<{ status: number; etag: string }> {
  return new Promise((resolve) => {
    const req = request(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag ?? '') }));
    });
    req.on('error', () => resolve({ status: 0, etag: '' }));
    req.end();
  });
}

/** An SSE stream on its own socket, calling `onConfig` with each config event's data. */
function openStream(
  url: string,
  key: string,
  onConfig: (frame: ConfigStreamEvent) => void,
): { close(): void } {
  let response: IncomingMessage | undefined;
  const req = request(url, { headers: { authorization: `Bearer ${key}` }, agent: false }, (res) => {
    response = res;
    res.setEncoding('utf8');
    res.on('data', configFrameReader(onConfig));
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return {
    close: () => {
      if (response !== undefined) response.destroy();
      else req.destroy();
    },
  };
}

async function main(): Promise<void> {
  const base = process.env.DIMMER_BENCH_DATABASE_URL ?? process.env.DIMMER_TEST_DATABASE_URL;
  if (base === undefined || base === '') {
    process.stderr.write(
      'bench:cluster needs DIMMER_BENCH_DATABASE_URL or DIMMER_TEST_DATABASE_URL (PostgreSQL)\n',
    );
    process.exit(1);
  }
  const database = await createTestDatabase(base);
  const token = generateSecret(ADMIN_TOKEN_PREFIX);
  const env = {
    DIMMER_DATABASE_URL: database.url,
    DIMMER_ADMIN_TOKEN: token,
    DIMMER_LOG_LEVEL: 'error',
    DIMMER_DATABASE_POOL_SIZE: '4',
    // Every bench client comes from 127.0.0.1: the per-address cap would refuse most of the 1,000 streams.
    DIMMER_MAX_STREAMS_PER_ADDRESS: String(STREAMS + 100),
  };
  const nodes: NodeProcess[] = [];
  const figures: Figure[] = [];
  try {
    nodes.push(await startNode('A', env));
    nodes.push(...(await Promise.all([startNode('B', env), startNode('C', env)])));
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(a.url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const flagDoc = (i: number, variant: string) => ({
      key: `flag-${i}`,
      kind: 'boolean',
      variants: { off: false, on: true },
      defaultVariant: variant,
      environments: {
        production: {
          enabled: true,
          rules: [{ id: 'pro', when: { attr: 'plan', op: 'eq', value: 'pro' }, serve: { variant: 'on' } }],
        },
      },
    });
    for (let i = 0; i < FLAGS; i++) await admin('POST', '/api/v1/flags', flagDoc(i, 'off'));
    const key = String(
      (await admin('POST', '/api/v1/keys', { name: 'bench', environment: 'production', kind: 'server' }))
        .secret,
    );
    const sdkHeaders = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    await sleep(1_500);

    // Resolve throughput: closed-loop workers against the given nodes for RUN_SECONDS.
    const throughput = async (targets: readonly NodeProcess[]) => {
      let done = 0;
      let failed = 0;
      const until = Date.now() + RUN_SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, w) => {
          let n = w;
          while (Date.now() < until) {
            const node = targets[n++ % targets.length] as NodeProcess;
            const res = await fetch(`${node.url}/sdk/v1/resolve`, {
              method: 'POST',
              headers: sdkHeaders,
              body: JSON.stringify({
                context: { targetingKey: `u${n}`, plan: n % 2 === 0 ? 'pro' : 'free' },
                logExposures: false,
              }),
            });
            await res.arrayBuffer();
            if (res.ok) done++;
            else failed++;
          }
        }),
      );
      if (failed > 0) process.stderr.write(`${failed} resolve requests failed\n`);
      return done / RUN_SECONDS;
    };
    const one = await throughput([a]);
    const three = await throughput(nodes);
    figures.push(
      {
        name: 'resolve_one_node',
        value: round(one),
        unit: 'req/s',
        compare_to: null,
        ratio: null,
        target: null,
        pass: null,
      },
      {
        name: 'resolve_three_nodes',
        value: round(three),
        unit: 'req/s',
        compare_to: 'resolve_one_node',
        ratio: round(three / one, 2),
        target: null,
        pass: null,
      },
    );

    // Propagation: a change through A, timed from A's own stream announcing the version (the commit has
    // happened) until the streams of B and C announce it.
    const seen = new Map<string, Map<number, number>>();
    const streams = [a, b, c].map((node) => {
      seen.set(node.name, new Map());
      return followStream(`${node.url}/sdk/v1/stream`, key, (frame) => {
        const times = seen.get(node.name) as Map<number, number>;
        if (!times.has(frame.version)) times.set(frame.version, performance.now());
      });
    });
    await sleep(500);
    const propagation: number[] = [];
    for (let i = 0; i < PROPAGATION_CHANGES; i++) {
      await admin('PUT', `/api/v1/flags/flag-${i % FLAGS}`, flagDoc(i % FLAGS, i % 2 === 0 ? 'on' : 'off'));
      const version = Number(
        (
          (await (await fetch(`${a.url}/sdk/v1/config`, { headers: sdkHeaders })).json()) as {
            version: number;
          }
        ).version,
      );
      const deadline = performance.now() + 10_000;
      while ([...seen.values()].some((m) => !m.has(version)) && performance.now() < deadline) await sleep(5);
      const origin = seen.get('A')?.get(version) ?? Number.NaN;
      for (const name of ['B', 'C'])
        propagation.push(Math.max(0, (seen.get(name)?.get(version) ?? Number.POSITIVE_INFINITY) - origin));
      await sleep(100);
    }
    for (const s of streams) s.close();
    const propagationP99 = p99(propagation);
    figures.push({
      name: 'propagation_p99',
      value: round(propagationP99),
      unit: 'ms',
      compare_to: null,
      ratio: null,
      target: TARGET_PROPAGATION_P99_MS,
      pass: propagationP99 < TARGET_PROPAGATION_P99_MS,
    });

    // 1,000 streams on node A, each with a client that acts as the SDK does on an announced version: a frame
    // whose patch has the version the client holds as its base is applied there and then (the client holds the
    // new version on the frame's arrival); any other frame is followed by a fetch of the config with its ETag
    // after the SDK's jitter, on a new connection (changes are minutes apart, longer than the server's
    // keep-alive). The patch rounds time a change reaching every client; the refetch rounds make the clients
    // ignore patches (an older SDK, or a change larger than a patch) and time the refetch. Both clocks start at
    // the first stream announcing the version (the change is committed by then).
    // The clients are plain node:http, so the figures are the server's and not this process's fetch machinery.
    await admin('POST', '/api/v1/flags', { ...flagDoc(FLAGS, 'off'), key: 'refetch' });
    let started = 0;
    let expected = Number.POSITIVE_INFINITY;
    let applyPatches = true;
    const patched: number[] = [];
    const refetch: number[] = [];
    const held = new Map<number, { version: number; etag: string }>();
    const handled = new Map<number, number>();
    let opened = 0;
    const many = Array.from({ length: STREAMS }, (_, i) =>
      openStream(`${a.url}/sdk/v1/stream`, key, (frame) => {
        if (frame.version < expected) {
          if (!held.has(i)) {
            held.set(i, { version: frame.version, etag: frame.etag ?? '' });
            opened++;
          }
          return;
        }
        if ((handled.get(i) ?? 0) >= frame.version) return;
        if (started === Number.POSITIVE_INFINITY) started = performance.now();
        handled.set(i, frame.version);
        const mine = held.get(i);
        if (applyPatches && frame.patch !== undefined && frame.patch.base === mine?.version) {
          held.set(i, { version: frame.version, etag: frame.etag ?? '' });
          patched.push(Math.max(0, performance.now() - started));
          return;
        }
        const headers = { authorization: `Bearer ${key}`, 'if-none-match': mine?.etag ?? '' };
        const jitter = Math.random() * DEFAULT_REFETCH_JITTER_MS;
        setTimeout(() => {
          void getOnce(`${a.url}/sdk/v1/config`, headers).then(({ status, etag }) => {
            held.set(i, { version: frame.version, etag });
            if (status === 200) refetch.push(Math.max(0, performance.now() - started));
          });
        }, jitter);
      }),
    );
    const openBy = performance.now() + 30_000;
    while (opened < STREAMS && performance.now() < openBy) await sleep(50);
    if (opened < STREAMS) process.stderr.write(`only ${opened} of ${STREAMS} streams opened\n`);
    for (let r = 0; r < 2 * REFETCH_ROUNDS; r++) {
      applyPatches = r < REFETCH_ROUNDS;
      const times = applyPatches ? patched : refetch;
      const before = times.length;
      const current = Number(
        (
          (await (await fetch(`${a.url}/sdk/v1/config`, { headers: sdkHeaders })).json()) as {
            version: number;
          }
        ).version,
      );
      expected = current + 1;
      started = Number.POSITIVE_INFINITY;
      await admin('PUT', '/api/v1/flags/refetch', {
        ...flagDoc(FLAGS, r % 2 === 0 ? 'on' : 'off'),
        key: 'refetch',
      });
      const deadline = performance.now() + 15_000;
      while (times.length - before < opened && performance.now() < deadline) await sleep(10);
      const got = times.length - before;
      const how = applyPatches ? 'applied the patch' : 'refetched';
      if (got < opened) process.stderr.write(`round ${r}: only ${got} of ${opened} clients ${how}\n`);
      for (let k = got; k < opened; k++) times.push(Number.POSITIVE_INFINITY);
      await sleep(500);
    }
    // Baseline, same node, same open streams, same jitter: each client GETs /healthz on a new connection. It is
    // the machine's floor for a thousand requests at once; the refetch ratio above it is the config route's cost.
    const floor: number[] = [];
    for (let r = 0; r < REFETCH_ROUNDS; r++) {
      const t0 = performance.now();
      await Promise.all(
        Array.from(
          { length: opened },
          () =>
            new Promise<void>((resolve) => {
              setTimeout(() => {
                void getOnce(`${a.url}/healthz`, {}).then(({ status }) => {
                  floor.push(status === 200 ? performance.now() - t0 : Number.POSITIVE_INFINITY);
                  resolve();
                });
              }, Math.random() * DEFAULT_REFETCH_JITTER_MS);
            }),
        ),
      );
      await sleep(500);
    }
    for (const s of many) s.close();
    const floorP99 = p99(floor);
    const refetchP99 = p99(refetch);
    const patchedP99 = p99(patched);
    figures.push(
      {
        name: 'change_1000_streams_p99',
        value: round(patchedP99),
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: TARGET_CHANGE_P99_MS,
        pass: patchedP99 < TARGET_CHANGE_P99_MS,
      },
      {
        name: 'healthz_1000_clients_p99',
        value: round(floorP99),
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: null,
        pass: null,
      },
      {
        name: 'refetch_1000_streams_p99',
        value: round(refetchP99),
        unit: 'ms',
        compare_to: 'healthz_1000_clients_p99',
        ratio: round(refetchP99 / floorP99, 2),
        // The fallback (older SDKs, changes over the patch bound): reported against the floor of the same
        // clients' own requests, without a target; the target is on the change reaching the streams.
        target: null,
        pass: null,
      },
    );
  } finally {
    await Promise.all(nodes.map((n) => stopNode(n)));
    await database.drop();
  }
  for (const f of figures)
    console.log(
      `${f.name.padEnd(28)} ${String(f.value).padStart(10)} ${f.unit}` +
        (f.ratio !== null ? `  (×${f.ratio} of ${f.compare_to})` : '') +
        (f.target !== null ? `  target < ${f.target} ${f.unit}: ${f.pass ? 'pass' : 'FAIL'}` : ''),
    );
  if (args.includes('--json')) console.log(JSON.stringify({ bench: 'cluster', figures }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
