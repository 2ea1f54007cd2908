/**
 * `npm run bench:propagation [-- --json]`: 100 server-mode clients stream from one real Dimmer server on
 * 127.0.0.1; a flag change (a flag update) and, separately, a rollback of a running rollout through the
 * rollout API (`POST /api/v1/rollouts/{id}/rollback`) are made, and each client's time to serve the new value
 * is measured from the moment the admin request was sent (so it includes the commit). Prints p50/p99 of both
 * (target p99 < 100 ms), the admin requests' own time (the flag update's p50 target < 10 ms, timed with the 100
 * in-process clients at work on the same event loop; the same write before any client connects is reported too), and the clients'
 * config requests per change (0 when the stream's patches carry every change). One rollback, resume and flag
 * change go first as a warm-up, unmeasured except for the first rollback's whole time (the first answer of each
 * admin route after a start compiles its reply serializer).
 */
import { bucket } from '@dimmer/core';
import type { DimmerClient } from '../src/client.ts';
import { silentLogger } from '../src/platform.ts';

const CLIENTS = 100;
const CHANGES = 5;
const TARGET_P99_MS = 100;
const TARGET_ADMIN_P50_MS = 10;
/** The flag the bench's rollout runs on, and the rollout's id. */
const ROLLOUT_FLAG = 'guarded-checkout';
const ROLLOUT_ID = 'ro_propagation';
/** Reach of the rollout's first stage, in percent. */
const FIRST_REACH = 50;
const SETTLE_TIMEOUT_MS = 10_000;
const json = process.argv.includes('--json');
const log = (line: string) => (json ? console.error(line) : console.log(line));

/** How long each admin request took to answer (the change is committed before the answer), by kind. */
/** Flag writes timed before the clients connect. */
const QUIET_WRITES = 50;
const adminMillis = { change: [] as number[], rollback: [] as number[] };

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Makes a change and resolves with every client's delay (ms) until `served(client)` holds. */
async function measure(
  clients: DimmerClient[],
  change: () => Promise<unknown>,
  served: (client: DimmerClient) => boolean,
  admin?: number[],
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
  admin?.push(performance.now() - start);
  await Promise.all(done);
  return delays;
}

