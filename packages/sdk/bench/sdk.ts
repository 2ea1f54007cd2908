/**
 * `npm run bench:sdk [-- --json]`: local evaluation through the Dimmer client against core `evaluate`, and
 * through OpenFeature with the Dimmer provider against OpenFeature's InMemoryProvider, in interleaved rounds
 * in one process (medians). Exposure logging stays on; events go to an in-process fetch that accepts them.
 * Targets: client ≥ core / 1.5; Dimmer provider ≥ 0.8 × InMemoryProvider. With --json the last line is JSON.
 */
import { compileConfig, type EvaluationContext, evaluate } from '@dimmer/core';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { createClient } from '../src/client.ts';
import { DimmerServerProvider } from '../src/openfeature-server.ts';
import { silentLogger } from '../src/platform.ts';
import { benchSnapshot, benchUsers, FLAG_COUNT } from './flags.ts';

const ROUNDS = 7;
const SYNC_EVALS_PER_ROUND = 400_000;
const ASYNC_EVALS_PER_ROUND = 100_000;
const BLOCKS_PER_ROUND = 4;
const TARGET_CLIENT_VS_CORE = 1 / 1.5;
const TARGET_PROVIDER_VS_IN_MEMORY = 0.8;
const json = process.argv.includes('--json');
const log = (line: string) => (json ? console.error(line) : console.log(line));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const snapshot = benchSnapshot(1);
const users = benchUsers();
const keys = snapshot.flags.map((f) => f.key);
const compiled = compileConfig(snapshot);
let sink = 0;

/** An in-process server: config for the client, 202 for events. */
const fakeFetch = async (url: string): Promise<Response> =>
  url.endsWith('/sdk/v1/config')
    ? new Response(JSON.stringify(snapshot), { status: 200, headers: { etag: '"1"' } })
    : new Response(JSON.stringify({ accepted: 0, rejected: [] }), { status: 202 });

const client = createClient({
  url: 'http://bench.invalid',
  clientKey: 'bench',
  fetch: fakeFetch,
  stream: false,
  pollIntervalMs: 3_600_000,
  logger: silentLogger,
});

/** Equivalent flags for the InMemoryProvider, with context evaluators standing in for the targeting rules. */
function inMemoryFlags() {
  const flags: Record<
    string,
    {
      variants: { on: boolean; off: boolean };
      defaultVariant: 'on' | 'off';
      disabled: boolean;
      contextEvaluator?: (ctx: EvaluationContext) => 'on' | 'off';
    }
  > = {};
  snapshot.flags.forEach((f, i) => {
    const entry: (typeof flags)[string] = {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      disabled: false,
    };
    if (i % 4 === 1)
      entry.contextEvaluator = (ctx) => (String(ctx.email).endsWith('@acme.test') ? 'on' : 'off');
    else if (i % 4 !== 0)
      entry.contextEvaluator = (ctx) => (String(ctx.targetingKey).length % 2 === 0 ? 'on' : 'off');
    flags[f.key] = entry;
  });
  return flags;
}

function runCore(n: number): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const r = evaluate(
      compiled,
      keys[i % FLAG_COUNT] as string,
      users[i % users.length] as EvaluationContext,
      { kind: 'boolean' },
    );
    if (r.value === true) sink++;
  }
  return n / ((performance.now() - start) / 1_000);
}

function runClient(n: number): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    if (
      client.getBooleanValue(
        keys[i % FLAG_COUNT] as string,
        false,
        users[i % users.length] as EvaluationContext,
      )
    )
      sink++;
  }
  return n / ((performance.now() - start) / 1_000);
}

async function runOpenFeature(domain: string, n: number): Promise<number> {
  const of = OpenFeature.getClient(domain);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    if (await of.getBooleanValue(keys[i % FLAG_COUNT] as string, false, users[i % users.length] as never))
      sink++;
  }
  return n / ((performance.now() - start) / 1_000);
}

