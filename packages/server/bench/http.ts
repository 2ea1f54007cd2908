/**
 * `npm run bench:http`: wrk against the OFREP single-flag endpoint of a Dimmer server and against a bare
 * node:http server answering a fixed JSON, both child processes on 127.0.0.1, in interleaved rounds.
 * Prints req/s and p99 latency of both and the throughput ratio (medians over the rounds).
 * `--json` adds a last line `{"bench":"http","figures":[...]}`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BenchServerInfo } from './bench-servers.ts';

/** Seconds per wrk run. */
const DURATION_SECONDS = 10;
/** Seconds of warm-up per server before the measured rounds (JIT, connection set-up). */
const WARMUP_SECONDS = 2;
/** Concurrent connections. */
const CONNECTIONS = 50;
/** wrk threads: one, so that on a small machine the load generator leaves a core to the server. */
const THREADS = 1;
/** Measured rounds; each runs Dimmer then the bare server, and medians are reported. */
const ROUNDS = 3;
/** Targets: Dimmer's throughput at least this share of the bare server's, and p99 below this many ms. */
const TARGET_RATIO = 0.6;
const TARGET_P99_MS = 10;
/** How long a child server may take to start, in milliseconds. */
const STARTUP_TIMEOUT_MS = 60_000;

const REQUEST_BODY = JSON.stringify({ context: { targetingKey: 'user-123', plan: 'pro', country: 'SE' } });

interface WrkResult {
  requestsPerSecond: number;
  p99Ms: number;
}

interface Figure {
  name: string;
  value: number;
  unit: string;
  compare_to: string | null;
  ratio: number | null;
  target: number | null;
  pass: boolean | null;
}

function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return;
  } catch (error) {
    // wrk --version exits 1 after printing its version: it is installed.
    if ((error as { status?: number }).status === 1) return;
  }
  if (process.getuid?.() === 0) {
    process.stderr.write('wrk is missing: installing it with apt-get (Debian package "wrk")...\n');
    try {
      execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
    }
    return;
  }
  process.stderr.write('wrk is not installed. Install it with: sudo apt-get install -y wrk\n');
  process.exit(1);
}

async function startChild(which: 'bare' | 'dimmer'): Promise<{ child: ChildProcess; info: BenchServerInfo }> {
  const script = join(import.meta.dirname, 'bench-servers.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, which], {
    cwd: join(import.meta.dirname, '..', '..', '..'),
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const info = await new Promise<BenchServerInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${which} server did not start`)), STARTUP_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`${which} server exited with ${code}`)));
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('READY '.length)) as BenchServerInfo);
    });
  });
  return { child, info };
}

function writeLuaScript(dir: string, key: string): string {
  const path = join(dir, `post-${key === 'none' ? 'bare' : 'dimmer'}.lua`);
  writeFileSync(
    path,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(REQUEST_BODY)}`,
      'wrk.headers["Content-Type"] = "application/json"',
      `wrk.headers["Authorization"] = ${JSON.stringify(`Bearer ${key}`)}`,
      '',
    ].join('\n'),
  );
  return path;
}

/** Milliseconds from a wrk duration such as `812.00us`, `1.53ms` or `1.02s`. */
function toMilliseconds(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`unreadable wrk duration "${text}"`);
  const value = Number(match[1]);
  const unit = match[2];
  if (unit === 'us') return value / 1000;
  if (unit === 'ms') return value;
  if (unit === 's') return value * 1000;
  return value * 60_000;
}

