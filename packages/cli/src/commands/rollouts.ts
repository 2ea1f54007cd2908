/** `dimmer rollouts list|get|create|start|status|plan|advance|pause|resume|rollback|complete`. */
import { AdminApiError, type AdminClient, type RolloutAction, type RolloutInput } from '@dimmer/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { readDocument } from '../input.ts';
import { sleep } from '../io.ts';
import {
  FINAL_STATUSES,
  formatForecast,
  formatGatePowerWarning,
  formatRollout,
  formatRolloutList,
  formatStatus,
  latestDecision,
  type StatusSnapshot,
  summarizeRollout,
} from '../rollout-view.ts';

/** Default `--watch` poll interval, in seconds. */
export const DEFAULT_WATCH_INTERVAL_S = 1;
/** ANSI: clear the screen and move the cursor home. */
export const ANSI_CLEAR = '\u001b[2J\u001b[H';

const ACTION_TEXT: Record<RolloutAction, string> = {
  start: 'Started',
  advance: 'Advanced',
  pause: 'Paused',
  resume: 'Resumed',
  rollback: 'Rolled back',
  complete: 'Completed',
};

const ACTION_HELP: Record<RolloutAction, string> = {
  start: 'Start a draft rollout at its first stage',
  advance: 'Move to the next stage now (overrides the controller)',
  pause: 'Freeze reach; nothing is applied automatically while paused',
  resume: 'Resume a paused rollout, or start a new attempt after a rollback',
  rollback: 'Set reach to 0 at once (every SDK hears it within a second)',
  complete: 'End the rollout (treatment served as planned, monitoring stops)',
};

function parseInterval(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return n;
}

/** Reads a route that may not exist on this server yet (404) as undefined. */
async function optional<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof AdminApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** The rollout with its evidence and latest decision (each omitted when the server has none). */
export async function readStatus(client: AdminClient, id: string): Promise<StatusSnapshot> {
  const [rollout, evidence, decisions] = await Promise.all([
    client.getRollout(id),
    optional(client.getRolloutEvidence(id)),
    optional(client.listRolloutDecisions(id)),
  ]);
  return { rollout, evidence, decision: decisions === undefined ? undefined : latestDecision(decisions) };
}

async function watchStatus(ctx: CliContext, cmd: Command, id: string, intervalS: number): Promise<void> {
  const client = ctx.admin(cmd);
  const json = ctx.json(cmd);
  const tty = ctx.io.stdout.isTTY === true && !json;
  const wait = ctx.io.sleep ?? sleep;
  let last: string | undefined;
  for (;;) {
    const snapshot = await readStatus(client, id);
    const block = json ? `${JSON.stringify(snapshot)}\n` : formatStatus(snapshot);
    if (tty) {
      ctx.io.stdout.write(`${ANSI_CLEAR}${block}\nWatching every ${intervalS}s; Ctrl-C to stop.\n`);
    } else if (block !== last) {
      ctx.io.stdout.write(json ? block : `${block}\n`);
    }
    last = block;
    const status = summarizeRollout(snapshot.rollout).status;
    if (FINAL_STATUSES.includes(status)) {
      if (!json) ctx.print(`Rollout ${id} is ${status}; stopped watching.`);
      return;
    }
    if (ctx.io.signal?.aborted) return;
    await wait(intervalS * 1000, ctx.io.signal);
    if (ctx.io.signal?.aborted) return;
  }
}

/** Registers the `rollouts` command group. */
export function registerRolloutCommands(program: Command, ctx: CliContext): void {
  const rollouts = program.command('rollouts').description('Guarded rollouts: plan, start, watch, act');

  rollouts
    .command('list')
    .description('List rollouts')
    .option('--env <environment>', 'only this environment')
    .option('--flag <key>', 'only this flag')
    .action(async (opts: { env?: string; flag?: string }, cmd: Command) => {
      const list = await ctx.admin(cmd).listRollouts({
        ...(opts.env !== undefined ? { environment: opts.env } : {}),
        ...(opts.flag !== undefined ? { flag: opts.flag } : {}),
      });
      ctx.output(cmd, { rollouts: list }, () => formatRolloutList(list));
    });

  rollouts
    .command('get')
    .description('Show a rollout’s plan and position')
    .argument('<id>', 'rollout id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const rollout = await ctx.admin(cmd).getRollout(id);
      ctx.output(cmd, rollout, () => formatRollout(rollout));
    });

  rollouts
    .command('create')
    .description('Create a draft rollout from a JSON or YAML plan (start it with `rollouts start`)')
    .requiredOption(
      '-f, --file <path>',
      'the plan: flag, environment, treatment, control, stages, guardrails, …',
    )
    .action(async (opts: { file: string }, cmd: Command) => {
      const doc = await readDocument(opts.file, ctx.io.cwd);
      const rollout = await ctx.admin(cmd).createRollout(doc as unknown as RolloutInput);
      const id = summarizeRollout(rollout).id;
      const warning = formatGatePowerWarning(rollout);
      // With --json the warning also goes to stderr, where a person running a script still sees it.
      if (warning !== '' && ctx.json(cmd)) ctx.io.stderr.write(warning);
      ctx.output(
        cmd,
        rollout,
        () =>
          `Created rollout ${id} (draft). See what each stage can detect: dimmer rollouts plan ${id}\n\n${formatRollout(rollout)}${warning === '' ? '' : `\n${warning}`}`,
      );
    });

  rollouts
    .command('status')
    .description('Show stage, reach and each guardrail’s estimate and interval (--watch to follow)')
    .argument('<id>', 'rollout id')
    .option('-w, --watch', 'redraw as traffic arrives until Ctrl-C or a final state')
    .option('--interval <seconds>', 'poll interval for --watch', parseInterval, DEFAULT_WATCH_INTERVAL_S)
    .action(async (id: string, opts: { watch?: boolean; interval: number }, cmd: Command) => {
      if (opts.watch) return watchStatus(ctx, cmd, id, opts.interval);
      const snapshot = await readStatus(ctx.admin(cmd), id);
      ctx.output(cmd, snapshot, () => formatStatus(snapshot));
    });

  rollouts
    .command('plan')
    .description('Forecast the plan: what each stage can detect, and the power of the final gate')
    .argument('<id>', 'rollout id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const client = ctx.admin(cmd);
      const [rollout, plan] = await Promise.all([client.getRollout(id), client.getRolloutPlan(id)]);
      ctx.output(cmd, plan, () => formatForecast(rollout, plan));
    });

  for (const action of Object.keys(ACTION_TEXT) as RolloutAction[]) {
    rollouts
      .command(action)
      .description(ACTION_HELP[action])
      .argument('<id>', 'rollout id')
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const rollout = await ctx.admin(cmd).rolloutAction(id, action);
        const s = summarizeRollout(rollout);
        ctx.output(
          cmd,
          rollout,
          () =>
            `${ACTION_TEXT[action]} rollout ${id}: ${s.status}, reach ${s.reach}%.\n\n${formatRollout(rollout)}`,
        );
      });
  }
}
