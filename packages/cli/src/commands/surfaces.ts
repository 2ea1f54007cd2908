/** `dimmer surfaces list|get|create|update|delete` and `dimmer surfaces holdback set|disable|report`. */
import type { HoldbackReport, SurfaceGuardrail, SurfaceInput, SurfaceView } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { cell, formatKeyValues, formatPercent, formatTable, formatTime, NONE } from '../output.ts';
import { registerDocumentCommands } from './documents.ts';

function guardrails(list: readonly SurfaceGuardrail[]): string {
  if (list.length === 0) return NONE;
  return list
    .map((g) => (g.margin === undefined ? g.metric : `${g.metric} (${formatPercent(g.margin)})`))
    .join(', ');
}

function holdback(s: SurfaceView): string {
  const h = s.holdback;
  if (h === undefined || h === null) return NONE;
  return `${h.percent}% (generation ${h.generation}, ${h.enabled ? 'enabled' : `disabled ${formatTime(h.disabledAt ?? '')}`})`;
}

function signed(x: number | null): string {
  return x === null ? NONE : `${x > 0 ? '+' : ''}${formatPercent(x)}`;
}

/** The holdback report as a table: per metric, both arms, the lift with its interval, the verdict. */
function formatHoldbackReport(r: HoldbackReport): string {
  return `Holdback of ${r.surface} in ${r.environment}: ${r.units.holdback} held-back units, ${r.units.rest} others.\n\n${formatTable(
    ['metric', 'holdback', 'everyone else', 'lift', 'interval', 'verdict'],
    r.metrics.map((m) => [
      m.metric,
      m.holdback.mean === null ? NONE : `${m.holdback.mean.toPrecision(3)} (n ${m.holdback.n})`,
      m.rest.mean === null ? NONE : `${m.rest.mean.toPrecision(3)} (n ${m.rest.n})`,
      signed(m.relativeLift),
      m.interval === null ? NONE : `[${signed(m.interval[0])}, ${signed(m.interval[1])}]`,
      m.verdict,
    ]),
  )}`;
}

/** Registers the `surfaces` command group. */
export function registerSurfaceCommands(program: Command, ctx: CliContext): void {
  const group = registerDocumentCommands<SurfaceView>(program, ctx, {
    group: 'surfaces',
    noun: 'surface',
    description: 'Product areas and the guardrail metrics they require',
    listField: 'surfaces',
    list: (c) => c.listSurfaces(),
    get: (c, key) => c.getSurface(key),
    create: (c, doc) => c.createSurface(doc as unknown as SurfaceInput),
    replace: (c, key, doc, version) => c.replaceSurface(key, doc as unknown as SurfaceInput, { version }),
    remove: (c, key) => c.deleteSurface(key),
    keyOf: (s) => s.key,
    formatList: (items) =>
      formatTable(
        ['key', 'name', 'required guardrails', 'description'],
        items.map((s) => [s.key, s.name, guardrails(s.guardrails), cell(s.description)]),
      ),
    formatOne: (s) =>
      formatKeyValues([
        ['key', s.key],
        ['name', s.name],
        ['description', cell(s.description)],
        ['required guardrails', guardrails(s.guardrails)],
        ['holdback', holdback(s)],
        ['updated', formatTime(s.updatedAt)],
      ]),
  });

  const hb = group
    .command('holdback')
    .description(
      'A share of units every rollout and experiment on the surface serves the default, and its report',
    );
  hb.command('set')
    .description('Set the holdback (immutable once set, except to disable it)')
    .argument('<key>', 'surface key')
    .argument('<percent>', 'share of units held back, in percent', (v: string) => Number(v))
    .action(async (key: string, percent: number, _opts: unknown, cmd: Command) => {
      const s = await ctx.admin(cmd).setSurfaceHoldback(key, { percent });
      ctx.output(cmd, s, () => `Surface ${key} holds back ${holdback(s)}.\n`);
    });
  hb.command('disable')
    .description('Disable the holdback: its units get what everyone else gets')
    .argument('<key>', 'surface key')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const s = await ctx.admin(cmd).disableSurfaceHoldback(key);
      ctx.output(cmd, s, () => `Holdback of ${key}: ${holdback(s)}.\n`);
    });
  hb.command('report')
    .description('The holdback against everyone else on the surface metrics')
    .argument('<key>', 'surface key')
    .requiredOption('--env <environment>', 'environment to report on')
    .action(async (key: string, opts: { env: string }, cmd: Command) => {
      const r = await ctx.admin(cmd).getHoldbackReport(key, opts.env);
      ctx.output(cmd, r, () => formatHoldbackReport(r));
    });
}