async function main(): Promise<void> {
  let RealServer: typeof import('../test/real-server.ts').RealServer;
  let createClient: typeof import('../src/node.ts').createClient;
  try {
    ({ RealServer } = await import('../test/real-server.ts'));
    ({ createClient } = await import('../src/node.ts'));
  } catch (error) {
    log(`bench:propagation skipped: @dimmer/server is not importable yet (${String(error)})`);
    if (json) console.log(JSON.stringify({ bench: 'propagation', skipped: true, figures: [] }));
    return;
  }
  const server = new RealServer();
  await server.start(15_000);
  await server.seed();
  // A rollout run through the rollout API on its own flag, at its first stage; `unit` is in its treatment.
  const created = (await server.admin('POST', '/api/v1/flags', {
    key: ROLLOUT_FLAG,
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: { production: { enabled: true, rules: [] } },
  })) as { salt: string };
  let unit = 'rollout-unit';
  for (let i = 0; bucket(created.salt, unit) >= FIRST_REACH * 10_000; i++) unit = `rollout-unit-${i}`;
  await server.admin('POST', '/api/v1/metrics', {
    key: 'crash_rate',
    kind: 'proportion',
    event: 'app_crash',
    direction: 'higher_is_worse',
    margin: 0.02,
    window: '24h',
    category: 'reliability',
  });
  await server.admin('POST', '/api/v1/rollouts', {
    id: ROLLOUT_ID,
    flag: ROLLOUT_FLAG,
    environment: 'production',
    treatment: 'on',
    control: 'off',
    stages: [
      { reach: FIRST_REACH, minDuration: '1d' },
      { reach: 100, minDuration: '1d' },
    ],
    guardrails: [{ metric: 'crash_rate' }],
  });
  await server.admin('POST', `/api/v1/rollouts/${ROLLOUT_ID}/start`, null);
  // The server's own cost of a flag write, before any client is connected (warm-up write first): the figure
  // with clients below also carries the in-process clients' work on the same event loop.
  const timeWrites = async (label: string): Promise<number[]> => {
    const millis: number[] = [];
    for (let i = 0; i <= QUIET_WRITES; i++) {
      const start = performance.now();
      await server.patchFlag('banner', { variants: { plain: `${label} #${i}`, staff: 'Hello, colleague' } });
      if (i > 0) millis.push(performance.now() - start);
    }
    return millis;
  };
  const quietWrites = await timeWrites('Quiet');
  // The same writes with CLIENTS streams open that only read their bytes: the server's fan-out is counted,
  // no client's parsing or compiling is.
  const rawStreams = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const controller = new AbortController();
      const response = await fetch(`${server.url}/sdk/v1/stream`, {
        headers: { authorization: `Bearer ${server.keys.server}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      const reader = response.body?.getReader();
      const drained = (async () => {
        while (reader !== undefined && !(await reader.read()).done);
      })().catch(() => undefined);
      return { controller, drained };
    }),
  );
  const streamWrites = await timeWrites('Streams');
  for (const stream of rawStreams) stream.controller.abort();
  await Promise.all(rawStreams.map((stream) => stream.drained));
  // Every config request of the clients is counted (the fetch is the platform's own, only observed): with the
  // stream's patches a change should reach streaming clients without one.
  let configRequests = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input).endsWith('/sdk/v1/config')) configRequests++;
    return fetch(input, init);
  };
  const clients = Array.from({ length: CLIENTS }, () =>
    createClient({
      url: server.url,
      clientKey: server.keys.server,
      logger: silentLogger,
      events: false,
      fetch: countingFetch,
    }),
  );
  try {
    await Promise.all(clients.map((c) => c.waitForFirstAttempt()));
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    while (!clients.every((c) => c.status().streaming)) {
      if (Date.now() > deadline) throw new Error('not every client opened its stream');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    log(
      `bench:propagation — ${CLIENTS} clients on ${server.url}, ${CHANGES} flag changes and ${CHANGES} rollout rollbacks`,
    );
    // Warm-up, not measured: the server's first answer on each admin route compiles that route's reply
    // serializer (hundreds of ms once after a start; reported below as admin_first_rollback_ms).
    const firstRollbackStart = performance.now();
    await measure(
      clients,
      () => server.admin('POST', `/api/v1/rollouts/${ROLLOUT_ID}/rollback`, null),
      (c) => c.getBooleanValue(ROLLOUT_FLAG, true, { targetingKey: unit }) === false,
    );
    const firstRollbackMs = performance.now() - firstRollbackStart;
    await measure(
      clients,
      () => server.admin('POST', `/api/v1/rollouts/${ROLLOUT_ID}/resume`, null),
      (c) => c.getBooleanValue(ROLLOUT_FLAG, false, { targetingKey: unit }),
    );
    await measure(
      clients,
      () => server.patchFlag('banner', { variants: { plain: 'Warm-up', staff: 'Hello, colleague' } }),
      (c) => c.getStringValue('banner', '', { targetingKey: 'u1' }) === 'Warm-up',
    );
    const requestsBefore = configRequests;
    const changeDelays: number[] = [];
    const rollbackDelays: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const text = `Welcome #${i}`;
      changeDelays.push(
        ...(await measure(
          clients,
          () => server.patchFlag('banner', { variants: { plain: text, staff: 'Hello, colleague' } }),
          (c) => c.getStringValue('banner', '', { targetingKey: 'u1' }) === text,
          adminMillis.change,
        )),
      );
      rollbackDelays.push(
        ...(await measure(
          clients,
          () => server.admin('POST', `/api/v1/rollouts/${ROLLOUT_ID}/rollback`, null),
          (c) => c.getBooleanValue(ROLLOUT_FLAG, true, { targetingKey: unit }) === false,
          adminMillis.rollback,
        )),
      );
      // A new attempt: the same units return to treatment.
      await measure(
        clients,
        () => server.admin('POST', `/api/v1/rollouts/${ROLLOUT_ID}/resume`, null),
        (c) => c.getBooleanValue(ROLLOUT_FLAG, false, { targetingKey: unit }),
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
    // Over every change made: the flag updates, the rollbacks and the resumes.
    const refetches = configRequests - requestsBefore;
    const changesMade = 3 * CHANGES;
    const adminP50 = Number(percentile(adminMillis.change, 50).toFixed(1));
    const figures = [
      {
        name: 'admin_flag_write_p50',
        value: adminP50,
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: `< ${TARGET_ADMIN_P50_MS}`,
        pass: adminP50 < TARGET_ADMIN_P50_MS,
      },
      {
        name: 'admin_flag_write_100_raw_streams_p50',
        value: Number(percentile(streamWrites, 50).toFixed(1)),
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: null,
        pass: null,
      },
      {
        name: 'admin_flag_write_no_streams_p50',
        value: Number(percentile(quietWrites, 50).toFixed(1)),
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: null,
        pass: null,
      },
      {
        name: 'admin_rollback_p50',
        value: Number(percentile(adminMillis.rollback, 50).toFixed(1)),
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: null,
        pass: null,
      },
      figure('change_p50', changeDelays, 50),
      figure('change_p99', changeDelays, 99),
      figure('rollback_p50', rollbackDelays, 50),
      figure('rollback_p99', rollbackDelays, 99),
      {
        name: 'admin_first_rollback_ms',
        value: Number(firstRollbackMs.toFixed(1)),
        unit: 'ms',
        compare_to: null,
        ratio: null,
        target: null,
        pass: null,
      },
      {
        name: 'config_requests_per_change',
        value: Number((refetches / changesMade).toFixed(1)),
        unit: 'requests',
        compare_to: null,
        ratio: null,
        target: null,
        pass: null,
      },
    ];
    log(
      `  admin requests (include the commit): flag update p50 ${adminP50} ms, rollback p50 ${percentile(adminMillis.rollback, 50).toFixed(1)} ms`,
    );
    for (const f of figures)
      log(
        `  ${f.name}: ${f.value} ${f.unit}${f.target ? ` (target ${f.target}: ${f.pass ? 'pass' : 'FAIL'})` : ''}`,
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