async function main(): Promise<void> {
  const status = await client.waitForFirstAttempt();
  if (status.state !== 'READY') throw new Error(`client not ready: ${JSON.stringify(status)}`);
  await OpenFeature.setProviderAndWait('dimmer', new DimmerServerProvider(client, { closeClient: false }));
  await OpenFeature.setProviderAndWait('in-memory', new InMemoryProvider(inMemoryFlags() as never));
  log(
    `bench:sdk — ${FLAG_COUNT} flags, ${users.length} users, ${ROUNDS} interleaved rounds (first is warm-up)`,
  );
  const core: number[] = [];
  const viaClient: number[] = [];
  const dimmerOf: number[] = [];
  const memoryOf: number[] = [];
  const clientRatios: number[] = [];
  const providerRatios: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    // Alternate short blocks inside a round so drift in machine load hits both sides of each ratio alike.
    let c = 0;
    let k = 0;
    let d = 0;
    let m = 0;
    for (let block = 0; block < BLOCKS_PER_ROUND; block++) {
      c += runCore(SYNC_EVALS_PER_ROUND / BLOCKS_PER_ROUND) / BLOCKS_PER_ROUND;
      k += runClient(SYNC_EVALS_PER_ROUND / BLOCKS_PER_ROUND) / BLOCKS_PER_ROUND;
      d += (await runOpenFeature('dimmer', ASYNC_EVALS_PER_ROUND / BLOCKS_PER_ROUND)) / BLOCKS_PER_ROUND;
      m += (await runOpenFeature('in-memory', ASYNC_EVALS_PER_ROUND / BLOCKS_PER_ROUND)) / BLOCKS_PER_ROUND;
    }
    if (round === 0) continue;
    core.push(c);
    viaClient.push(k);
    dimmerOf.push(d);
    memoryOf.push(m);
    clientRatios.push(k / c);
    providerRatios.push(d / m);
    log(
      `  round ${round}: core ${Math.round(c)}  client ${Math.round(k)}  of+dimmer ${Math.round(d)}  of+in-memory ${Math.round(m)} evals/s`,
    );
  }
  const coreMedian = median(core);
  const clientMedian = median(viaClient);
  const dimmerMedian = median(dimmerOf);
  const memoryMedian = median(memoryOf);
  // Ratios are medians of per-round ratios: robust to load from other processes on a shared machine.
  const clientRatio = median(clientRatios);
  const providerRatio = median(providerRatios);
  const figures = [
    {
      name: 'core_evaluate',
      value: Math.round(coreMedian),
      unit: 'evals/s',
      compare_to: null,
      ratio: null,
      target: null,
      pass: true,
    },
    {
      name: 'client_evaluate',
      value: Math.round(clientMedian),
      unit: 'evals/s',
      compare_to: 'core_evaluate',
      ratio: Number(clientRatio.toFixed(3)),
      target: `>= ${TARGET_CLIENT_VS_CORE.toFixed(3)}`,
      pass: clientRatio >= TARGET_CLIENT_VS_CORE,
    },
    {
      name: 'openfeature_in_memory',
      value: Math.round(memoryMedian),
      unit: 'evals/s',
      compare_to: null,
      ratio: null,
      target: null,
      pass: true,
    },
    {
      name: 'openfeature_dimmer',
      value: Math.round(dimmerMedian),
      unit: 'evals/s',
      compare_to: 'openfeature_in_memory',
      ratio: Number(providerRatio.toFixed(3)),
      target: `>= ${TARGET_PROVIDER_VS_IN_MEMORY}`,
      pass: providerRatio >= TARGET_PROVIDER_VS_IN_MEMORY,
    },
  ];
  log(
    `client: ${Math.round(clientMedian)} evals/s = ${clientRatio.toFixed(2)} × core (target ≥ ${TARGET_CLIENT_VS_CORE.toFixed(2)})`,
  );
  log(
    `OpenFeature + Dimmer: ${Math.round(dimmerMedian)} evals/s = ${providerRatio.toFixed(2)} × InMemoryProvider (target ≥ ${TARGET_PROVIDER_VS_IN_MEMORY})`,
  );
  log(`client status: ${JSON.stringify(client.status())}; checksum ${sink}`);
  await OpenFeature.close();
  await client.close();
  if (json) console.log(JSON.stringify({ bench: 'sdk', figures }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
