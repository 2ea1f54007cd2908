/**
 * Runs the demo end to end: a server on embedded SQLite with the shared simulated clock and no controller
 * schedule, the surface, metrics, flags and two automatic rollouts created through the admin API, then
 * simulated users through the real SDK, one controller look (`controller.tick()`) per simulated interval,
 * until every rollout rests (holding, completed or rolled back).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type AdminClient,
  createAdminClient,
  createClient,
  type DimmerClient,
  silentLogger,
} from '@dimmer/sdk';
import { type RunningServer, startServer } from '@dimmer/server';
import { CliError } from '../errors.ts';
import { summarizeRollout } from '../rollout-view.ts';
import { DemoClock } from './clock.ts';
import {
  type ControllerDecision,
  type DemoDecision,
  type DemoFrame,
  type DemoRolloutSummary,
  type DemoSummary,
  RESTING_STATUSES,
  type RolloutProgress,
  toDemoDecision,
} from './model.ts';
import { seededRandom } from './population.ts';
import {
  DEMO_CHANGES,
  DEMO_ENVIRONMENT,
  DEMO_METRICS,
  DEMO_SURFACE_INPUT,
  type DemoChange,
  type DemoSettings,
  rolloutInput,
} from './scenario.ts';
import { TrafficDriver } from './traffic.ts';

/** The controller's own schedule while the demo drives it: 0 means it never ticks by itself. */
const NO_CONTROLLER_SCHEDULE = 0;
/** The controller's schedule once `--keep` hands the server over, in milliseconds. */
const KEPT_CONTROLLER_INTERVAL_MS = 60_000;
/** Longest wait for the SDK to receive a new config after a reach change, in milliseconds. */
const CONFIG_SYNC_TIMEOUT_MS = 5_000;
/** Poll interval while waiting for the SDK's config, in milliseconds. */
const CONFIG_SYNC_POLL_MS = 5;
/** Events per request to `POST /v1/events` (the server's limit is 1,000). */
const EVENT_BATCH_SIZE = 1_000;
/** Events the SDK may hold between two flushes (one interval's worth with room to spare). */
const EVENT_QUEUE_SIZE = 200_000;
/** The demo flushes by hand after each interval; the SDK's own timer is set far out. */
const EVENT_FLUSH_INTERVAL_MS = 3_600_000;

export interface DemoRunOptions {
  settings: DemoSettings;
  mode: 'fast' | 'full';
  seed: number;
  /** SQLite data directory; a temporary one (removed on close) when absent. */
  dataDir?: string;
  /** Port to listen on (0: a free one). */
  port: number;
  host: string;
  /** Admin token to use; a fresh one when absent. */
  adminToken?: string;
  signal?: AbortSignal;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called once the server is up and the rollouts have started. */
  onStart?: (info: {
    url: string;
    adminToken: string;
    dataDir: string;
    /** False when the dashboard is not built (the server then serves only the API). */
    dashboard: boolean;
    changes: readonly DemoChange[];
  }) => void;
  /** Called after every controller look with the new frame and the decisions of this look. */
  onFrame?: (frame: DemoFrame, decisions: readonly DemoDecision[]) => void;
}

export interface DemoRun {
  summary: DemoSummary;
  /** Hands the server over (the clock runs on at real-time pace, the controller on its schedule). */
  keep(): void;
  /** Stops the server and removes a temporary data directory. */
  close(): Promise<void>;
}

async function setUp(admin: AdminClient): Promise<void> {
  const existing = new Set((await admin.listFlags()).map((f) => f.key));
  const clash = DEMO_CHANGES.find((c) => existing.has(c.flag.key));
  if (clash !== undefined)
    throw new CliError(
      `the data directory already holds a demo run (flag ${clash.flag.key} exists); pass a new --data-dir or none`,
    );
  const metrics = new Set((await admin.listMetrics()).map((m) => m.key));
  for (const m of DEMO_METRICS) if (!metrics.has(m.key)) await admin.createMetric(m);
  const surfaces = new Set((await admin.listSurfaces()).map((s) => s.key));
  if (!surfaces.has(DEMO_SURFACE_INPUT.key)) await admin.createSurface(DEMO_SURFACE_INPUT);
  for (const change of DEMO_CHANGES) {
    await admin.createFlag(change.flag);
    await admin.createRollout(rolloutInput(change));
  }
}

