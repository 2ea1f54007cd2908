/** `dimmer experiments create|update|list|get|start|stop|abort|coverage|ship|results`. */
import type { ExperimentInput, ExperimentResults, ExperimentSimpleAction, ExperimentView } from '@dimmer/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { readDocument } from '../input.ts';

const ACTION_TEXT: Record<ExperimentSimpleAction, [string, string]> = {
  start: ['Started', 'Start a draft experiment (its rule goes on the flag at the planned coverage)'],
  stop: ['Stopped', 'End the experiment without a winner (its rule is removed)'],
  abort: ['Aborted', 'End the experiment because of harm or a broken split (its rule is removed)'],
};

function parsePercent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 100)
    throw new InvalidArgumentError('expected a percent above 0 and at most 100');
  return n;
}

/** One line per experiment: id, flag, environment, status, coverage and the latest recommendation. */
export function formatExperimentList(list: readonly ExperimentView[]): string {
  if (list.length === 0) return 'No experiments.';
  return list
    .map(
      (e) =>
        `${e.id}  ${e.flag}@${e.environment}  ${e.status}  coverage ${e.coverage}%  ${e.latestResults?.recommendation ?? '-'}`,
    )
    .join('\n');
}

/** An experiment: arms, metrics and position. */
export function formatExperiment(e: ExperimentView): string {
  const arms = e.variants.map(
    (v) => `${v.variant}${v.variant === e.control ? ' (control)' : ''} ${v.weight}%`,
  );
  return [
    `Experiment ${e.id} on ${e.flag} in ${e.environment}: ${e.status}, coverage ${e.coverage}%`,
    `  arms: ${arms.join(', ')}`,
    `  success: ${e.successMetrics.map((m) => `${m.metric} (MDE ${m.mde * 100}%)`).join(', ')}`,
    `  guardrails: ${e.guardrails.map((g) => g.metric).join(', ') || '-'}`,
    ...(e.rollout !== null ? [`  shipped ${e.shippedVariant} as rollout ${e.rollout}`] : []),
  ].join('\n');
}

const pct = (x: number | null) => (x === null ? '?' : `${(x * 100).toFixed(2)}%`);

/** Results: one line per metric and variant with the lift, its interval and the verdict. */
export function formatResults(r: ExperimentResults): string {
  const lines = [`Recommendation: ${r.recommendation} — ${r.reason}`];
  for (const [metric, byVariant] of Object.entries(r.metrics))
    for (const [variant, look] of Object.entries(byVariant)) {
      const s = look.summary;
      const lift =
        s === null
          ? 'no estimate yet'
          : `lift ${pct(s.relativeLift)} [${pct(s.relativeLiftInterval[0])}, ${pct(s.relativeLiftInterval[1])}]`;
      lines.push(`  ${metric} ${variant} vs control (${look.role}): ${lift}  ${look.verdict}`);
    }
  return lines.join('\n');
}

/** Registers the `experiments` command group. */
export function registerExperimentCommands(program: Command, ctx: CliContext): void {
  const experiments = program
    .command('experiments')
    .description('A/B tests: plan, start, read results, ship');

  experiments
    .command('list')
    .description('List experiments')
    .option('--env <environment>', 'only this environment')
    .option('--flag <key>', 'only this flag')
    .action(async (opts: { env?: string; flag?: string }, cmd: Command) => {
      const list = await ctx.admin(cmd).listExperiments({
        ...(opts.env !== undefined ? { environment: opts.env } : {}),
        ...(opts.flag !== undefined ? { flag: opts.flag } : {}),
      });
      ctx.output(cmd, { experiments: list }, () => formatExperimentList(list));
    });

  experiments
    .command('get')
    .description('Show an experiment')
    .argument('<id>', 'experiment id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const e = await ctx.admin(cmd).getExperiment(id);
      ctx.output(cmd, e, () => formatExperiment(e));
    });

  experiments
    .command('create')
    .description('Create a draft experiment from a JSON or YAML plan; prints the sample it needs')
    .requiredOption('-f, --file <path>', 'the plan: flag, environment, control, variants, successMetrics, …')
    .action(async (opts: { file: string }, cmd: Command) => {
      const doc = await readDocument(opts.file, ctx.io.cwd);
      const e = await ctx.admin(cmd).createExperiment(doc as unknown as ExperimentInput);
      const days = e.samplePlan.durationDays;
      ctx.output(
        cmd,
        e,
        () =>
          `Created experiment ${e.id} (draft). Expected duration: ${days === null ? 'unknown (no baseline)' : `${days.toFixed(1)} days`}.\n\n${formatExperiment(e)}`,
      );
    });

  experiments
    .command('update')
    .description(
      'Revise a plan from a JSON or YAML file (once started: no variant, weight, coverage or metric change)',
    )
    .argument('<id>', 'experiment id')
    .requiredOption('-f, --file <path>', 'the whole plan, as for create')
    .action(async (id: string, opts: { file: string }, cmd: Command) => {
      const doc = await readDocument(opts.file, ctx.io.cwd);
      const e = await ctx.admin(cmd).replaceExperiment(id, doc as unknown as ExperimentInput);
      ctx.output(cmd, e, () => `Updated experiment ${id}.\n\n${formatExperiment(e)}`);
    });

  for (const action of Object.keys(ACTION_TEXT) as ExperimentSimpleAction[]) {
    const [done, help] = ACTION_TEXT[action];
    experiments
      .command(action)
      .description(help)
      .argument('<id>', 'experiment id')
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const e = await ctx.admin(cmd).experimentAction(id, action);
        ctx.output(cmd, e, () => `${done} experiment ${id}.\n\n${formatExperiment(e)}`);
      });
  }

  experiments
    .command('coverage')
    .description('Grow the coverage of a running experiment (it never shrinks)')
    .argument('<id>', 'experiment id')
    .argument('<percent>', 'new coverage in percent', parsePercent)
    .action(async (id: string, percent: number, _opts: unknown, cmd: Command) => {
      const e = await ctx.admin(cmd).setExperimentCoverage(id, percent);
      ctx.output(cmd, e, () => `Coverage of ${id} is now ${e.coverage}%.`);
    });

  experiments
    .command('ship')
    .description('Ship a variant: the experiment ends and a guarded rollout of it starts on the same salt')
    .argument('<id>', 'experiment id')
    .argument('<variant>', 'the winner')
    .option('--rollout <id>', 'id of the rollout to create')
    .action(async (id: string, variant: string, opts: { rollout?: string }, cmd: Command) => {
      const out = await ctx.admin(cmd).shipExperiment(id, {
        variant,
        ...(opts.rollout !== undefined ? { rolloutId: opts.rollout } : {}),
      });
      ctx.output(
        cmd,
        out,
        () =>
          `Shipped ${variant} from experiment ${id}: rollout ${out.rollout.id} is ${out.rollout.state} at reach ${out.rollout.reach}%.`,
      );
    });

  experiments
    .command('results')
    .description('Per metric and variant: lift with interval, verdict, and the recommendation')
    .argument('<id>', 'experiment id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const r = await ctx.admin(cmd).getExperimentResults(id);
      ctx.output(cmd, r, () => formatResults(r));
    });
}
