/**
 * `npm run bench:hardening [-- --json] [--seconds N]`: the floods that once took the server offline, against one
 * Dimmer server process with its default settings at a 1,024 open-file limit (SQLite in a temporary directory),
 * each measured against the same server idle in the same run.
 *
 * 1. Streams: `/healthz` latency on fresh connections (as a monitoring probe makes them), p50 and p99, on the
 *    idle server, then with 2,000 config-stream attempts of one browser key held open (from 20 loopback source
 *    addresses, so the overall cap, half the open-file limit, is what stops them).
 * 2. Events: `POST /v1/events` latency of one client sending batches one after another (the baseline), then two
 *    floods of 450 concurrent clients sending batches of 100 events without pause for N seconds each (10 by
 *    default), each client's connection opened before the clock starts. In the honest flood a refused client
 *    resends the same batch after Retry-After (and up to half of it more, at random), as the SDKs do: p99 of every answer (target
 *    < 2 s). In the hostile flood a refused client sends its next batch at once: the same figures, reported
 *    without a target (a client refused again within Retry-After loses its connection and waits for a new one,
 *    which Node accepts one per turn of the event loop). Both report the share refused with 429, check that
 *    every 429 carries Retry-After, and probe `/healthz` on fresh connections to the operations port
 *    (DIMMER_OPS_PORT; target p99 < 50 ms) and to the main port (reported). The key's own event and request
 *    budgets are lifted, so admission control is what answers. Each flood runs in a child process; this one
 *    only probes /healthz.
 *
 * `--json` adds a last line `{"bench":"hardening","figures":[...]}`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../src/secrets.ts';
import { freePort, type NodeProcess, sleep, startNode, stopNode } from '../testing/cluster.ts';
import { floodStreams, timedGet } from '../testing/stream-flood.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const secondsArg = args.indexOf('--seconds');
/** Seconds of the events flood. */
const FLOOD_SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 10;
const FILE_LIMIT = 1_024;
const STREAM_ATTEMPTS = 2_000;
const SOURCE_ADDRESSES = 20;
/** /healthz requests per measurement. */
const PROBES = 500;
const TARGET_HEALTHZ_P99_MS = 50;
const FLOOD_CLIENTS = 450;
const EVENTS_PER_BATCH = 100;
const BASELINE_BATCHES = 200;
const TARGET_EVENTS_P99_MS = 2_000;
/** The argument that makes this script the flood process. */
const FLOOD_CHILD = '--flood-child';
/**
 * The two events floods: clients that honour Retry-After (as the SDKs do) and a hostile flood whose refused
 * clients resend at once.
 */
type FloodMode = 'honest' | 'hostile';
const FLOOD_MODES: FloodMode[] = ['honest', 'hostile'];
const FLOOD_DESCRIPTION: Record<FloodMode, string> = {
  honest: 'a refused client resends the same batch after Retry-After',
  hostile: 'a refused client sends its next batch at once',
};
/** Interval between /healthz probes during the events flood, in milliseconds. */
const PROBE_INTERVAL_MS = 20;

interface Figure {
  name: string;
  value: number;
  unit: string;
  compare_to: string | null;
  ratio: number | null;
  target: number | null;
  pass: boolean | null;
}

const log = (line: string) => (json ? console.error(line) : console.log(line));

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? Number.NaN;
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** p50 and p99 of `PROBES` sequential /healthz requests; any answer but 200 (or a reset) is an error. */
async function probeHealthz(url: string): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const { status, ms } = await timedGet(url, '/healthz');
    if (status !== 200) throw new Error(`/healthz answered ${status || 'with a reset'}`);
    times.push(ms);
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

/** A batch of `EVENTS_PER_BATCH` track events with a fresh batch id. */
function batchBody(id: string): string {
  const timestamp = Date.now() - 1_000;
  const events = Array.from({ length: EVENTS_PER_BATCH }, (_, k) => ({
    type: 'track',
    name: 'bench_event',
    unit: `${id}-u${k}`,
    timestamp: timestamp + k,
  }));
  return JSON.stringify({ batchId: id, events });
}

/** A GET through `agent` (its connection stays open for the next request). */
function getOnAgent(url: URL, path: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: Number(url.port), path, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve());
    });
    req.once('error', reject);
    req.end();
  });
}

