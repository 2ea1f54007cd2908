/** `dimmer segments list|get|create|update|delete`. */
import type { SegmentInput, SegmentView } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { cell, formatKeyValues, formatTable, formatTime } from '../output.ts';
import { registerDocumentCommands } from './documents.ts';

/** Registers the `segments` command group. */
export function registerSegmentCommands(program: Command, ctx: CliContext): void {
  registerDocumentCommands<SegmentView>(program, ctx, {
    group: 'segments',
    noun: 'segment',
    description: 'Reusable targeting conditions',
    listField: 'segments',
    list: (c) => c.listSegments(),
    get: (c, key) => c.getSegment(key),
    create: (c, doc) => c.createSegment(doc as unknown as SegmentInput),
    replace: (c, key, doc, version) => c.replaceSegment(key, doc as unknown as SegmentInput, { version }),
    remove: (c, key) => c.deleteSegment(key),
    keyOf: (s) => s.key,
    formatList: (items) =>
      formatTable(
        ['key', 'description', 'condition', 'updated'],
        items.map((s) => [s.key, cell(s.description), JSON.stringify(s.when), formatTime(s.updatedAt)]),
      ),
    formatOne: (s) =>
      formatKeyValues([
        ['key', s.key],
        ['description', cell(s.description)],
        ['updated', formatTime(s.updatedAt)],
        ['when', JSON.stringify(s.when, null, 2).replace(/\n/g, '\n  ')],
      ]),
  });
}
