/**
 * `npm run bench:propagation [-- --json]`: 100 server-mode clients stream from one real Dimmer server on
 * 127.0.0.1; a flag change and, separately, a rollback (rollout reach to 0 through a flag update) are made
 * through the admin API, and each client's time to serve the new value is measured from the moment the
 * admin request was sent (so it includes the commit). Prints p50/p99; target p99 < 200 ms.
 */
import type { DimmerClient } from '../src/client.ts';
import { silentLogger } from '../src/platform.ts';

const CLIENTS = 100;
const CHANGES = 5;
const TARGET_P99_MS = 200;
const SETTLE_TIMEOUT_MS = 10_000;
const json = process.argv.includes('--json');
const log = (line: string) => (json ? console.error(line) : console.log(line));

/** How long each admin request took to answer (the change is committed before the answer). */
const adminMillis: number[] = [];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Makes a change and resolves with every client's delay (ms) until `served(client)` holds. */
async function measure(
  clients: DimmerClient[],
  change: () => Promise<void>,
  served: (client: DimmerClient) => boolean,
): Promise<number[]> {
  const delays: number[] = [];
  const start = performance.now();
  const done = clients.map(
    (client) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('a client never saw the change')), SETTLE_TIMEOUT_MS);
        const check = () => {
          if (!served(client)) return false;
          delays.push(performance.now() - start);
          clearTimeout(timer);
          off();
          resolve();
          return true;
        };
        const off = client.on('change', () => void check());
      }),
  );
  await change();
  adminMillis.push(performance.now() - start);
  await Promise.all(done);
  return delays;
}

async function main(): Promise<void> {
  let RealServer: typeof import('../test/real-server.ts').RealServer;
  let rolloutRules: typeof import('../test/real-server.ts').rolloutRules;
  let createClient: typeof import('../src/node.ts').createClient;
  try {
    ({ RealServer, rolloutRules } = await import('../test/real-server.ts'));
    ({ createClient } = await import('../src/node.ts'));
  } catch (error) {
    log(`bench:propagation skipped: @dimmer/server is not importable yet (${String(error)})`);
    if (json) console.log(JSON.stringify({ bench: 'propagation', skipped: true, figures: [] }));
    return;
  }
  const server = new RealServer();
  await server.start(15_000);
  await server.seed();
  const clients = Array.from({ length: CLIENTS }, () =>
    createClient({ url: server.url, clientKey: server.keys.server, logger: silentLogger, events: false }),
  );
  try {
    await Promise.all(clients.map((c) => c.waitForFirstAttempt()));
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    while (!clients.every((c) => c.status().streaming)) {
      if (Date.now() > deadline) throw new Error('not every client opened its stream');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    log(
      `bench:propagation — ${CLIENTS} clients on ${server.url}, ${CHANGES} changes and ${CHANGES} rollbacks`,
    );
    const changeDelays: number[] = [];
    const rollbackDelays: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const text = `Welcome #${i}`;
      changeDelays.push(
        ...(await measure(
          clients,
          () => server.patchFlag('banner', { variants: { plain: text, staff: 'Hello, colleague' } }),
          (c) => c.getStringValue('banner', '', { targetingKey: 'u1' }) === text,
        )),
      );
      rollbackDelays.push(
        ...(await measure(
          clients,
          () => server.putEnvironment('new-checkout', { enabled: true, rules: rolloutRules(0) }),
          (c) => c.getBooleanValue('new-checkout', true, { targetingKey: 'u1' }) === false,
        )),
      );
      await measure(
        clients,
        () => server.putEnvironment('new-checkout', { enabled: true, rules: rolloutRules(1_000_000) }),
        (c) => c.getBooleanValue('new-checkout', false, { targetingKey: 'u1' }),
      );
    }
    const figure = (name: string, delays: number[], p: number) => {
      const value = Number(percentile(delays, p).toFixed(1));
      return {
        name,
        value,
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: p === 99 ? `< ${TARGET_P99_MS}` : null,
        pass: p === 99 ? value < TARGET_P99_MS : true,
      };
    };
    const figures = [
      figure('change_p50', changeDelays, 50),
      figure('change_p99', changeDelays, 99),
      figure('rollback_p50', rollbackDelays, 50),
      figure('rollback_p99', rollbackDelays, 99),
    ];
    log(`  admin request (includes the commit): p50 ${percentile(adminMillis, 50).toFixed(1)} ms`);
    for (const f of figures)
      log(
        `  ${f.name}: ${f.value} ms${f.target ? ` (target ${f.target}: ${f.pass ? 'pass' : 'FAIL'})` : ''}`,
      );
    if (json) console.log(JSON.stringify({ bench: 'propagation', figures }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
