/**
 * Playground: pick a flag and an environment, type a JSON context, and see the value, variant, reason and
 * matched rule, computed in the browser by @dimmer/core from the flag and segments read through the admin API.
 */
import { type FormEvent, useState } from 'react';
import {
  Badge,
  ErrorMessage,
  KeySelect,
  PageHeader,
  Pending,
  useLoad,
  useSession,
} from '../components/ui.tsx';
import { evaluateLocally, type PlaygroundResult, parseContext } from '../local-eval.ts';

const STARTER_CONTEXT = JSON.stringify(
  { targetingKey: 'user-1', country: 'SE', email: 'ada@example.com' },
  null,
  2,
);

export function PlaygroundPage({ initialFlag }: { initialFlag?: string }) {
  const { api, environments, environment } = useSession();
  const flags = useLoad(() => api.listFlags(), [api]);
  const [flagKey, setFlagKey] = useState(initialFlag ?? '');
  const [env, setEnv] = useState(environment);
  const [context, setContext] = useState(STARTER_CONTEXT);
  const [outcome, setOutcome] = useState<PlaygroundResult | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const run = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setOutcome(null);
    const parsed = parseContext(context);
    if (!parsed.ok) {
      setError(new Error(`Context ${parsed.issues.map((i) => i.message).join('; ')}`));
      return;
    }
    const key = flagKey || flags.data?.[0]?.key;
    if (key === undefined) {
      setError(new Error('Choose a flag first.'));
      return;
    }
    setBusy(true);
    try {
      const [flag, segments] = await Promise.all([api.getFlag(key), api.listSegments()]);
      setOutcome(evaluateLocally(flag, segments, env, parsed.value));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const result = outcome?.result;
  return (
    <section>
      <PageHeader title="Playground" />
      <p className="muted">Evaluated in your browser with the same code the SDKs run; nothing is logged.</p>
      <Pending loaded={flags} what="flags">
        {(list) => (
          <div className="playground">
            <form className="card form" onSubmit={run}>
              <div className="grid-2">
                <KeySelect
                  id="pg-flag"
                  label="Flag"
                  value={flagKey || list[0]?.key || ''}
                  items={list}
                  onChange={setFlagKey}
                />
                <KeySelect
                  id="pg-env"
                  label="Environment"
                  value={env}
                  items={environments}
                  onChange={setEnv}
                />
              </div>
              <div className="field">
                <label htmlFor="pg-context">Context (JSON)</label>
                <textarea
                  id="pg-context"
                  className="code"
                  rows={8}
                  spellCheck={false}
                  value={context}
                  onChange={(e) => setContext(e.target.value)}
                />
              </div>
              <ErrorMessage error={error} />
              <div className="form-actions">
                <button type="submit" className="button button-primary" disabled={busy || list.length === 0}>
                  Evaluate
                </button>
              </div>
            </form>
            <div className="card result" aria-live="polite">
              <h2>Result</h2>
              {result === undefined ? (
                <p className="muted">Choose a flag, write a context and press Evaluate.</p>
              ) : (
                <>
                  <dl className="facts result-facts" data-testid="playground-result">
                    <div>
                      <dt>Value</dt>
                      <dd>
                        <code>{result.value === undefined ? '—' : JSON.stringify(result.value)}</code>
                      </dd>
                    </div>
                    <div>
                      <dt>Variant</dt>
                      <dd>{result.variant ?? '—'}</dd>
                    </div>
                    <div>
                      <dt>Reason</dt>
                      <dd>
                        <Badge tone={result.reason === 'ERROR' ? 'bad' : 'info'}>{result.reason}</Badge>
                      </dd>
                    </div>
                    <div>
                      <dt>Matched rule</dt>
                      <dd>{result.ruleId ?? <span className="muted">none</span>}</dd>
                    </div>
                    {result.inExperiment ? (
                      <div>
                        <dt>Exposure</dt>
                        <dd>
                          {result.rollout
                            ? `rollout ${result.rollout}`
                            : `experiment ${result.experiment ?? ''}`}{' '}
                          ({result.arm})
                        </dd>
                      </div>
                    ) : null}
                  </dl>
                  {result.errorCode !== undefined ? (
                    <p className="error">
                      {result.errorCode}: {result.errorMessage}
                    </p>
                  ) : null}
                  {outcome !== null && outcome.issues.length > 0 ? (
                    <div className="notice">
                      <strong>Problems in the flag or its segments:</strong>
                      <ul>
                        {outcome.issues.map((i) => (
                          <li key={`${i.path}:${i.message}`}>
                            <code>{i.path}</code> {i.message}
                          </li>
                        ))}
                      </ul>
                    </div>
                  ) : null}
                </>
              )}
            </div>
          </div>
        )}
      </Pending>
    </section>
  );
}
