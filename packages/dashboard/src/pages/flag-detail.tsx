/** One flag: variants, and per environment its switch, rules in order (splits drawn as bars) and overrides. */
import type { FlagEnvironment, FlagValue, Rule } from '@dimmer/core';
import { useState } from 'react';
import type { FlagView } from '../api.ts';
import { SplitBar, variantColor } from '../components/split-bar.tsx';
import {
  Badge,
  ConfirmDialog,
  ErrorMessage,
  PageHeader,
  Pending,
  Time,
  useLoad,
  useSession,
} from '../components/ui.tsx';
import { describeCondition } from '../describe.ts';
import { disableWarning } from '../disable-warning.ts';
import { href } from '../router.ts';

function showValue(value: FlagValue): string {
  return JSON.stringify(value);
}

function RuleItem({ rule, variants }: { rule: Rule; variants: string[] }) {
  return (
    <li className="rule">
      <div className="rule-head">
        <code className="rule-id">{rule.id}</code>
        {rule.rollout !== undefined ? (
          <a href={href({ page: 'rollout', id: rule.rollout })}>
            <Badge tone="info">rollout {rule.rollout}</Badge>
          </a>
        ) : null}
        {rule.experiment !== undefined ? <Badge tone="info">experiment {rule.experiment}</Badge> : null}
      </div>
      {rule.description ? <p className="muted">{rule.description}</p> : null}
      <p>
        <span className="muted">when</span> {describeCondition(rule.when)}
        {rule.bucketBy !== undefined && rule.bucketBy !== 'targetingKey' ? (
          <span className="muted"> · bucketed by {rule.bucketBy}</span>
        ) : null}
      </p>
      {'variant' in rule.serve ? (
        <p>
          <span className="muted">serve</span>{' '}
          <span className="swatch" style={{ background: variantColor(rule.serve.variant, variants) }} />{' '}
          <strong>{rule.serve.variant}</strong>
        </p>
      ) : (
        <SplitBar split={rule.serve.split} variants={variants} />
      )}
    </li>
  );
}

function EnvironmentState({
  flag,
  environment,
  onChanged,
}: {
  flag: FlagView;
  environment: string;
  onChanged(): void;
}) {
  const { api } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const state: FlagEnvironment | undefined = flag.environments[environment];
  const variants = Object.keys(flag.variants);
  const [confirming, setConfirming] = useState(false);
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.setFlagEnabled(flag.key, environment, !(state?.enabled ?? false));
      setConfirming(false);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const warning = disableWarning(flag.key, environment, flag.defaultVariant);
  const overrides = Object.entries(state?.overrides ?? {});
  return (
    <div className="env-panel">
      <div className="env-switch">
        <p>
          {state?.enabled ? <Badge tone="good">on</Badge> : <Badge tone="neutral">off</Badge>}{' '}
          {state?.enabled
            ? 'Serving the rules below.'
            : `Disabled: every unit gets the default variant “${flag.defaultVariant}”.`}
        </p>
        <button
          type="button"
          className={state?.enabled ? 'button button-danger' : 'button'}
          onClick={() => (state?.enabled ? setConfirming(true) : toggle())}
          disabled={busy}
        >
          {state?.enabled ? `Disable in ${environment}` : `Enable in ${environment}`}
        </button>
      </div>
      {confirming ? (
        <ConfirmDialog
          title={warning.title}
          message={<p>{warning.message}</p>}
          confirmLabel={`Disable in ${environment}`}
          danger
          busy={busy}
          error={error}
          onConfirm={toggle}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
      <ErrorMessage error={confirming ? undefined : error} />
      <h3>Overrides</h3>
      {overrides.length === 0 ? (
        <p className="muted">No per-unit overrides.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Unit</th>
                <th scope="col">Variant</th>
              </tr>
            </thead>
            <tbody>
              {overrides.map(([unit, variant]) => (
                <tr key={unit}>
                  <td>
                    <code>{unit}</code>
                  </td>
                  <td>{variant}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Rules (first match wins)</h3>
      {(state?.rules.length ?? 0) === 0 ? (
        <p className="muted">No rules.</p>
      ) : (
        <ol className="rules">
          {state?.rules.map((rule) => (
            <RuleItem key={rule.id} rule={rule} variants={variants} />
          ))}
        </ol>
      )}
      <p className="fallthrough">
        Otherwise: <strong>{flag.defaultVariant}</strong> <span className="muted">(default)</span>
      </p>
    </div>
  );
}

export function FlagDetailPage({ flagKey }: { flagKey: string }) {
  const { api, environments, environment } = useSession();
  const loaded = useLoad(() => api.getFlag(flagKey), [api, flagKey]);
  const [shown, setShown] = useState(environment);

  return (
    <Pending loaded={loaded} what="this flag">
      {(flag) => {
        const variants = Object.keys(flag.variants);
        const envKeys = [...new Set([...environments.map((e) => e.key), ...Object.keys(flag.environments)])];
        return (
          <section>
            <PageHeader
              title={
                <>
                  <span className="muted">Flag</span> {flag.key}
                </>
              }
            >
              <a className="button" href={href({ page: 'playground', flag: flag.key })}>
                Try in playground
              </a>
              <a className="button button-primary" href={href({ page: 'flag-edit', key: flag.key })}>
                Edit
              </a>
            </PageHeader>
            {flag.archived ? (
              <p className="notice">This flag is archived: SDKs no longer receive it.</p>
            ) : null}
            <dl className="facts">
              <div>
                <dt>Kind</dt>
                <dd>{flag.kind}</dd>
              </div>
              <div>
                <dt>Surface</dt>
                <dd>{flag.surface ?? <span className="muted">none</span>}</dd>
              </div>
              <div>
                <dt>Salt</dt>
                <dd>
                  <code>{flag.salt}</code>
                </dd>
              </div>
              <div>
                <dt>Updated</dt>
                <dd>
                  <Time iso={flag.updatedAt} />
                </dd>
              </div>
            </dl>
            {flag.description ? <p>{flag.description}</p> : null}
            <h2>Variants</h2>
            <div className="table-wrap">
              <table className="variants">
                <thead>
                  <tr>
                    <th scope="col">Variant</th>
                    <th scope="col">Value</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(flag.variants).map(([name, value]) => (
                    <tr key={name}>
                      <td>
                        <span className="swatch" style={{ background: variantColor(name, variants) }} />{' '}
                        <strong>{name}</strong>
                        {name === flag.defaultVariant ? <Badge tone="neutral">default</Badge> : null}
                      </td>
                      <td>
                        <code>{showValue(value)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <h2>Environments</h2>
            <fieldset className="segmented">
              <legend className="visually-hidden">Environment shown</legend>
              {envKeys.map((key) => (
                <button
                  key={key}
                  type="button"
                  className="segment"
                  aria-pressed={shown === key}
                  onClick={() => setShown(key)}
                >
                  {key}
                  {flag.environments[key]?.enabled ? (
                    <>
                      <span className="dot dot-on" aria-hidden="true" />
                      <span className="visually-hidden">(on)</span>
                    </>
                  ) : null}
                </button>
              ))}
            </fieldset>
            <EnvironmentState flag={flag} environment={shown} onChanged={loaded.reload} />
          </section>
        );
      }}
    </Pending>
  );
}
