/** Create or edit a surface: a product area and the guardrail metrics every rollout on it must watch. */

import type { SurfaceInput } from '@dimmer/api';
import { type FormEvent, useEffect, useState } from 'react';
import type { Metric } from '../api.ts';
import { createSurface, getSurface, replaceSurface } from '../api-admin.ts';
import { FieldIssues } from '../components/field-issues.tsx';
import { ErrorMessage, PageHeader, useLoad, useSession } from '../components/ui.tsx';
import { href, navigate } from '../router.ts';

/** Percent typed in the form ↔ the API's fraction. */
const PERCENT = 100;

interface GuardrailDraft {
  metric: string;
  /** Percent; empty keeps the metric's own margin. */
  margin: string;
}

export function SurfaceFormPage({ surfaceKey }: { surfaceKey?: string }) {
  const { api } = useSession();
  const editing = surfaceKey !== undefined;
  const metrics = useLoad(() => api.listMetrics().catch((): Metric[] => []), [api]);
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [guardrails, setGuardrails] = useState<GuardrailDraft[]>([]);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (surfaceKey === undefined) return;
    getSurface(api, surfaceKey).then((s) => {
      setKey(s.key);
      setName(s.name ?? '');
      setDescription(s.description ?? '');
      setGuardrails(
        s.guardrails.map((g) => ({
          metric: g.metric,
          margin: g.margin !== undefined ? String(Number((g.margin * PERCENT).toPrecision(6))) : '',
        })),
      );
    }, setLoadError);
  }, [api, surfaceKey]);

  const toggle = (metric: string, on: boolean) =>
    setGuardrails((list) =>
      on ? [...list, { metric, margin: '' }] : list.filter((g) => g.metric !== metric),
    );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const input: SurfaceInput = {
      key: key.trim(),
      guardrails: guardrails.map((g) =>
        g.margin.trim() === ''
          ? { metric: g.metric }
          : { metric: g.metric, margin: Number(g.margin) / PERCENT },
      ),
    };
    if (name.trim() !== '') input.name = name.trim();
    if (description.trim() !== '') input.description = description.trim();
    try {
      if (surfaceKey === undefined) await createSurface(api, input);
      else await replaceSurface(api, surfaceKey, input);
      navigate({ page: 'surfaces' });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  if (loadError !== undefined) return <ErrorMessage error={loadError} title="Could not load this surface." />;
  const list = metrics.data ?? [];
  return (
    <section>
      <PageHeader title={editing ? `Edit surface ${surfaceKey}` : 'New surface'} />
      <form className="form card" onSubmit={submit} noValidate>
        <div className="grid-3">
          <div className="field">
            <label htmlFor="s-key">Key</label>
            <input
              id="s-key"
              value={key}
              disabled={editing}
              placeholder="checkout"
              onChange={(e) => setKey(e.target.value)}
            />
            <FieldIssues error={error} path="key" />
          </div>
          <div className="field">
            <label htmlFor="s-name">Name</label>
            <input id="s-name" value={name} placeholder="the key" onChange={(e) => setName(e.target.value)} />
            <FieldIssues error={error} path="name" />
          </div>
          <div className="field">
            <label htmlFor="s-description">Description</label>
            <input id="s-description" value={description} onChange={(e) => setDescription(e.target.value)} />
            <FieldIssues error={error} path="description" />
          </div>
        </div>
        <fieldset className="field">
          <legend>Required guardrails</legend>
          <p className="hint">
            Every rollout of a flag on this surface watches these and cannot drop them. Leave the margin empty
            to use the metric’s own.
          </p>
          {list.length === 0 ? (
            <p className="muted">
              No metrics yet. <a href={href({ page: 'metric-new' })}>Define one</a> first.
            </p>
          ) : (
            list.map((m) => {
              const chosen = guardrails.find((g) => g.metric === m.key);
              return (
                <div key={m.key} className="inline">
                  <label className="checkbox">
                    <input
                      type="checkbox"
                      checked={chosen !== undefined}
                      onChange={(e) => toggle(m.key, e.target.checked)}
                    />
                    {m.key}
                  </label>
                  {chosen !== undefined ? (
                    <label className="small">
                      margin %{' '}
                      <input
                        aria-label={`Margin of ${m.key} in percent`}
                        inputMode="decimal"
                        size={6}
                        value={chosen.margin}
                        placeholder={m.margin !== undefined ? String(m.margin * PERCENT) : ''}
                        onChange={(e) =>
                          setGuardrails((gs) =>
                            gs.map((g) => (g.metric === m.key ? { ...g, margin: e.target.value } : g)),
                          )
                        }
                      />
                    </label>
                  ) : null}
                </div>
              );
            })
          )}
          <FieldIssues error={error} path="guardrails" />
        </fieldset>
        <ErrorMessage error={error} />
        <div className="form-actions">
          <a className="button" href={href({ page: 'surfaces' })}>
            Cancel
          </a>
          <button type="submit" className="button button-primary" disabled={busy}>
            {editing ? 'Save surface' : 'Create surface'}
          </button>
        </div>
      </form>
    </section>
  );
}
