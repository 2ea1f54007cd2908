/**
 * The guardrails of a plan (rollout or experiment): the surface's required metrics shown checked and locked,
 * the other metrics to pick; and the list the API expects.
 */
import type { RolloutGuardrailInput } from '@dimmer/api';
import type { Metric, SurfaceGuardrail } from '../api.ts';
import { formatFraction } from '../format.ts';
import { href } from '../router.ts';
import { FieldIssues } from './field-issues.tsx';

/** The guardrails to send: the required ones with their margins, then the optional ones picked. */
export function guardrailInputs(
  required: readonly SurfaceGuardrail[],
  chosen: readonly string[],
): RolloutGuardrailInput[] {
  const optional = chosen.filter((m) => !required.some((r) => r.metric === m));
  return [
    ...required.map((r) => ({ metric: r.metric, ...(r.margin !== undefined ? { margin: r.margin } : {}) })),
    ...optional.map((metric) => ({ metric })),
  ];
}

export function GuardrailPicker({
  metrics,
  required,
  surface,
  chosen,
  onChange,
  exclude = [],
  error,
}: {
  metrics: readonly Metric[];
  required: readonly SurfaceGuardrail[];
  /** The key of the surface that requires them. */
  surface: string | undefined;
  chosen: readonly string[];
  onChange(chosen: string[]): void;
  /** Metrics that cannot be guardrails here (an experiment's success metrics). */
  exclude?: readonly string[];
  error: unknown;
}) {
  const optional = metrics.filter(
    (m) => !required.some((r) => r.metric === m.key) && !exclude.includes(m.key),
  );
  return (
    <fieldset className="field">
      <legend>Guardrails</legend>
      {required.map((r) => (
        <label key={`req-${r.metric}`} className="checkbox guardrail-locked">
          <input type="checkbox" checked disabled />
          {r.metric}{' '}
          <span className="small">
            required by surface {surface}
            {r.margin !== undefined ? ` (margin ${formatFraction(r.margin)})` : ''}: cannot be removed
          </span>
        </label>
      ))}
      {optional.map((m) => (
        <label key={m.key} className="checkbox">
          <input
            type="checkbox"
            checked={chosen.includes(m.key)}
            onChange={(e) =>
              onChange(e.target.checked ? [...chosen, m.key] : chosen.filter((k) => k !== m.key))
            }
          />
          {m.key}
        </label>
      ))}
      {metrics.length === 0 && required.length === 0 ? (
        <p className="muted">
          No metrics yet: <a href={href({ page: 'metric-new' })}>define one</a> first, or the plan has nothing
          to watch.
        </p>
      ) : null}
      <FieldIssues error={error} path="guardrails" />
    </fieldset>
  );
}
