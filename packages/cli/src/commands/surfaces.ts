/** `dimmer surfaces list|get|create|update|delete`. */
import type { SurfaceGuardrail, SurfaceInput, SurfaceView } from '@dimmer/sdk';
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

/** Registers the `surfaces` command group. */
export function registerSurfaceCommands(program: Command, ctx: CliContext): void {
  registerDocumentCommands<SurfaceView>(program, ctx, {
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
        ['updated', formatTime(s.updatedAt)],
      ]),
  });
}
