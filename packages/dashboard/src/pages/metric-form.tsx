/** Create or edit a metric: how it is computed from tracked events, its harmful direction, margin and window. */

import type { EventAggregate, MetricInput, MetricView, QuantileScope } from '@dimmer/api';
import { type FormEvent, useEffect, useState } from 'react';
import { createMetric, getMetric, replaceMetric } from '../api-admin.ts';
import { FieldIssues } from '../components/field-issues.tsx';
import { ErrorMessage, PageHeader, useSession } from '../components/ui.tsx';
import { href, navigate } from '../router.ts';

interface Draft {
  key: string;
  description: string;
  kind: MetricInput['kind'];
  event: string;
  aggregate: EventAggregate;
  numeratorEvent: string;
  numeratorAggregate: EventAggregate;
  denominatorEvent: string;
  denominatorAggregate: EventAggregate;
  direction: MetricInput['direction'];
  /** Percent, as typed. */
  margin: string;
  window: string;
  category: MetricInput['category'];
  cap: string;
  /** Quantile metrics: the percentile as typed (99 for p99), the scope and the values' unit. */
  percentile: string;
  scope: QuantileScope;
  valueUnit: string;
}

const EMPTY: Draft = {
  key: '',
  description: '',
  kind: 'proportion',
  event: '',
  aggregate: 'count',
  numeratorEvent: '',
  numeratorAggregate: 'count',
  denominatorEvent: '',
  denominatorAggregate: 'count',
  direction: 'higher_is_worse',
  margin: '2',
  window: '24h',
  category: 'reliability',
  cap: '',
  percentile: '99',
  scope: 'unit',
  valueUnit: '',
};

/** Percent typed in the form ↔ the API's fraction. */
const PERCENT = 100;

function draftOf(m: MetricView): Draft {
  return {
    ...EMPTY,
    key: m.key,
    description: m.description ?? '',
    kind: m.kind,
    event: m.event ?? '',
    aggregate: m.aggregate ?? 'count',
    numeratorEvent: m.numerator?.event ?? '',
    numeratorAggregate: m.numerator?.aggregate ?? 'count',
    denominatorEvent: m.denominator?.event ?? '',
    denominatorAggregate: m.denominator?.aggregate ?? 'count',
    direction: m.direction,
    margin: String(Number((m.margin * PERCENT).toPrecision(6))),
    window: m.window,
    category: m.category,
    cap: m.cap !== undefined ? String(m.cap) : '',
    percentile: m.q !== undefined ? String(Number((m.q * PERCENT).toPrecision(6))) : '99',
    scope: m.scope ?? 'unit',
    valueUnit: m.valueUnit ?? '',
  };
}

/** The body to send; numbers are passed as typed so the server's message names a bad one. */
function inputOf(d: Draft): MetricInput {
  const input: MetricInput = {
    key: d.key.trim(),
    kind: d.kind,
    direction: d.direction,
    margin: d.margin.trim() === '' ? Number.NaN : Number(d.margin) / PERCENT,
    category: d.category,
  };
  if (d.description.trim() !== '') input.description = d.description.trim();
  if (d.window.trim() !== '') input.window = d.window.trim();
  if (d.kind === 'ratio') {
    input.numerator = { event: d.numeratorEvent.trim(), aggregate: d.numeratorAggregate };
    input.denominator = { event: d.denominatorEvent.trim(), aggregate: d.denominatorAggregate };
  } else {
    input.event = d.event.trim();
    if (d.kind === 'mean') input.aggregate = d.aggregate;
  }
  if (d.kind === 'quantile') {
    input.q = d.percentile.trim() === '' ? Number.NaN : Number(d.percentile) / PERCENT;
    input.scope = d.scope;
    if (d.valueUnit.trim() !== '') input.valueUnit = d.valueUnit.trim();
  }
  if (d.cap.trim() !== '' && d.kind !== 'proportion') input.cap = Number(d.cap);
  return input;
}

