/**
 * `dimmer demo`: the main job end to end with nothing to set up: a server on embedded SQLite, a surface with
 * required guardrails, two flags and two automatic rollouts, simulated users through the real SDK on an
 * accelerated clock; one change reaches 100% with a holdback, the other is rolled back automatically.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import type { DemoDecision, DemoFrame, DemoSummary } from '../demo/model.ts';
import {
  DEFAULT_DEMO_SEED,
  DEMO_HOLDBACK,
  DEMO_METRICS,
  DEMO_SURFACE,
  FAST_SETTINGS,
  FULL_SETTINGS,
  HEALTHY_CHANGE,
  rolloutInput,
} from '../demo/scenario.ts';
import { ansiRewind, formatDecisionLine, formatFrame, formatSummary } from '../demo/view.ts';
import { EXIT_FAILURE } from '../errors.ts';
import { sleep, waitForAbort } from '../io.ts';
import { formatDuration, formatNumber } from '../output.ts';

interface DemoOptions {
  fast?: boolean;
  keep?: boolean;
  dataDir?: string;
  port: number;
  seed: number;
}

function parseWhole(what: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > max) throw new InvalidArgumentError(`expected ${what}`);
    return n;
  };
}

function introduction(
  info: { url: string; adminToken: string; dataDir: string; dashboard: boolean },
  fast: boolean,
): string {
  const settings = fast ? FAST_SETTINGS : FULL_SETTINGS;
  const plan = rolloutInput(HEALTHY_CHANGE);
  const stages = plan.stages.map((s) => `${s.reach}%`).join(' → ');
  return [
    `Dimmer demo: a server on embedded SQLite in ${info.dataDir}`,
    info.dashboard
      ? `  Dashboard:    ${info.url}/`
      : `  Dashboard:    not built (npm run build -w @dimmer/dashboard); the API is at ${info.url}/api/v1`,
    `  Admin token:  ${info.adminToken}`,
    `  Surface "${DEMO_SURFACE}" requires ${DEMO_METRICS.length} guardrails: ${DEMO_METRICS.map((m) => `${m.key} (${m.category}, ${m.kind})`).join(', ')}.`,
    `  Two automatic rollouts, ${stages} with a ${DEMO_HOLDBACK}% holdback, ${plan.stages[0]?.minDuration} of simulated time per stage at least.`,
    `  Traffic: ${formatNumber(settings.usersPerInterval)} new users every ${formatDuration(settings.intervalMs)} of simulated time, evaluated by the SDK with a server key;`,
    `  the controller looks once per ${formatDuration(settings.intervalMs)}.`,
    '',
  ].join('\n');
}

/** Registers the `demo` command. */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'Run three guarded rollouts on simulated traffic: one healthy change reaches 100% (with a holdback), a crash and a p99 latency regression are rolled back',
    )
    .option('--fast', 'no pacing: the same run, with the same decisions, in a few seconds (used by tests)')
    .option('--keep', 'leave the server running afterwards to explore (Ctrl-C stops it)')
    .option('--data-dir <dir>', 'SQLite data directory (default: a temporary one, removed afterwards)')
    .option(
      '--port <port>',
      'port to listen on (default: a free one)',
      parseWhole('a port from 0 to 65535', 65_535),
      0,
    )
    .option(
      '--seed <n>',
      'seed of the simulated traffic',
      parseWhole('a whole number', 2 ** 32 - 1),
      DEFAULT_DEMO_SEED,
    )
    .action(async (opts: DemoOptions, cmd: Command) => {
      const json = ctx.json(cmd);
      const fast = opts.fast === true;
      const tty = ctx.io.stdout.isTTY === true && !json;
      let drawn = 0;
      const adminToken = ctx.io.env.DIMMER_ADMIN_TOKEN?.trim();
      // Loaded on use: the server and simulator stay out of every other command's startup.
      const { runDemo } = await import('../demo/run.ts');
      const run = await runDemo({
        settings: fast ? FAST_SETTINGS : FULL_SETTINGS,
        mode: fast ? 'fast' : 'full',
        seed: opts.seed,
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
        port: opts.port,
        host: '127.0.0.1',
        ...(adminToken ? { adminToken } : {}),
        ...(ctx.io.signal !== undefined ? { signal: ctx.io.signal } : {}),
        sleep: ctx.io.sleep ?? sleep,
        onStart: (info) => {
          if (json) return;
          ctx.print(introduction(info, fast));
          for (const c of info.changes) ctx.print(`  ${c.flag.key}: ${c.story}`);
          ctx.print('');
        },
        onFrame: (frame: DemoFrame, decisions: readonly DemoDecision[]) => {
          if (json) return;
          if (tty) {
            const columns = (ctx.io.stdout as { columns?: number }).columns;
            const text = formatFrame(
              frame,
              DEMO_METRICS.map((m) => m.key),
              columns,
            );
            ctx.io.stdout.write(`${ansiRewind(drawn)}${text}`);
            drawn = text.split('\n').length - 1;
            return;
          }
          for (const d of decisions) {
            const r = frame.rollouts.find((p) => p.id === d.rollout);
            if (d.applied && r !== undefined) ctx.io.stdout.write(formatDecisionLine(d, r));
          }
        },
      });
      try {
        if (opts.keep) run.keep();
        const summary: DemoSummary = run.summary;
        if (json) ctx.print(JSON.stringify(summary, null, 2));
        else ctx.print(`\n${formatSummary(summary)}`);
        if (!summary.finished) {
          ctx.io.stderr.write(
            `Error: the demo stopped before every rollout came to rest (${summary.rollouts.map((r) => `${r.flag} ${r.finalState.status}`).join(', ')}).\n`,
          );
          ctx.exitCode = EXIT_FAILURE;
        }
        if (opts.keep) {
          if (!json)
            ctx.print(
              [
                '',
                `The server keeps running at ${summary.server.url}/ with its data in ${summary.server.dataDir}.`,
                `  Try: DIMMER_URL=${summary.server.url} DIMMER_TOKEN=${summary.server.adminToken} dimmer rollouts list`,
                '  Its clock now runs at real-time pace from the end of the simulation; the controller looks every minute.',
                '  Press Ctrl-C to stop it.',
              ].join('\n'),
            );
          await waitForAbort(ctx.io.signal);
        }
      } finally {
        await run.close();
      }
    });
}
