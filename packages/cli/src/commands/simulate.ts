/**
 * `dimmer simulate`: realistic traffic against a running server through the real SDK, so a rollout started by
 * hand has exposures and guardrail events to decide on. Users arrive at `--units-per-day`, are evaluated with a
 * server key (exposures logged by the SDK), and track their visit's events with current timestamps; with
 * `--regression` the treated users are worse on one metric. Time is real: the server's clock is not sped up
 * (`dimmer demo` runs an accelerated, self-contained simulation instead).
 */
import { performance } from 'node:perf_hooks';
import { AdminApiError, type AdminClient, createClient, silentLogger } from '@dimmer/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { SIMULATED_EVENTS, type SimulatedEvent, seededRandom } from '../demo/population.ts';
import { CliError, usageError } from '../errors.ts';
import { sleep } from '../io.ts';
import { formatDuration, formatNumber, formatPercent } from '../output.ts';
import { FINAL_STATUSES, summarizeRollout } from '../rollout-view.ts';
import { RealtimeTraffic, type Regression } from '../simulate/traffic.ts';

/** Default arrival rate: about 46 new users a second, enough for a local rollout to decide in minutes. */
export const DEFAULT_SIMULATE_UNITS_PER_DAY = 4_000_000;
/** Highest arrival rate accepted (about 1,160 users a second). */
export const MAX_SIMULATE_UNITS_PER_DAY = 100_000_000;
/** Default length of a run. */
export const DEFAULT_SIMULATE_DURATION_MS = 10 * 60_000;
/** Time between two steps of the traffic (arrivals, due events, a flush), in milliseconds. */
export const SIMULATE_TICK_MS = 500;
/** A visit's events fall within this many milliseconds after the first evaluation. */
export const SIMULATE_VISIT_SPAN_MS = 20_000;
/** Progress and the followed rollout are reported at most this often, in milliseconds. */
const REPORT_EVERY_MS = 5_000;
/** Progress lines are printed this often, in milliseconds. */
const PROGRESS_EVERY_MS = 15_000;
/** Longest wait for the SDK's first config, in milliseconds. */
const FIRST_CONFIG_TIMEOUT_MS = 10_000;
/** Events per request and in the SDK's queue: a few seconds of traffic at the highest rate. */
const EVENT_BATCH_SIZE = 1_000;
const EVENT_QUEUE_SIZE = 200_000;

const DURATION_UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses `90s`, `5m`, `1h30m` into milliseconds. */
export function parseSimulateDuration(value: string): number {
  const parts = [...value.trim().matchAll(/(\d+(?:\.\d+)?)([smh])/g)];
  const total = parts.reduce(
    (a, [, n, unit]) => a + Number(n) * (DURATION_UNITS_MS[unit as string] as number),
    0,
  );
  if (parts.map((p) => p[0]).join('') !== value.trim() || !(total > 0))
    throw new InvalidArgumentError('expected a duration such as 90s, 5m or 1h30m');
  return total;
}