/** Waits until the SDK serves the environment's current config version (or the timeout passes). */
async function syncClient(admin: AdminClient, client: DimmerClient, sleep: DemoRunOptions['sleep']) {
  const env = (await admin.listEnvironments()).find((e) => e.key === DEMO_ENVIRONMENT);
  if (env === undefined) return;
  const deadline = performance.now() + CONFIG_SYNC_TIMEOUT_MS;
  while ((client.status().configVersion ?? 0) < env.configVersion && performance.now() < deadline)
    await sleep(CONFIG_SYNC_POLL_MS);
}

function progressOf(
  change: DemoChange,
  view: Awaited<ReturnType<AdminClient['getRollout']>>,
  latest: DemoDecision | undefined,
): RolloutProgress {
  const s = summarizeRollout(view);
  const holdback = s.holdback ?? 0;
  const stageReaches = s.stages.map((st, i) => (i === s.stages.length - 1 ? st.reach - holdback : st.reach));
  return {
    id: s.id,
    flag: s.flag,
    story: change.story,
    status: s.status,
    stageIndex: s.stageIndex,
    stageCount: s.stages.length,
    reach: s.reach,
    holdback,
    stageReaches,
    latest,
  };
}

/** Keeps each rollout's decisions that matter: applied ones and each change of rule. */
class DecisionLog {
  readonly #kept = new Map<string, DemoDecision[]>();
  readonly #latest = new Map<string, DemoDecision>();

  add(d: DemoDecision): void {
    const previous = this.#latest.get(d.rollout);
    this.#latest.set(d.rollout, d);
    if (d.applied || previous === undefined || previous.rule !== d.rule || previous.stage !== d.stage) {
      const list = this.#kept.get(d.rollout) ?? [];
      list.push(d);
      this.#kept.set(d.rollout, list);
    }
  }

  latest(id: string): DemoDecision | undefined {
    return this.#latest.get(id);
  }

  kept(id: string): DemoDecision[] {
    return this.#kept.get(id) ?? [];
  }
}

function summarize(progress: RolloutProgress, attempt: number | null, log: DecisionLog): DemoRolloutSummary {
  const decisions = log.kept(progress.id);
  const applied = decisions.filter((d) => d.applied);
  const rests = RESTING_STATUSES.includes(progress.status);
  return {
    id: progress.id,
    flag: progress.flag,
    story: progress.story,
    finalState: { status: progress.status, stage: progress.stageIndex, reach: progress.reach, attempt },
    stagesPassed: applied
      .filter((d) => d.action === 'advance' && d.toStage !== null)
      .map((d) => ({
        stage: d.stage,
        reach: d.reach,
        toReach: progress.stageReaches[d.toStage as number] ?? Number.NaN,
        elapsedMs: d.elapsedMs,
      })),
    endedBy: rests ? (applied[applied.length - 1] ?? null) : null,
    decisions,
  };
}

/**
 * Runs the demo and returns its summary with the server still up: call `close()` (or `keep()` first to let a
 * person explore). Throws a CliError when the server or the set-up fails.
 */
