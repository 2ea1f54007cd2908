/** Create a flag: key, kind, variants and default; the server generates the salt and reports any problem by path. */
import type { FlagKind, FlagValue } from '@dimmer/core';
import { type FormEvent, useState } from 'react';
import type { FlagInput } from '../api.ts';
import { ErrorMessage, PageHeader, useSession } from '../components/ui.tsx';
import { href, navigate } from '../router.ts';

const STARTER_VARIANTS: Record<FlagKind, Record<string, FlagValue>> = {
  boolean: { off: false, on: true },
  string: { control: 'control', treatment: 'treatment' },
  number: { low: 0, high: 1 },
  object: { off: {}, on: { enabled: true } },
};

const STARTER_DEFAULT: Record<FlagKind, string> = {
  boolean: 'off',
  string: 'control',
  number: 'low',
  object: 'off',
};

/** A local error shaped like the API's, so one component shows both. */
function localIssue(path: string, message: string): Error & { issues: never[] } {
  return Object.assign(new Error(`${path}: ${message}`), { issues: [] as never[] });
}

export function FlagNewPage() {
  const { api, environment } = useSession();
  const [key, setKey] = useState('');
  const [kind, setKind] = useState<FlagKind>('boolean');
  const [description, setDescription] = useState('');
  const [surface, setSurface] = useState('');
  const [variants, setVariants] = useState(JSON.stringify(STARTER_VARIANTS.boolean, null, 2));
  const [defaultVariant, setDefaultVariant] = useState(STARTER_DEFAULT.boolean);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const changeKind = (next: FlagKind) => {
    setKind(next);
    setVariants(JSON.stringify(STARTER_VARIANTS[next], null, 2));
    setDefaultVariant(STARTER_DEFAULT[next]);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(variants);
    } catch (e) {
      setError(localIssue('variants', `not JSON (${e instanceof Error ? e.message : 'parse error'})`));
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setError(localIssue('variants', 'expected an object of variant name → value'));
      return;
    }
    const input: FlagInput = {
      key: key.trim(),
      kind,
      variants: parsed as Record<string, FlagValue>,
      defaultVariant: defaultVariant.trim(),
      environments: { [environment]: { enabled: false, rules: [] } },
      ...(description.trim() !== '' ? { description: description.trim() } : {}),
      ...(surface.trim() !== '' ? { surface: surface.trim() } : {}),
    };
    setBusy(true);
    setError(undefined);
    try {
      const flag = await api.createFlag(input);
      navigate({ page: 'flag', key: flag.key });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHeader title="New flag" />
      <form className="card form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="flag-key">Key</label>
          <input
            id="flag-key"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="new-checkout"
            autoComplete="off"
            spellCheck={false}
            required
          />
          <p className="hint">Letters, digits, “.”, “-” and “_”. It cannot be changed later.</p>
        </div>
        <div className="field">
          <label htmlFor="flag-kind">Kind</label>
          <select id="flag-kind" value={kind} onChange={(e) => changeKind(e.target.value as FlagKind)}>
            <option value="boolean">boolean</option>
            <option value="string">string</option>
            <option value="number">number</option>
            <option value="object">object (JSON)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="flag-description">Description</label>
          <input id="flag-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="flag-surface">Surface</label>
          <input
            id="flag-surface"
            value={surface}
            onChange={(e) => setSurface(e.target.value)}
            placeholder="checkout"
          />
          <p className="hint">The product area; its required guardrails apply to rollouts of this flag.</p>
        </div>
        <div className="field">
          <label htmlFor="flag-variants">Variants (JSON: name → value)</label>
          <textarea
            id="flag-variants"
            className="code"
            rows={6}
            value={variants}
            onChange={(e) => setVariants(e.target.value)}
            spellCheck={false}
          />
        </div>
        <div className="field">
          <label htmlFor="flag-default">Default variant</label>
          <input
            id="flag-default"
            value={defaultVariant}
            onChange={(e) => setDefaultVariant(e.target.value)}
          />
          <p className="hint">Served when no rule matches, and the control of rollouts.</p>
        </div>
        <ErrorMessage error={error} />
        <div className="form-actions">
          <a className="button" href={href({ page: 'flags' })}>
            Cancel
          </a>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create flag'}
          </button>
        </div>
      </form>
    </section>
  );
}