function parseUnitsPerDay(value: string): number {
  const n = Number(value.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isInteger(n) || n < 1 || n > MAX_SIMULATE_UNITS_PER_DAY)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_SIMULATE_UNITS_PER_DAY}`);
  return n;
}

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 2 ** 32 - 1)
    throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Reads `--regression <metric>=<change>`: the change is `+200%`, `-10%` or `3x` (a factor). Returns the metric
 * and the factor; the metric's event is looked up later.
 */
export function parseRegression(value: string): { metric: string; factor: number } {
  const match = /^([^=\s]+)=([+-]\d+(?:\.\d+)?%|\d+(?:\.\d+)?x)$/.exec(value.trim());
  if (match === null)
    throw new InvalidArgumentError(
      'expected <metric>=<change>, e.g. crash_rate=+200%, checkout_conversion=-10% or request_latency=1.5x',
    );
  const [, metric, change] = match as unknown as [string, string, string];
  const factor = change.endsWith('x') ? Number(change.slice(0, -1)) : 1 + Number(change.slice(0, -1)) / 100;
  if (!(factor >= 0) || factor === 1)
    throw new InvalidArgumentError('expected a change other than none, e.g. +200%');
  return { metric, factor };
}

function isSimulated(event: string | undefined): event is SimulatedEvent {
  return event !== undefined && Object.hasOwn(SIMULATED_EVENTS, event);
}

/** The simulated event behind a metric (read from the server) or an event named directly. */
async function regressionOf(
  admin: AdminClient | undefined,
  given: { metric: string; factor: number },
): Promise<Regression> {
  let event: string | undefined = isSimulated(given.metric) ? given.metric : undefined;
  if (event === undefined && admin !== undefined) {
    try {
      const metric = await admin.getMetric(given.metric);
      event = metric.event ?? metric.numerator?.event;
    } catch (error) {
      if (!(error instanceof AdminApiError && error.status === 404)) throw error;
    }
  }
  const known = Object.keys(SIMULATED_EVENTS).join(', ');
  if (!isSimulated(event))
    throw usageError(
      event === undefined
        ? `--regression: ${given.metric} is neither a metric on the server${admin === undefined ? ' (give DIMMER_TOKEN to look metrics up)' : ''} nor a simulated event (${known})`
        : `--regression: metric ${given.metric} measures ${event}, which the simulated users do not send (they send ${known})`,
    );
  return { metric: given.metric, event, factor: given.factor };
}

interface SimulateOptions {
  flag: string[];
  key?: string;
  unitsPerDay: number;
  duration: number;
  regression?: { metric: string; factor: number };
  rollout?: string;
  seed: number;
}

/** Registers the `simulate` command. */
export function registerSimulateCommand(program: Command, ctx: CliContext): void {
  program
    .command('simulate')
    .description(
      'Send simulated users through the SDK to a running server (exposures and guardrail events in real time)',
    )
    .requiredOption('--flag <key>', 'flag to evaluate for every user (repeatable)', collect)
    .option('--key <server key>', 'a server key of the environment (or DIMMER_CLIENT_KEY)')
    .option(
      '--units-per-day <n>',
      `new users a day, spread evenly (default ${formatNumber(DEFAULT_SIMULATE_UNITS_PER_DAY)}, about ${Math.round(DEFAULT_SIMULATE_UNITS_PER_DAY / 86_400)} a second)`,
      parseUnitsPerDay,
      DEFAULT_SIMULATE_UNITS_PER_DAY,
    )
    .option(
      '--duration <time>',
      `how long to send traffic, e.g. 90s, 5m (default ${formatDuration(DEFAULT_SIMULATE_DURATION_MS)})`,
      parseSimulateDuration,
      DEFAULT_SIMULATE_DURATION_MS,
    )
    .option(
      '--regression <metric=change>',
      'make treated users worse on one metric, e.g. crash_rate=+200% (crash rate 2% → 6%) or request_latency=1.5x',
      parseRegression,
    )
    .option(
      '--rollout <id>',
      'follow this rollout: print its decisions and stop once it is rolled back or completed (needs DIMMER_TOKEN)',
    )
    .option('--seed <n>', 'seed of the simulated behaviour', parseSeed, 1)
    .action(async (opts: SimulateOptions, cmd: Command) => {
      const key = (opts.key ?? ctx.io.env.DIMMER_CLIENT_KEY ?? '').trim();
      if (key === '')
        throw usageError(
          'no client key: pass --key <server key> or set DIMMER_CLIENT_KEY (create one with `dimmer keys create --name sim --env <environment>`)',
        );
      const { url, token } = ctx.options(cmd);
      const admin = token !== undefined ? ctx.admin(cmd) : undefined;
      if (opts.rollout !== undefined && admin === undefined)
        throw usageError('--rollout needs the admin token: pass --token or set DIMMER_TOKEN');
      const regression =
        opts.regression === undefined ? undefined : await regressionOf(admin, opts.regression);
      await simulate(ctx, { ...opts, url, key, regression, admin });
    });
}

interface RunInput extends Omit<SimulateOptions, 'regression' | 'key'> {
  url: string;
  key: string;
  regression: Regression | undefined;
  admin: AdminClient | undefined;
}

/** Follows a rollout: prints each change of status, stage or latest decision; true once it is at rest. */
class RolloutFollower {
  #last = '';

  constructor(
    private readonly ctx: CliContext,
    private readonly admin: AdminClient,
    private readonly id: string,
  ) {}

  async check(): Promise<boolean> {
    const view = await this.admin.getRollout(this.id);
    const s = summarizeRollout(view);
    const decision = (view as { latestDecision?: { action?: string; rule?: string; reason?: string } | null })
      .latestDecision;
    // A new line only when the status, stage or kind of decision changes, not at every look of a long hold.
    const key = `${s.status}|${s.stageIndex}|${decision?.action}|${decision?.rule}`;
    if (key !== this.#last)
      this.ctx.print(
        `rollout ${s.id}: ${s.status}, stage ${s.stageIndex + 1} of ${s.stages.length}, reach ${formatNumber(s.reach)}%${decision ? ` — ${decision.action} (${decision.rule}): ${decision.reason}` : ''}`,
      );
    this.#last = key;
    return FINAL_STATUSES.includes(s.status);
  }
}

async function simulate(ctx: CliContext, input: RunInput): Promise<void> {
  const client = createClient({
    url: input.url,
    clientKey: input.key,
    logger: silentLogger,
    events: { batchSize: EVENT_BATCH_SIZE, maxQueueSize: EVENT_QUEUE_SIZE },
    ...(ctx.io.fetch !== undefined ? { fetch: ctx.io.fetch } : {}),
  });
  const wait = ctx.io.sleep ?? sleep;
  const signal = ctx.io.signal;
  try {
    const first = await Promise.race([
      client.waitForFirstAttempt(),
      wait(FIRST_CONFIG_TIMEOUT_MS, signal).then(() => undefined),
    ]);
    if (first === undefined || first.state !== 'READY')
      throw new CliError(
        `the SDK could not read the config from ${input.url} with this key: ${first?.lastError ?? 'no answer'} (a server key of the environment is needed)`,
      );
    const known = new Set(client.snapshot()?.flags.map((f) => f.key) ?? []);
    const missing = input.flag.filter((f) => !known.has(f));
    if (missing.length > 0)
      throw usageError(`--flag: ${missing.join(', ')} is not a flag of this key's environment`);
    const traffic = new RealtimeTraffic(client, {
      flags: input.flag,
      unitsPerDay: input.unitsPerDay,
      visitSpanMs: SIMULATE_VISIT_SPAN_MS,
      regression: input.regression,
      random: seededRandom(input.seed),
      prefix: `sim-${input.seed}-${Date.now().toString(36)}`,
    });
    const follower =
      input.rollout !== undefined && input.admin !== undefined
        ? new RolloutFollower(ctx, input.admin, input.rollout)
        : undefined;
    ctx.print(
      [
        `Simulating ${formatNumber(input.unitsPerDay)} users a day (${formatNumber(input.unitsPerDay / 86_400, 3)} a second) for ${formatDuration(input.duration)} against ${input.url}, flags: ${input.flag.join(', ')}.`,
        input.regression === undefined
          ? 'Treated users behave like everyone else (a healthy change).'
          : `Treated users are worse on ${input.regression.metric}: ${input.regression.event} ×${formatNumber(input.regression.factor, 3)} (${formatPercent(input.regression.factor - 1, true)}).`,
        'Ctrl-C stops it.',
      ].join('\n'),
    );
    const began = performance.now();
    const startedAt = Date.now();
    let reported = began;
    let progressed = began;
    let rested = false;
    while (!signal?.aborted) {
      const elapsed = performance.now() - began;
      // At the end, visits still under way leave: their later events are not sent.
      if (elapsed >= input.duration) break;
      traffic.step(startedAt + elapsed);
      await client.flush();
      if (performance.now() - reported >= REPORT_EVERY_MS) {
        reported = performance.now();
        if (reported - progressed >= PROGRESS_EVERY_MS) {
          progressed = reported;
          ctx.print(progressLine(traffic.totals, elapsed, client.status().droppedEvents));
        }
        if (follower !== undefined && (await follower.check())) {
          rested = true;
          break;
        }
      }
      await wait(SIMULATE_TICK_MS, signal);
    }
    await client.flush();
    if (follower !== undefined && !rested) await follower.check();
    ctx.print(
      `Done: ${progressLine(traffic.totals, performance.now() - began, client.status().droppedEvents)}`,
    );
  } finally {
    await client.close();
  }
}

function progressLine(
  totals: { users: number; events: number; treated: Record<string, number> },
  elapsedMs: number,
  dropped: number,
): string {
  const treated = Object.entries(totals.treated)
    .map(([flag, n]) => `${flag} treatment ${formatNumber(n)}`)
    .join(', ');
  return `${formatDuration(elapsedMs)}: ${formatNumber(totals.users)} users (${treated}), ${formatNumber(totals.events)} events${dropped > 0 ? `, ${formatNumber(dropped)} dropped` : ''}`;
}