export async function runDemo(options: DemoRunOptions): Promise<DemoRun> {
  const { settings } = options;
  const temporary = options.dataDir === undefined;
  const dataDir =
    options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'dimmer-demo-')) : resolve(options.dataDir);
  if (!temporary) mkdirSync(dataDir, { recursive: true });
  const adminToken = options.adminToken ?? `dmr_admin_${randomBytes(32).toString('base64url')}`;
  // Simulated time starts at the current minute, so the dashboard shows plausible dates.
  const clock = new DemoClock(Math.floor(Date.now() / 60_000) * 60_000);
  let server: RunningServer | undefined;
  let client: DimmerClient | undefined;
  const close = async () => {
    await client?.close();
    await server?.close();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    server = await startServer({
      host: options.host,
      port: options.port,
      dataDir,
      adminToken,
      clock,
      logger: false,
      config: { controllerIntervalMs: NO_CONTROLLER_SCHEDULE },
    });
    const controller = server.app.dimmer.controller;
    const admin = createAdminClient({ url: server.url, token: adminToken });
    await setUp(admin);
    const { secret } = await admin.createKey({ name: 'demo', environment: DEMO_ENVIRONMENT, kind: 'server' });
    for (const change of DEMO_CHANGES) await admin.rolloutAction(change.rolloutId, 'start');
    const startMs = clock.now();
    client = createClient({
      url: server.url,
      clientKey: secret,
      clock,
      logger: silentLogger,
      events: {
        batchSize: EVENT_BATCH_SIZE,
        maxQueueSize: EVENT_QUEUE_SIZE,
        flushIntervalMs: EVENT_FLUSH_INTERVAL_MS,
      },
    });
    const first = await client.waitForFirstAttempt();
    if (first.state !== 'READY')
      throw new CliError(`the SDK could not read the demo config: ${first.lastError ?? first.state}`);
    const dashboard = await fetch(`${server.url}/`).then(
      (r) => r.ok,
      () => false,
    );
    options.onStart?.({ url: server.url, adminToken, dataDir, dashboard, changes: DEMO_CHANGES });

    const driver = new TrafficDriver(client, clock, {
      settings,
      changes: DEMO_CHANGES,
      random: seededRandom(options.seed),
      prefix: `user-${options.seed}`,
    });
    const log = new DecisionLog();
    const began = performance.now();
    let users = 0;
    let events = 0;
    let progress: RolloutProgress[] = [];
    let views: Awaited<ReturnType<AdminClient['getRollout']>>[] = [];
    let finished = false;
    for (let interval = 0; interval < settings.maxIntervals && !options.signal?.aborted; interval++) {
      const intervalBegan = performance.now();
      const start = startMs + interval * settings.intervalMs;
      const traffic = driver.runInterval(start);
      users += traffic.users;
      events += traffic.events;
      clock.set(start + settings.intervalMs);
      await client.flush();
      const looked: ControllerDecision[] = await controller.tick();
      const fresh = looked.map((d) => toDemoDecision(d, startMs));
      for (const d of fresh) log.add(d);
      views = await Promise.all(DEMO_CHANGES.map((c) => admin.getRollout(c.rolloutId)));
      progress = DEMO_CHANGES.map((c, i) =>
        progressOf(c, views[i] as (typeof views)[number], log.latest(c.rolloutId)),
      );
      options.onFrame?.({ elapsedMs: clock.now() - startMs, users, events, rollouts: progress }, fresh);
      if (progress.every((p) => RESTING_STATUSES.includes(p.status))) {
        finished = true;
        break;
      }
      if (fresh.some((d) => d.applied)) await syncClient(admin, client, options.sleep);
      const rest = settings.realMsPerInterval - (performance.now() - intervalBegan);
      if (rest > 0) await options.sleep(rest, options.signal);
    }
    const summary: DemoSummary = {
      finished,
      seed: options.seed,
      mode: options.mode,
      simulatedMs: clock.now() - startMs,
      realMs: Math.round(performance.now() - began),
      users,
      events,
      droppedEvents: client.status().droppedEvents,
      server: { url: server.url, dataDir, adminToken, kept: false },
      rollouts: progress.map((p, i) =>
        summarize(p, summarizeRollout(views[i] as (typeof views)[number]).attempt ?? null, log),
      ),
    };
    await client.close();
    client = undefined;
    const running = server;
    return {
      summary,
      keep() {
        summary.server.kept = true;
        clock.release();
        running.app.dimmer.controller.start(KEPT_CONTROLLER_INTERVAL_MS);
      },
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