/** One POST /v1/events: status, whether a 429 carried Retry-After, and the time in milliseconds. */
function postBatch(
  url: URL,
  key: string,
  body: string,
  agent: Agent,
): Promise<{ status: number; retryAfter: boolean; retryAfterSeconds?: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: Number(url.port),
        method: 'POST',
        path: '/v1/events',
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        res.resume();
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] !== undefined,
            ...(res.headers['retry-after'] !== undefined
              ? { retryAfterSeconds: Number(res.headers['retry-after']) }
              : {}),
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.once('error', () => resolve({ status: 0, retryAfter: false, ms: performance.now() - started }));
    req.end(body);
  });
}

async function adminPost(node: NodeProcess, token: string, path: string, body: unknown) {
  const res = await fetch(node.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function streamsPhase(node: NodeProcess, browserKey: string, figures: Figure[]): Promise<void> {
  const idle = await probeHealthz(node.url);
  log(`/healthz idle: p50 ${idle.p50.toFixed(2)} ms, p99 ${idle.p99.toFixed(2)} ms (${PROBES} requests)`);
  const flood = await floodStreams({
    baseUrl: node.url,
    key: browserKey,
    attempts: STREAM_ATTEMPTS,
    addresses: SOURCE_ADDRESSES,
  });
  let loaded: { p50: number; p99: number };
  try {
    const statuses = [...flood.statuses].map(([s, n]) => `${n}× ${s}`).join(', ');
    log(
      `${STREAM_ATTEMPTS} stream attempts of one key: ${statuses}; ${flood.failed} without an answer; ${flood.refusedWithoutRetryAfter} refusals without Retry-After; ${flood.open()} held open`,
    );
    loaded = await probeHealthz(node.url);
    figures.push({
      name: 'streams admitted of 2,000 attempts (one key, 1,024 open files)',
      value: flood.statuses.get(200) ?? 0,
      unit: 'streams',
      compare_to: null,
      ratio: null,
      target: FILE_LIMIT / 2,
      pass: (flood.statuses.get(200) ?? 0) <= FILE_LIMIT / 2 && flood.refusedWithoutRetryAfter === 0,
    });
  } finally {
    flood.close();
  }
  log(
    `/healthz with the streams open: p50 ${loaded.p50.toFixed(2)} ms, p99 ${loaded.p99.toFixed(2)} ms (target p99 < ${TARGET_HEALTHZ_P99_MS} ms)`,
  );
  figures.push(
    {
      name: 'healthz idle p50',
      value: round(idle.p50),
      unit: 'ms',
      compare_to: null,
      ratio: null,
      target: null,
      pass: null,
    },
    {
      name: 'healthz idle p99',
      value: round(idle.p99),
      unit: 'ms',
      compare_to: null,
      ratio: null,
      target: null,
      pass: null,
    },
    {
      name: 'healthz p50 with 2,000 stream attempts open',
      value: round(loaded.p50),
      unit: 'ms',
      compare_to: 'healthz idle p50',
      ratio: round(loaded.p50 / idle.p50),
      target: null,
      pass: null,
    },
    {
      name: 'healthz p99 with 2,000 stream attempts open',
      value: round(loaded.p99),
      unit: 'ms',
      compare_to: 'healthz idle p99',
      ratio: round(loaded.p99 / idle.p99),
      target: TARGET_HEALTHZ_P99_MS,
      pass: loaded.p99 < TARGET_HEALTHZ_P99_MS,
    },
  );
}

async function eventsPhase(
  node: NodeProcess,
  opsUrl: string,
  eventsKey: string,
  figures: Figure[],
): Promise<void> {
  const url = new URL(node.url);
  const single = new Agent({ keepAlive: true, maxSockets: 1 });
  const baseline: number[] = [];
  for (let i = 0; i < BASELINE_BATCHES; i++) {
    const answer = await postBatch(url, eventsKey, batchBody(`base-${i}`), single);
    if (answer.status !== 202) throw new Error(`baseline batch answered ${answer.status}`);
    baseline.push(answer.ms);
  }
  single.destroy();
  const baseP99 = quantile(baseline, 0.99);
  log(
    `/v1/events, one client, ${BASELINE_BATCHES} batches of ${EVENTS_PER_BATCH}: p50 ${quantile(baseline, 0.5).toFixed(1)} ms, p99 ${baseP99.toFixed(1)} ms`,
  );

  figures.push({
    name: 'events one client p99',
    value: round(baseP99, 1),
    unit: 'ms',
    compare_to: null,
    ratio: null,
    target: null,
    pass: null,
  });
  for (const mode of FLOOD_MODES) {
    await floodPhase(node, opsUrl, eventsKey, mode, baseP99, figures);
    await sleep(1_000);
  }
}

/**
 * One events flood in a child process (so that its clients do not delay this process's /healthz probes), with
 * `/healthz` probed on fresh connections meanwhile, on the main port and on the operations port.
 */
async function floodPhase(
  node: NodeProcess,
  opsUrl: string,
  eventsKey: string,
  mode: FloodMode,
  baseP99: number,
  figures: Figure[],
): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, FLOOD_CHILD, node.url, eventsKey, String(FLOOD_SECONDS), mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let finished = false;
  void exited.then(() => {
    finished = true;
  });
  // /healthz on fresh connections, to the main port and to the operations port in turn.
  const probes = { main: [] as number[], ops: [] as number[] };
  let probeFailures = 0;
  while (!finished) {
    for (const [port, base] of [
      ['main', node.url],
      ['ops', opsUrl],
    ] as const) {
      const { status, ms } = await timedGet(base, '/healthz');
      if (status === 200) probes[port].push(ms);
      else probeFailures++;
    }
    await sleep(PROBE_INTERVAL_MS);
  }
  if ((await exited) !== 0) throw new Error(`the flood process failed:\n${output}`);
  const {
    times,
    acceptedTimes,
    refusedTimes,
    statuses: entries,
    missingRetryAfter,
  } = JSON.parse(output) as FloodResult;
  const statuses = new Map(entries);
  const total = times.length;
  const accepted = statuses.get(202) ?? 0;
  const refused = statuses.get(429) ?? 0;
  const p99 = quantile(times, 0.99);
  const probeP99 = quantile(probes.ops, 0.99);
  const mainProbeP99 = quantile(probes.main, 0.99);
  // Only clients that honour Retry-After are promised a bounded latency; a hostile flood's own requests wait
  // for new connections, which Node accepts one per turn of its event loop.
  const target = mode === 'honest' ? TARGET_EVENTS_P99_MS : null;
  const healthzTarget = TARGET_HEALTHZ_P99_MS;
  const label = `${mode} events flood`;
  log(
    `/v1/events ${mode} flood (${FLOOD_DESCRIPTION[mode]}), ${FLOOD_CLIENTS} clients for ${FLOOD_SECONDS} s: ${total} answers (${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}); p50 ${quantile(times, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms${target === null ? '' : ` (target < ${target} ms)`}; ${(accepted * EVENTS_PER_BATCH) / FLOOD_SECONDS} events/s acknowledged; ${missingRetryAfter} 429s without Retry-After`,
  );
  log(
    `  answered 202: p99 ${quantile(acceptedTimes, 0.99).toFixed(1)} ms; answered 429: p50 ${quantile(refusedTimes, 0.5).toFixed(1)} ms, p99 ${quantile(refusedTimes, 0.99).toFixed(1)} ms`,
  );
  log(
    `  /healthz during the flood (fresh connections): operations port p99 ${probeP99.toFixed(1)} ms, main port p99 ${mainProbeP99.toFixed(1)} ms, over ${probes.ops.length} probes each, ${probeFailures} failed`,
  );
  const p99Figure = (name: string, values: number[]): Figure => {
    const value = quantile(values, 0.99);
    return {
      name,
      value: round(value, 1),
      unit: 'ms',
      compare_to: 'events one client p99',
      ratio: round(value / baseP99),
      target,
      pass: target === null ? null : value < target,
    };
  };
  figures.push(
    {
      ...p99Figure(`${label} p99 (${FLOOD_CLIENTS} clients)`, times),
      pass: (target === null || p99 < target) && missingRetryAfter === 0 && total === accepted + refused,
    },
    p99Figure(`${label} p99 of the answers 202`, acceptedTimes),
    p99Figure(`${label} p99 of the answers 429`, refusedTimes),
    {
      name: `${label} answered 429`,
      value: round((100 * refused) / Math.max(1, total), 1),
      unit: '%',
      compare_to: null,
      ratio: null,
      target: null,
      pass: null,
    },
    {
      name: `${label} acknowledged events per second`,
      value: Math.round((accepted * EVENTS_PER_BATCH) / FLOOD_SECONDS),
      unit: 'events/s',
      compare_to: null,
      ratio: null,
      target: null,
      pass: null,
    },
    {
      name: `healthz p99 on the main port during the ${label}`,
      value: round(mainProbeP99, 1),
      unit: 'ms',
      compare_to: 'healthz idle p99',
      ratio: null,
      target: null,
      pass: null,
    },
    {
      name: `healthz p99 on the operations port during the ${label}`,
      value: round(probeP99, 1),
      unit: 'ms',
      compare_to: 'healthz idle p99',
      ratio: null,
      target: healthzTarget,
      pass: healthzTarget === null ? probeFailures === 0 : probeP99 < healthzTarget && probeFailures === 0,
    },
  );
}

/** What the flood process reports: every answer's time, answers by status, and 429s without Retry-After. */
interface FloodResult {
  times: number[];
  /** Times of the answers 202 and of the answers 429. */
  acceptedTimes: number[];
  refusedTimes: number[];
  statuses: [number, number][];
  missingRetryAfter: number;
}

/** The flood itself, in its own process: FLOOD_CLIENTS clients sending batches without pause. */
async function floodEvents(
  baseUrl: string,
  key: string,
  seconds: number,
  mode: FloodMode,
): Promise<FloodResult> {
  const url = new URL(baseUrl);
  // Each client holds its own kept-alive connection, as each SDK instance does.
  const agents = Array.from({ length: FLOOD_CLIENTS }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const times: number[] = [];
  const acceptedTimes: number[] = [];
  const refusedTimes: number[] = [];
  const statuses = new Map<number, number>();
  let missingRetryAfter = 0;
  // Every client's connection is open before the clock starts, as an SDK's kept-alive connection would be: the
  // flood measures how the server answers its clients, not how fast it accepts 450 connections at once.
  await Promise.all(agents.map((agent) => getOnAgent(url, '/healthz', agent)));
  const until = performance.now() + seconds * 1_000;
  const client = async (c: number) => {
    let body = '';
    let retry = false;
    for (let i = 0; performance.now() < until; i++) {
      // An honest client resends a refused batch (same id) after Retry-After and up to half of it more, at random.
      if (!retry) body = batchBody(`flood-${mode}-${c}-${i}`);
      const answer = await postBatch(url, key, body, agents[c] as Agent);
      times.push(answer.ms);
      if (answer.status === 202) acceptedTimes.push(answer.ms);
      if (answer.status === 429) refusedTimes.push(answer.ms);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 429 && !answer.retryAfter) missingRetryAfter++;
      retry = mode === 'honest' && answer.status === 429;
      if (retry) await sleep((answer.retryAfterSeconds ?? 1) * 1_000 * (1 + Math.random() / 2));
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CLIENTS }, (_, c) => client(c)));
  for (const agent of agents) agent.destroy();
  return { times, acceptedTimes, refusedTimes, statuses: [...statuses], missingRetryAfter };
}

