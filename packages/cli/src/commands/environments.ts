/** `dimmer environments list|create`: the environments flags are configured in (each has its own keys). */
import type { EnvironmentView } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { formatNumber, formatTable, formatTime } from '../output.ts';

/** The environments table. */
export function formatEnvironmentList(list: readonly EnvironmentView[]): string {
  if (list.length === 0) return 'No environments.\n';
  return formatTable(
    ['key', 'name', 'config version', 'created', 'last change'],
    list.map((e) => [
      e.key,
      e.name,
      formatNumber(e.configVersion),
      formatTime(e.createdAt),
      formatTime(e.committedAt),
    ]),
  );
}

/** Registers the `environments` command group. */
export function registerEnvironmentCommands(program: Command, ctx: CliContext): void {
  const environments = program
    .command('environments')
    .description('Environments (production, staging, …): each flag has its own state in each');

  environments
    .command('list')
    .description('List environments with their config version')
    .action(async (_opts: unknown, cmd: Command) => {
      const list = await ctx.admin(cmd).listEnvironments();
      ctx.output(cmd, { environments: list }, () => formatEnvironmentList(list));
    });

  environments
    .command('create')
    .description('Create an environment (flags start disabled in it; create client keys for it next)')
    .argument('<key>', 'environment key: lower-case letters, digits and dashes, e.g. staging')
    .option('--name <name>', 'display name (default: the key)')
    .action(async (key: string, opts: { name?: string }, cmd: Command) => {
      const created = await ctx
        .admin(cmd)
        .createEnvironment({ key, ...(opts.name !== undefined ? { name: opts.name } : {}) });
      ctx.output(
        cmd,
        created,
        () =>
          `Created environment ${created.key}. Create a key for it: dimmer keys create --name <name> --env ${created.key}\n\n${formatEnvironmentList([created])}`,
      );
    });
}
