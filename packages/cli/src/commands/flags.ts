/** `dimmer flags list|get|create|update|enable|disable|archive|unarchive`. */
import type { FlagChange, FlagInput, FlagPatch, FlagView, RolloutRelease } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { usageError } from '../errors.ts';
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
import { takeVersion, versionOption } from './documents.ts';

/** `--rollout` and `--if-version` of enable, disable, archive and unarchive. */
function stateOptions(
  rollout: string | undefined,
  version: string | undefined,
): { rollout?: RolloutRelease; version?: number } {
  if (rollout !== undefined && rollout !== 'pause' && rollout !== 'rollback')
    throw usageError(`--rollout: expected pause or rollback, got ${rollout}`);
  const v = versionOption(version);
  return { ...(rollout !== undefined ? { rollout } : {}), ...(v !== undefined ? { version: v } : {}) };
}

/**
 * A document edited from a file usually predates a rollout started since: the rules a running (or rolled back)
 * rollout owns (marked with its id) are carried over from the current flag into every environment of the file
 * that lacks them, so an update never takes a rollout's rule away. Returns what was kept.
 */
function keepRolloutRules(
  doc: Record<string, unknown>,
  current: FlagView,
): { rule: string; environment: string; rollout: string }[] {
  const kept: { rule: string; environment: string; rollout: string }[] = [];
  const envs = doc.environments;
  if (envs === null || typeof envs !== 'object' || Array.isArray(envs)) return kept;
  for (const [environment, state] of Object.entries(envs as Record<string, { rules?: unknown }>)) {
    if (state === null || typeof state !== 'object' || !Array.isArray(state.rules)) continue;
    const rules = state.rules as { id?: unknown }[];
    for (const rule of current.environments[environment]?.rules ?? []) {
      if (rule.rollout === undefined || rules.some((r) => r.id === rule.id)) continue;
      rules.push(rule);
      kept.push({ rule: rule.id, environment, rollout: rule.rollout });
    }
  }
  return kept;
}

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

/** Buckets of the hash space: a preview that counted all of them is exact. */
const BUCKETS = 1_000_000;

/** The preview of a change: per environment, how many units change variant (exact, or of a sample). */
export function formatPreview(preview: FlagChange['preview']): string {
  const entries = Object.entries(preview);
  if (entries.length === 0) return 'No environment serves anything different.\n';
  return formatTable(
    ['environment', 'changed', 'share', 'transitions'],
    entries.map(([env, p]) => [
      env,
      // Exact from the bucket ranges (all 1,000,000 buckets), or estimated on a sample of synthetic ids.
      p.sampled === BUCKETS
        ? `${formatNumber(p.changed)} of ${formatNumber(p.sampled)} buckets`
        : `${formatNumber(p.changed)} of ${formatNumber(p.sampled)} sampled ids`,
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
    .option('--if-version <n>', 'the version the file was made from (default: the current one, read first)')
    .action(
      async (key: string, opts: { file: string; patch?: boolean; ifVersion?: string }, cmd: Command) => {
        const doc = await readDocument(opts.file, ctx.io.cwd);
        const client = ctx.admin(cmd);
        const given = takeVersion(doc, opts.ifVersion);
        const current = await client.getFlag(key);
        const version = given ?? current.version;
        const kept = keepRolloutRules(doc, current);
        const change = opts.patch
          ? await client.patchFlag(key, doc as FlagPatch, { version })
          : await client.replaceFlag(key, doc as unknown as FlagInput, { version });
        ctx.output(cmd, change, () =>
          changeText(
            `Updated flag ${change.flag.key}. Version ${change.flag.version}.${kept.map((k) => `\nKept rule ${k.rule} in ${k.environment}: it belongs to rollout ${k.rollout} and changes only through the rollout's actions.`).join('')}`,
            change,
          ),
        );
      },
    );

  for (const enabled of [true, false]) {
    const verb = enabled ? 'enable' : 'disable';
    flags
      .command(verb)
      .description(`${enabled ? 'Enable' : 'Disable'} a flag in one environment`)
      .argument('<key>', 'flag key')
      .requiredOption('--env <environment>', 'the environment')
      .option(
        '--rollout <pause|rollback>',
        'disable only: what to do with a rollout running on the flag (refused without it)',
      )
      .option('--if-version <n>', 'the version the change was made from')
      .action(
        async (key: string, opts: { env: string; rollout?: string; ifVersion?: string }, cmd: Command) => {
          const change = await ctx
            .admin(cmd)
            .setFlagEnabled(key, opts.env, enabled, stateOptions(opts.rollout, opts.ifVersion));
          ctx.output(cmd, change, () =>
            changeText(`${enabled ? 'Enabled' : 'Disabled'} flag ${key} in ${opts.env}.`, change),
          );
        },
      );
  }

  for (const archived of [true, false]) {
    flags
      .command(archived ? 'archive' : 'unarchive')
      .description(
        archived ? 'Archive a flag (SDKs stop seeing it; it stays readable)' : 'Restore an archived flag',
      )
      .argument('<key>', 'flag key')
      .option(
        '--rollout <pause|rollback>',
        'archive only: what to do with a rollout running on the flag (refused without it)',
      )
      .option('--if-version <n>', 'the version the change was made from')
      .action(async (key: string, opts: { rollout?: string; ifVersion?: string }, cmd: Command) => {
        const change = await ctx
          .admin(cmd)
          .setFlagArchived(key, archived, stateOptions(opts.rollout, opts.ifVersion));
        ctx.output(cmd, change, () =>
          changeText(`${archived ? 'Archived' : 'Restored'} flag ${key}.`, change),
        );
      });
  }
}