function Select<T extends string>({
  id,
  label,
  value,
  options,
  onChange,
}: {
  id: string;
  label: string;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange(value: T): void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

const AGGREGATES = [
  ['count', 'count of events'],
  ['sum', 'sum of event values'],
] as const;

export function MetricFormPage({ metricKey }: { metricKey?: string }) {
  const { api } = useSession();
  const editing = metricKey !== undefined;
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  useEffect(() => {
    if (metricKey === undefined) return;
    getMetric(api, metricKey).then((m) => setDraft(draftOf(m)), setLoadError);
  }, [api, metricKey]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const input = inputOf(draft);
      if (metricKey === undefined) await createMetric(api, input);
      else await replaceMetric(api, metricKey, input);
      navigate({ page: 'metrics' });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  if (loadError !== undefined) return <ErrorMessage error={loadError} title="Could not load this metric." />;
  return (
    <section>
      <PageHeader title={editing ? `Edit metric ${metricKey}` : 'New metric'} />
      <form className="form card" onSubmit={submit} noValidate>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="m-key">Key</label>
            <input
              id="m-key"
              value={draft.key}
              disabled={editing}
              placeholder="crash_rate"
              onChange={(e) => set({ key: e.target.value })}
            />
            <FieldIssues error={error} path="key" />
          </div>
          <div className="field">
            <label htmlFor="m-description">Description</label>
            <input
              id="m-description"
              value={draft.description}
              onChange={(e) => set({ description: e.target.value })}
            />
            <FieldIssues error={error} path="description" />
          </div>
        </div>
        <div className="grid-3">
          <Select
            id="m-kind"
            label="Kind"
            value={draft.kind}
            options={[
              ['proportion', 'proportion: share of units with ≥ 1 event'],
              ['mean', 'mean: per-unit count or sum, averaged'],
              ['ratio', 'ratio: sum of numerator / sum of denominator'],
              ['quantile', 'quantile: a percentile such as p99 of the values'],
            ]}
            onChange={(kind) => set({ kind })}
          />
          <Select
            id="m-direction"
            label="Harmful when"
            value={draft.direction}
            options={[
              ['higher_is_worse', 'it rises (crashes, errors, latency)'],
              ['lower_is_worse', 'it falls (conversion, revenue)'],
            ]}
            onChange={(direction) => set({ direction })}
          />
          <Select
            id="m-category"
            label="Category"
            value={draft.category}
            options={[
              ['reliability', 'reliability'],
              ['experience', 'experience'],
              ['business', 'business'],
            ]}
            onChange={(category) => set({ category })}
          />
        </div>
        {draft.kind === 'ratio' ? (
          <div className="grid-2">
            <fieldset className="field">
              <legend>Numerator</legend>
              <label htmlFor="m-num-event">Numerator event</label>
              <input
                id="m-num-event"
                value={draft.numeratorEvent}
                onChange={(e) => set({ numeratorEvent: e.target.value })}
              />
              <FieldIssues error={error} path="numerator" />
              <Select
                id="m-num-agg"
                label="Numerator aggregate"
                value={draft.numeratorAggregate}
                options={AGGREGATES}
                onChange={(numeratorAggregate) => set({ numeratorAggregate })}
              />
            </fieldset>
            <fieldset className="field">
              <legend>Denominator</legend>
              <label htmlFor="m-den-event">Denominator event</label>
              <input
                id="m-den-event"
                value={draft.denominatorEvent}
                onChange={(e) => set({ denominatorEvent: e.target.value })}
              />
              <FieldIssues error={error} path="denominator" />
              <Select
                id="m-den-agg"
                label="Denominator aggregate"
                value={draft.denominatorAggregate}
                options={AGGREGATES}
                onChange={(denominatorAggregate) => set({ denominatorAggregate })}
              />
            </fieldset>
          </div>
        ) : (
          <div className="grid-2">
            <div className="field">
              <label htmlFor="m-event">Event</label>
              <input
                id="m-event"
                value={draft.event}
                placeholder="app_crash"
                onChange={(e) => set({ event: e.target.value })}
              />
              <p className="hint">The name SDKs send with track().</p>
              <FieldIssues error={error} path="event" />
            </div>
            {draft.kind === 'mean' ? (
              <Select
                id="m-aggregate"
                label="Per unit"
                value={draft.aggregate}
                options={AGGREGATES}
                onChange={(aggregate) => set({ aggregate })}
              />
            ) : null}
          </div>
        )}
        {draft.kind === 'quantile' ? (
          <div className="grid-3">
            <div className="field">
              <label htmlFor="m-percentile">Percentile</label>
              <input
                id="m-percentile"
                inputMode="decimal"
                value={draft.percentile}
                onChange={(e) => set({ percentile: e.target.value })}
              />
              <p className="hint">99 for p99, 95 for p95, 50 for the median.</p>
              <FieldIssues error={error} path="q" />
            </div>
            <Select
              id="m-scope"
              label="Over"
              value={draft.scope}
              options={[
                ['unit', 'one value per unit (the mean of its events)'],
                ['event', 'every event (several per unit)'],
              ]}
              onChange={(scope) => set({ scope })}
            />
            <div className="field">
              <label htmlFor="m-value-unit">Value unit (optional)</label>
              <input
                id="m-value-unit"
                value={draft.valueUnit}
                placeholder="ms"
                onChange={(e) => set({ valueUnit: e.target.value })}
              />
              <FieldIssues error={error} path="valueUnit" />
            </div>
          </div>
        ) : null}
        <div className="grid-3">
          <div className="field">
            <label htmlFor="m-margin">Margin (%)</label>
            <input
              id="m-margin"
              inputMode="decimal"
              value={draft.margin}
              onChange={(e) => set({ margin: e.target.value })}
            />
            <p className="hint">The relative change you accept as “no worse”, e.g. 2 for 2%.</p>
            <FieldIssues error={error} path="margin" />
          </div>
          <div className="field">
            <label htmlFor="m-window">Observation window</label>
            <input id="m-window" value={draft.window} onChange={(e) => set({ window: e.target.value })} />
            <p className="hint">After a unit’s exposure: 24h, 90m, 7d, or until_now.</p>
            <FieldIssues error={error} path="window" />
          </div>
          {draft.kind !== 'proportion' ? (
            <div className="field">
              <label htmlFor="m-cap">
                {draft.kind === 'quantile' ? 'Cap per value (optional)' : 'Cap per unit (optional)'}
              </label>
              <input
                id="m-cap"
                inputMode="decimal"
                value={draft.cap}
                onChange={(e) => set({ cap: e.target.value })}
              />
              <FieldIssues error={error} path="cap" />
            </div>
          ) : null}
        </div>
        <ErrorMessage error={error} />
        <div className="form-actions">
          <a className="button" href={href({ page: 'metrics' })}>
            Cancel
          </a>
          <button type="submit" className="button button-primary" disabled={busy}>
            {editing ? 'Save metric' : 'Create metric'}
          </button>
        </div>
      </form>
    </section>
  );
}