async function main(): Promise<void> {
  const token = generateSecret(ADMIN_TOKEN_PREFIX);
  const dataDir = mkdtempSync(join(tmpdir(), 'dimmer-bench-hardening-'));
  const opsPort = await freePort();
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  const node = await startNode(
    'bench',
    { DIMMER_DATA_DIR: dataDir, DIMMER_ADMIN_TOKEN: token, DIMMER_OPS_PORT: String(opsPort) },
    { fileLimit: FILE_LIMIT },
  );
  const figures: Figure[] = [];
  try {
    const browser = await adminPost(node, token, '/api/v1/keys', {
      name: 'site',
      environment: 'production',
      kind: 'browser',
    });
    const events = await adminPost(node, token, '/api/v1/keys', {
      name: 'events-flood',
      environment: 'production',
      kind: 'server',
      eventsPerMinute: 10_000_000,
    });
    log(
      `bench:hardening — one server process, default settings, open-file limit ${FILE_LIMIT} (SQLite in ${dataDir})`,
    );
    await streamsPhase(node, String(browser.secret), figures);
    await sleep(500);
    await eventsPhase(node, opsUrl, String(events.secret), figures);
  } finally {
    await stopNode(node);
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (json) console.log(JSON.stringify({ bench: 'hardening', figures }));
}

const task =
  process.argv[2] === FLOOD_CHILD
    ? floodEvents(
        process.argv[3] as string,
        process.argv[4] as string,
        Number(process.argv[5]),
        process.argv[6] as FloodMode,
      ).then((result) => {
        process.stdout.write(JSON.stringify(result));
      })
    : main();
task.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
