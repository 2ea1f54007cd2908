/**
 * `npm run bench:http`: wrk against a Dimmer server's OFREP single-flag, resolve (one flag) and OFREP bulk
 * (every flag of the environment) endpoints and against a bare node:http server answering a fixed JSON, both
 * child processes on 127.0.0.1, in interleaved rounds. Prints req/s and p99 latency of each and its throughput
 * ratio to the bare server measured in the same round (medians over the rounds).
 * `--json` adds a last line `{"bench":"http","figures":[...]}`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
/** The resolve request: the same context, one flag. */
const RESOLVE_BODY = JSON.stringify({
  context: { targetingKey: 'user-123', plan: 'pro', country: 'SE' },
  flags: ['new-checkout'],
});

interface WrkResult {
  requestsPerSecond: number;
  p99Ms: number;
  /** CPU time (user + system) the server process spent per answered request, in µs; null off Linux. */
  cpuMicrosPerRequest: number | null;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, all threads) process `pid` has used, from /proc; null where there is none. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
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

function writeLuaScript(dir: string, name: string, key: string, body: string): string {
  const path = join(dir, `post-${name}.lua`);
  writeFileSync(
    path,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(body)}`,
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

/**
 * Runs wrk against `url`. The server's CPU time per request does not depend on how much CPU other processes on
 * the machine take, so it compares two servers even on a busy machine, where req/s varies with the load.
 */
function runWrk(url: string, script: string, seconds: number, pid?: number): WrkResult {
  const cpuBefore = cpuSeconds(pid);
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
  const cpuAfter = cpuSeconds(pid);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
  const cpuMicrosPerRequest =
    cpuBefore === null || cpuAfter === null || requests === 0
      ? null
      : ((cpuAfter - cpuBefore) * 1e6) / requests;
  return { requestsPerSecond: Number(rps[1]), p99Ms: toMilliseconds(p99[1] as string), cpuMicrosPerRequest };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

function cpuText(result: WrkResult): string {
  return result.cpuMicrosPerRequest === null ? '' : `(${result.cpuMicrosPerRequest.toFixed(0)} µs CPU/req)`;
}

/** One endpoint under load: its name in the figures, the URL and the wrk script. */
interface Target {
  name: string;
  label: string;
  url: string;
  script: string;
  /** Least share of the bare server's throughput, or null when only reported. */
  target: number | null;
}

async function check(target: Target, key: string, body: string): Promise<void> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
  });
  if (response.status !== 200)
    throw new Error(`${target.label} answered ${response.status}: ${await response.text()}`);
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  ensureWrk();
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-bench-http-'));
  const dimmer = await startChild('dimmer');
  const bare = await startChild('bare');
  try {
    const key = dimmer.info.key;
    const flags = dimmer.info.flags ?? 0;
    const targets: Target[] = [
      {
        name: 'ofrep_single',
        label: `OFREP single flag (POST ${dimmer.info.path})`,
        url: dimmer.info.url + dimmer.info.path,
        script: writeLuaScript(dir, 'single', key, REQUEST_BODY),
        target: TARGET_RATIO,
      },
      {
        name: 'resolve_single',
        label: `resolve, one flag (POST ${dimmer.info.resolvePath})`,
        url: dimmer.info.url + (dimmer.info.resolvePath as string),
        script: writeLuaScript(dir, 'resolve', key, RESOLVE_BODY),
        target: null,
      },
      {
        name: `ofrep_bulk_${flags}`,
        label: `OFREP bulk, ${flags} flags (POST ${dimmer.info.bulkPath})`,
        url: dimmer.info.url + (dimmer.info.bulkPath as string),
        script: writeLuaScript(dir, 'bulk', key, REQUEST_BODY),
        target: null,
      },
    ];
    const bareUrl = bare.info.url + bare.info.path;
    const bareScript = writeLuaScript(dir, 'bare', bare.info.key, REQUEST_BODY);
    for (const target of targets)
      await check(target, key, target.name === 'resolve_single' ? RESOLVE_BODY : REQUEST_BODY);

    process.stdout.write(
      `HTTP benchmark: wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_SECONDS}s, ${ROUNDS} interleaved rounds, medians\n` +
        `Dimmer (${dimmer.info.app} app, ${flags} flags) against a bare node:http server answering a fixed JSON\n`,
    );
    for (const target of targets) runWrk(target.url, target.script, WARMUP_SECONDS);
    runWrk(bareUrl, bareScript, WARMUP_SECONDS);
    const runs = new Map<string, WrkResult[]>(targets.map((t) => [t.name, []]));
    const bareRuns: WrkResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const parts: string[] = [];
      for (const target of targets) {
        const result = runWrk(target.url, target.script, DURATION_SECONDS, dimmer.child.pid);
        runs.get(target.name)?.push(result);
        parts.push(
          `${target.name} ${result.requestsPerSecond.toFixed(0)} req/s p99 ${result.p99Ms.toFixed(2)} ms ${cpuText(result)}`,
        );
      }
      const b = runWrk(bareUrl, bareScript, DURATION_SECONDS, bare.child.pid);
      bareRuns.push(b);
      parts.push(`bare ${b.requestsPerSecond.toFixed(0)} req/s p99 ${b.p99Ms.toFixed(2)} ms ${cpuText(b)}`);
      process.stdout.write(`  round ${round}: ${parts.join('; ')}\n`);
    }
    const bRps = median(bareRuns.map((run) => run.requestsPerSecond));
    const bP99 = median(bareRuns.map((run) => run.p99Ms));
    const figures: Figure[] = [];
    for (const target of targets) {
      const mine = runs.get(target.name) as WrkResult[];
      const rps = median(mine.map((run) => run.requestsPerSecond));
      const p99 = median(mine.map((run) => run.p99Ms));
      // Each round runs the targets and then the bare server back to back, so the median of per-round ratios
      // resists drift in the machine's load better than a ratio of medians.
      const ratio = median(
        mine.map((run, i) => run.requestsPerSecond / (bareRuns[i] as WrkResult).requestsPerSecond),
      );
      const cpuRatios = mine.flatMap((run, k) => {
        const bareCpu = (bareRuns[k] as WrkResult).cpuMicrosPerRequest;
        return run.cpuMicrosPerRequest === null || bareCpu === null
          ? []
          : [bareCpu / run.cpuMicrosPerRequest];
      });
      const cpuRatio = cpuRatios.length === 0 ? null : median(cpuRatios);
      process.stdout.write(
        `${target.label}: ${rps.toFixed(0)} req/s, p99 ${p99.toFixed(2)} ms, ` +
          `ratio to bare ${ratio.toFixed(3)}${target.target !== null ? ` (target >= ${target.target})` : ''}` +
          `${cpuRatio === null ? '' : `; CPU per request, bare ÷ this: ${cpuRatio.toFixed(3)}`}\n`,
      );
      figures.push(
        {
          name: `${target.name}_rps`,
          value: round2(rps),
          unit: 'req/s',
          compare_to: 'bare_node_http_rps',
          ratio: Math.round(ratio * 1000) / 1000,
          target: target.target,
          pass: target.target === null ? null : ratio >= target.target,
        },
        {
          name: `${target.name}_cpu_per_request`,
          value: round2(median(mine.map((run) => run.cpuMicrosPerRequest ?? Number.NaN))),
          unit: 'µs',
          compare_to: 'bare_node_http_cpu_per_request',
          ratio: cpuRatio === null ? null : Math.round(cpuRatio * 1000) / 1000,
          target: null,
          pass: null,
        },
        {
          name: `${target.name}_p99`,
          value: round2(p99),
          unit: 'ms',
          compare_to: null,
          ratio: null,
          target: target.target === null ? null : TARGET_P99_MS,
          pass: target.target === null ? null : p99 < TARGET_P99_MS,
        },
      );
    }
    process.stdout.write(`bare node:http: ${bRps.toFixed(0)} req/s, p99 ${bP99.toFixed(2)} ms\n`);
    figures.push(
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
        name: 'bare_node_http_cpu_per_request',
        value: round2(median(bareRuns.map((run) => run.cpuMicrosPerRequest ?? Number.NaN))),
        unit: 'µs',
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
    );
    if (json) process.stdout.write(`${JSON.stringify({ bench: 'http', figures })}\n`);
  } finally {
    dimmer.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
