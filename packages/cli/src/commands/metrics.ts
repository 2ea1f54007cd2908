/** `dimmer metrics list|get|create|update|delete`. */
import type { MetricInput, MetricView } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { cell, formatKeyValues, formatPercent, formatTable, formatTime, NONE } from '../output.ts';
import { registerDocumentCommands } from './documents.ts';

/** What a metric measures, in one cell: `app_crash`, `sum(revenue)`, `sum(latency_ms) / count(request)`. */
export function describeMeasure(m: MetricView): string {
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
        ['description', cell(m.description)],
        ['updated', formatTime(m.updatedAt)],
      ]),
  });
}
