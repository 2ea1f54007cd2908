/**
 * `npm run bench:eval [-- --json]`: Dimmer's evaluate against flagd-core, GrowthBook and Unleash on the same
 * logical flag, each system in its own process, in interleaved rounds after warm-up, plus evaluateAll over 50
 * flags. Prints evals/s medians, Dimmer's ratio to each peer, a check that every system serves "on" to
 * the same share of users, and the p99 time of one evaluation of the worst config the limits allow
 * (worst-case.ts). With --json the last line is one JSON object of figures.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { SYSTEMS, type SystemName } from './systems.ts';
import type { ParentMessage, WorkerMessage } from './worker.ts';
import { worstCaseFigures } from './worst-case.ts';

const ROUNDS = 5;
const USERS_PER_ROUND = 300_000;
const MIN_ROUND_MILLIS = 600;
const TARGET_RATIO_VS_FLAGD = 3;
const TARGET_EVALUATE_ALL_MICROS = 5;
const AGREEMENT_TOLERANCE_POINTS = 1;
const json = process.argv.includes('--json');

interface Worker {
  name: SystemName;
  child: ChildProcess;
  next(): Promise<WorkerMessage>;
}

function startWorker(name: SystemName): Worker {
  const child = fork(join(import.meta.dirname, 'worker.ts'), [name], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: WorkerMessage[] = [];
  const waiting: ((m: WorkerMessage) => void)[] = [];
  child.on('message', (m: WorkerMessage) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  child.on('exit', (code) => {
    const w = waiting.shift();
    if (w) w({ type: 'error', message: `${name} exited with code ${code}` });
  });
  return {
    name,
    child,
    next: () =>
      new Promise((resolve) => {
        const m = queue.shift();
        if (m) resolve(m);
        else waiting.push(resolve);
      }),
  };
}

async function ask(worker: Worker, message: ParentMessage): Promise<WorkerMessage> {
  worker.child.send(message);
  const reply = await worker.next();
  if (reply.type === 'error') throw new Error(`${worker.name}: ${reply.message}`);
  return reply;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const log = (line: string) => {
  if (!json) console.log(line);
  else console.error(line);
};

async function main(): Promise<void> {
  const started = Date.now();
  log(
    `bench:eval — ${ROUNDS} interleaved rounds, ${USERS_PER_ROUND} distinct users per round, >= ${MIN_ROUND_MILLIS} ms per round`,
  );
  // Start one at a time so set-up and warm-up of one system do not share the CPU with another's.
  const workers: Worker[] = [];
  const onShare = new Map<SystemName, number>();
  for (const name of SYSTEMS) {
    const worker = startWorker(name);
    const ready = await worker.next();
    if (ready.type !== 'ready')
      throw new Error(`${name}: ${ready.type === 'error' ? ready.message : 'no ready message'}`);
    onShare.set(name, ready.onShare);
    workers.push(worker);
  }
  const rates = new Map<SystemName, number[]>(SYSTEMS.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const worker of workers) {
      const reply = await ask(worker, {
        type: 'round',
        round,
        users: USERS_PER_ROUND,
        minMillis: MIN_ROUND_MILLIS,
      });
      if (reply.type !== 'round') throw new Error(`${worker.name}: unexpected ${reply.type}`);
      rates.get(worker.name)?.push(reply.evalsPerSec);
    }
  }
  const dimmerWorker = workers[0] as Worker;
  const all = await ask(dimmerWorker, { type: 'evaluate-all' });
  if (all.type !== 'evaluate-all') throw new Error('no evaluateAll figure');
  for (const worker of workers) worker.child.send({ type: 'exit' } satisfies ParentMessage);

  const medians = new Map(SYSTEMS.map((n) => [n, median(rates.get(n) ?? [])]));
  const dimmer = medians.get('dimmer') as number;
  const shares = SYSTEMS.map((n) => (onShare.get(n) as number) * 100);
  const spread = Math.max(...shares) - Math.min(...shares);

  log('');
  log(
    'system        evals/s (median)   rounds (M evals/s)            Dimmer ÷ system   "on" share of 100k users',
  );
  for (const name of SYSTEMS) {
    const m = medians.get(name) as number;
    const rounds = (rates.get(name) ?? []).map((r) => (r / 1e6).toFixed(2)).join(' ');
    log(
      `${name.padEnd(13)} ${Math.round(m).toLocaleString('en').padStart(16)}   ${rounds.padEnd(30)}${(name === 'dimmer' ? '' : `${(dimmer / m).toFixed(2)}×`).padStart(15)}   ${((onShare.get(name) as number) * 100).toFixed(2)}%`,
    );
  }
  log('');
  log(
    `agreement: "on" shares span ${spread.toFixed(2)} percentage points (tolerance ${AGREEMENT_TOLERANCE_POINTS})`,
  );
  log(
    `evaluateAll over ${all.flags} flags, one context: median ${all.medianMicros.toFixed(2)} µs (target < ${TARGET_EVALUATE_ALL_MICROS} µs)`,
  );
  log(
    `target: Dimmer >= ${TARGET_RATIO_VS_FLAGD}× flagd-core: ${(dimmer / (medians.get('flagd-core') as number)).toFixed(2)}×`,
  );
  log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const figures: Record<string, unknown>[] = [];
  for (const name of SYSTEMS.slice(1)) {
    figures.push({
      name: `${name} evaluate`,
      value: Math.round(medians.get(name) as number),
      unit: 'evals/s',
      compare_to: null,
      ratio: null,
      target: null,
      pass: null,
    });
  }
  for (const name of SYSTEMS.slice(1)) {
    const ratio = dimmer / (medians.get(name) as number);
    const target = name === 'flagd-core' ? TARGET_RATIO_VS_FLAGD : null;
    figures.push({
      name: `dimmer evaluate vs ${name}`,
      value: Math.round(dimmer),
      unit: 'evals/s',
      compare_to: `${name} evaluate`,
      ratio: Number(ratio.toFixed(3)),
      target,
      pass: target === null ? null : ratio >= target,
    });
  }
  figures.push({
    name: `dimmer evaluateAll ${all.flags} flags`,
    value: Number(all.medianMicros.toFixed(3)),
    unit: 'µs',
    compare_to: null,
    ratio: null,
    target: TARGET_EVALUATE_ALL_MICROS,
    pass: all.medianMicros < TARGET_EVALUATE_ALL_MICROS,
  });
  figures.push({
    name: 'on-share spread across systems',
    value: Number(spread.toFixed(3)),
    unit: 'percentage points',
    compare_to: null,
    ratio: null,
    target: AGREEMENT_TOLERANCE_POINTS,
    pass: spread <= AGREEMENT_TOLERANCE_POINTS,
  });
  // The config at every documented limit, measured alone after the comparison workers have exited.
  figures.push(...worstCaseFigures());
  if (json) console.log(JSON.stringify({ bench: 'eval', figures }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