function runWrk(url: string, script: string, seconds: number): WrkResult {
  const output = execFileSync(
    'wrk',
    ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', '-s', script, url],
    { encoding: 'utf8' },
  );
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p99 = /^\s*99%\s+(\S+)/m.exec(output);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  if (!rps || !p99) throw new Error(`unreadable wrk output:\n${output}`);
  if (non2xx) throw new Error(`${non2xx[1]} requests failed against ${url}:\n${output}`);
  return { requestsPerSecond: Number(rps[1]), p99Ms: toMilliseconds(p99[1] as string) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  ensureWrk();
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-bench-http-'));
  const dimmer = await startChild('dimmer');
  const bare = await startChild('bare');
  try {
    const dimmerUrl = dimmer.info.url + dimmer.info.path;
    const bareUrl = bare.info.url + bare.info.path;
    const dimmerScript = writeLuaScript(dir, dimmer.info.key);
    const bareScript = writeLuaScript(dir, bare.info.key);
    const check = await fetch(dimmerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${dimmer.info.key}` },
      body: REQUEST_BODY,
    });
    if (check.status !== 200) throw new Error(`Dimmer answered ${check.status}: ${await check.text()}`);

    process.stdout.write(
      `HTTP benchmark: wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_SECONDS}s, ${ROUNDS} interleaved rounds, medians\n` +
        `Dimmer (${dimmer.info.app} app): POST ${dimmer.info.path}\n`,
    );
    runWrk(dimmerUrl, dimmerScript, WARMUP_SECONDS);
    runWrk(bareUrl, bareScript, WARMUP_SECONDS);
    const dimmerRuns: WrkResult[] = [];
    const bareRuns: WrkResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const d = runWrk(dimmerUrl, dimmerScript, DURATION_SECONDS);
      const b = runWrk(bareUrl, bareScript, DURATION_SECONDS);
      dimmerRuns.push(d);
      bareRuns.push(b);
      process.stdout.write(
        `  round ${round}: dimmer ${d.requestsPerSecond.toFixed(0)} req/s p99 ${d.p99Ms.toFixed(2)} ms; ` +
          `bare ${b.requestsPerSecond.toFixed(0)} req/s p99 ${b.p99Ms.toFixed(2)} ms\n`,
      );
    }
    const dRps = median(dimmerRuns.map((run) => run.requestsPerSecond));
    const dP99 = median(dimmerRuns.map((run) => run.p99Ms));
    const bRps = median(bareRuns.map((run) => run.requestsPerSecond));
    const bP99 = median(bareRuns.map((run) => run.p99Ms));
    // Rounds are paired (Dimmer then bare, back to back), so the median of per-round ratios resists drift in
    // the machine's load better than a ratio of medians.
    const ratio = median(
      dimmerRuns.map((run, i) => run.requestsPerSecond / (bareRuns[i] as WrkResult).requestsPerSecond),
    );
    process.stdout.write(
      `dimmer OFREP single flag: ${dRps.toFixed(0)} req/s, p99 ${dP99.toFixed(2)} ms\n` +
        `bare node:http:           ${bRps.toFixed(0)} req/s, p99 ${bP99.toFixed(2)} ms\n` +
        `throughput ratio: ${ratio.toFixed(3)} (target >= ${TARGET_RATIO}); p99 target < ${TARGET_P99_MS} ms\n`,
    );
    if (json) {
      const figures: Figure[] = [
        {
          name: 'ofrep_single_rps',
          value: round2(dRps),
          unit: 'req/s',
          compare_to: 'bare_node_http_rps',
          ratio: Math.round(ratio * 1000) / 1000,
          target: TARGET_RATIO,
          pass: ratio >= TARGET_RATIO,
        },
        {
          name: 'ofrep_single_p99',
          value: round2(dP99),
          unit: 'ms',
          compare_to: null,
          ratio: null,
          target: TARGET_P99_MS,
          pass: dP99 < TARGET_P99_MS,
        },
        {
          name: 'bare_node_http_rps',
          value: round2(bRps),
          unit: 'req/s',
          compare_to: null,
          ratio: null,
          target: null,
          pass: null,
        },
        {
          name: 'bare_node_http_p99',
          value: round2(bP99),
          unit: 'ms',
          compare_to: null,
          ratio: null,
          target: null,
          pass: null,
        },
      ];
      process.stdout.write(`${JSON.stringify({ bench: 'http', figures })}\n`);
    }
  } finally {
    dimmer.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
