/** `dimmer metrics list|get|create|update|delete`. */
import type { MetricInput, MetricView } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { cell, formatKeyValues, formatPercent, formatTable, formatTime, NONE } from '../output.ts';
import { percentileName } from '../rollout-view.ts';
import { registerDocumentCommands } from './documents.ts';

/** What a metric measures, in one cell: `app_crash`, `sum(revenue)`, `sum(latency_ms) / count(request)`. */
export function describeMeasure(m: MetricView): string {
  if (m.kind === 'quantile' && m.event !== undefined && m.q !== undefined)
    return `${percentileName(m.q)}(${m.event}) per ${m.scope ?? 'unit'}${m.valueUnit ? `, ${m.valueUnit}` : ''}`;
  if (m.kind === 'ratio' && m.numerator && m.denominator)
    return `${m.numerator.aggregate}(${m.numerator.event}) / ${m.denominator.aggregate}(${m.denominator.event})`;
  if (m.event === undefined) return NONE;
  return m.kind === 'mean' ? `${m.aggregate ?? 'count'}(${m.event})` : m.event;
}

/** Registers the `metrics` command group. */
export function registerMetricCommands(program: Command, ctx: CliContext): void {
  registerDocumentCommands<MetricView>(program, ctx, {
    group: 'metrics',
    noun: 'metric',
    description: 'Guardrail and success metrics over tracked events',
    listField: 'metrics',
    list: (c) => c.listMetrics(),
    get: (c, key) => c.getMetric(key),
    create: (c, doc) => c.createMetric(doc as unknown as MetricInput),
    replace: (c, key, doc, version) => c.replaceMetric(key, doc as unknown as MetricInput, { version }),
    remove: (c, key) => c.deleteMetric(key),
    keyOf: (m) => m.key,
    createOptions: METRIC_OPTIONS,
    fromOptions: metricFromOptions,
    formatList: (items) =>
      formatTable(
        ['key', 'kind', 'measure', 'direction', 'margin', 'window', 'category'],
        items.map((m) => [
          m.key,
          m.kind,
          describeMeasure(m),
          m.direction,
          formatPercent(m.margin),
          m.window,
          m.category,
        ]),
      ),
    formatOne: (m) =>
      formatKeyValues([
        ['key', m.key],
        ['kind', m.kind],
        ['measure', describeMeasure(m)],
        ['direction', m.direction],
        ['margin', formatPercent(m.margin)],
        ['window', m.window],
        ['category', m.category],
        ['cap', cell(m.cap)],
        ['floor', cell(m.floor)],
        ['description', cell(m.description)],
        ['updated', formatTime(m.updatedAt)],
      ]),
  });
}

/** `metrics create` without a file: the definition from options (`--kind quantile --event … --q 0.99 …`). */
const METRIC_OPTIONS: [string, string][] = [
  ['--key <key>', 'metric key'],
  ['--kind <kind>', 'proportion, mean, ratio or quantile'],
  ['--event <name>', 'the tracked event (proportion, mean, quantile)'],
  ['--aggregate <count|sum>', 'mean metrics: count the events or sum their values'],
  ['--q <fraction>', 'quantile metrics: the percentile as a fraction, e.g. 0.99 for p99'],
  ['--scope <unit|event>', "quantile metrics: one value per unit (its events' mean) or every event's value"],
  ['--value-unit <unit>', 'quantile metrics: the unit of the values, e.g. ms'],
  ['--direction <dir>', 'higher_is_worse or lower_is_worse'],
  ['--margin <fraction>', 'relative non-inferiority margin, e.g. 0.05'],
  ['--window <duration>', 'observation window after exposure, e.g. 24h, or until_now'],
  ['--category <category>', 'reliability, experience or business'],
  ['--cap <number>', 'cap on values (quantile: each event value)'],
  ['--floor <number>', 'floor on values'],
  ['--description <text>', 'what the metric measures'],
];

/** A number option as a number; the server names a value that is not one. */
function numberOption(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw usageError(`${flag}: expected a number, got ${raw}`);
  return n;
}

/** The metric document the options describe (the server validates it and names any bad field). */
export function metricFromOptions(opts: Record<string, string | undefined>): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  const text: [string, string][] = [
    ['key', 'key'],
    ['kind', 'kind'],
    ['event', 'event'],
    ['aggregate', 'aggregate'],
    ['scope', 'scope'],
    ['valueUnit', 'valueUnit'],
    ['direction', 'direction'],
    ['window', 'window'],
    ['category', 'category'],
    ['description', 'description'],
  ];
  for (const [option, field] of text) if (opts[option] !== undefined) doc[field] = opts[option];
  const numbers: [string, string, string][] = [
    ['q', 'q', '--q'],
    ['margin', 'margin', '--margin'],
    ['cap', 'cap', '--cap'],
    ['floor', 'floor', '--floor'],
  ];
  for (const [option, field, flag] of numbers) {
    const n = numberOption(opts[option], flag);
    if (n !== undefined) doc[field] = n;
  }
  return doc;
}
