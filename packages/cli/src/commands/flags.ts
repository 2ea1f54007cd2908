/** `dimmer flags list|get|create|update|enable|disable|archive|unarchive`. */
import type { FlagChange, FlagInput, FlagPatch, FlagView } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { readDocument } from '../input.ts';
import {
  cell,
  formatKeyValues,
  formatNumber,
  formatPercent,
  formatTable,
  formatTime,
  NONE,
} from '../output.ts';

function environmentsCell(flag: FlagView): string {
  const envs = Object.entries(flag.environments ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return envs.length === 0 ? NONE : envs.map(([env, s]) => `${env}:${s.enabled ? 'on' : 'off'}`).join(' ');
}

/** The flags table: key, kind, default variant, per-environment on/off, surface, description. */
export function formatFlagList(flags: readonly FlagView[]): string {
  if (flags.length === 0) return 'No flags.\n';
  return formatTable(
    ['key', 'kind', 'default', 'environments', 'surface', 'description'],
    flags.map((f) => [
      f.archived ? `${f.key} (archived)` : f.key,
      f.kind,
      f.defaultVariant,
      environmentsCell(f),
      cell(f.surface),
      cell(f.description),
    ]),
  );
}

/** One flag: its fields, variants, and one row per environment. */
export function formatFlag(flag: FlagView): string {
  const head = formatKeyValues([
    ['key', flag.key],
    ['kind', flag.kind],
    ['description', cell(flag.description)],
    ['surface', cell(flag.surface)],
    ['default variant', flag.defaultVariant],
    ['salt', flag.salt],
    ['archived', flag.archived ? 'yes' : 'no'],
    ['updated', formatTime(flag.updatedAt)],
  ]);
  const variants = formatTable(
    ['variant', 'value'],
    Object.entries(flag.variants).map(([name, value]) => [name, JSON.stringify(value)]),
  );
  const envs = Object.entries(flag.environments ?? {});
  const environments =
    envs.length === 0
      ? 'No environment state.\n'
      : formatTable(
          ['environment', 'enabled', 'rules', 'overrides'],
          envs.map(([env, s]) => [
            env,
            s.enabled ? 'yes' : 'no',
            s.rules.length === 0 ? NONE : s.rules.map((r) => r.id).join(', '),
            String(Object.keys(s.overrides ?? {}).length),
          ]),
        );
  return `${head}\n${variants}\n${environments}`;
}

/** The preview of a change: per environment, how many of the sampled units change variant. */
export function formatPreview(preview: FlagChange['preview']): string {
  const entries = Object.entries(preview);
  if (entries.length === 0) return 'No environment serves anything different.\n';
  return formatTable(
    ['environment', 'changed', 'share (estimate)', 'transitions'],
    entries.map(([env, p]) => [
      env,
      `${formatNumber(p.changed)} of ${formatNumber(p.sampled)}`,
      formatPercent(p.share),
      p.transitions.length === 0
        ? NONE
        : p.transitions.map((t) => `${t.from}→${t.to} ${formatNumber(t.count)}`).join(', '),
    ]),
  );
}

function changeText(sentence: string, change: FlagChange): string {
  return `${sentence}\n\n${formatPreview(change.preview)}`;
}

/** Registers the `flags` command group. */
export function registerFlagCommands(program: Command, ctx: CliContext): void {
  const flags = program
    .command('flags')
    .description('Feature flags: list, show, create, change, switch on and off');

  flags
    .command('list')
    .description('List flags')
    .option('--env <environment>', "show only this environment's state")
    .option('-q, --search <text>', 'only flags whose key or description contains the text')
    .option('--archived', 'include archived flags')
    .action(async (opts: { env?: string; search?: string; archived?: boolean }, cmd: Command) => {
      const list = await ctx.admin(cmd).listFlags({
        ...(opts.env !== undefined ? { environment: opts.env } : {}),
        ...(opts.search !== undefined ? { q: opts.search } : {}),
        ...(opts.archived ? { archived: true } : {}),
      });
      ctx.output(cmd, { flags: list }, () => formatFlagList(list));
    });

  flags
    .command('get')
    .description('Show one flag')
    .argument('<key>', 'flag key')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const flag = await ctx.admin(cmd).getFlag(key);
      ctx.output(cmd, flag, () => formatFlag(flag));
    });

  flags
    .command('create')
    .description('Create a flag from a JSON or YAML document')
    .requiredOption('-f, --file <path>', 'the flag document (.json, .yaml or .yml)')
    .action(async (opts: { file: string }, cmd: Command) => {
      const doc = await readDocument(opts.file, ctx.io.cwd);
      const flag = await ctx.admin(cmd).createFlag(doc as unknown as FlagInput);
      ctx.output(cmd, flag, () => `Created flag ${flag.key} (salt ${flag.salt}).\n\n${formatFlag(flag)}`);
    });

  flags
    .command('update')
    .description('Replace a flag document from a file (or merge some fields with --patch)')
    .argument('<key>', 'flag key')
    .requiredOption('-f, --file <path>', 'the document (.json, .yaml or .yml)')
    .option('--patch', 'merge the given fields instead of replacing the document')
    .action(async (key: string, opts: { file: string; patch?: boolean }, cmd: Command) => {
      const doc = await readDocument(opts.file, ctx.io.cwd);
      const client = ctx.admin(cmd);
      const change = opts.patch
        ? await client.patchFlag(key, doc as FlagPatch)
        : await client.replaceFlag(key, doc as unknown as FlagInput);
      ctx.output(cmd, change, () => changeText(`Updated flag ${change.flag.key}.`, change));
    });

  for (const enabled of [true, false]) {
    const verb = enabled ? 'enable' : 'disable';
    flags
      .command(verb)
      .description(`${enabled ? 'Enable' : 'Disable'} a flag in one environment`)
      .argument('<key>', 'flag key')
      .requiredOption('--env <environment>', 'the environment')
      .action(async (key: string, opts: { env: string }, cmd: Command) => {
        const change = await ctx.admin(cmd).setFlagEnabled(key, opts.env, enabled);
        ctx.output(cmd, change, () =>
          changeText(`${enabled ? 'Enabled' : 'Disabled'} flag ${key} in ${opts.env}.`, change),
        );
      });
  }

  for (const archived of [true, false]) {
    flags
      .command(archived ? 'archive' : 'unarchive')
      .description(
        archived ? 'Archive a flag (SDKs stop seeing it; it stays readable)' : 'Restore an archived flag',
      )
      .argument('<key>', 'flag key')
      .action(async (key: string, _opts: unknown, cmd: Command) => {
        const change = await ctx.admin(cmd).setFlagArchived(key, archived);
        ctx.output(cmd, change, () =>
          changeText(`${archived ? 'Archived' : 'Restored'} flag ${key}.`, change),
        );
      });
  }
}
