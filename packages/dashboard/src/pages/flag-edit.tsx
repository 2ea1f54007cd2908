/**
 * Edit a flag: fields, variants, and per environment the switch, rules and overrides as JSON. Before saving,
 * "Preview changes" checks the document with core's validator and counts, in the browser, the sampled units
 * (with the context attributes given, so targeted rules can match) that would change variant; a change that
 * moves units is saved only after its preview was shown. A rule owned by a rollout is shown read-only and
 * kept as it is. Switching an environment off asks first. After saving, the server's own preview is shown,
 * and its validation messages are listed by path when it refuses.
 */

import type { FlagPreview } from '@dimmer/api';
import {
  type FlagConfig,
  type FlagEnvironment,
  type FlagValue,
  type SplitChangePreview,
  type ValidationIssue,
  validateFlagConfig,
} from '@dimmer/core';
import { type FormEvent, useState } from 'react';
import { ApiError, type FlagView, type SegmentView, type SplitPreview } from '../api.ts';
import { previewFlagEdit } from '../api-admin.ts';
import { ConfirmDialog, ErrorMessage, PageHeader, Pending, useLoad, useSession } from '../components/ui.tsx';
import { describeServe } from '../describe.ts';
import { disableWarning } from '../disable-warning.ts';
import { formatFraction } from '../format.ts';
import { LOCAL_PREVIEW_SAMPLE_SIZE, parseContext, previewLocally } from '../local-eval.ts';
import { type LockedRule, mergeLockedRules, splitLockedRules } from '../locked-rules.ts';
import { href } from '../router.ts';

interface EnvDraft {
  enabled: boolean;
  /** The rules a person edits: every rule except those owned by a rollout. */
  rules: string;
  overrides: string;
  /** Rules owned by a rollout: shown read-only and saved unchanged (see locked-rules.ts). */
  locked: LockedRule[];
}

const EMPTY_ENV: EnvDraft = { enabled: false, rules: '[]', overrides: '{}', locked: [] };

interface Draft {
  description: string;
  surface: string;
  variants: string;
  defaultVariant: string;
  environments: Record<string, EnvDraft>;
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function draftOf(flag: FlagView): Draft {
  const environments: Record<string, EnvDraft> = {};
  for (const [name, env] of Object.entries(flag.environments)) {
    const { editable, locked } = splitLockedRules(env.rules);
    environments[name] = {
      enabled: env.enabled,
      rules: pretty(editable),
      overrides: pretty(env.overrides ?? {}),
      locked,
    };
  }
  return {
    description: flag.description ?? '',
    surface: flag.surface ?? '',
    variants: pretty(flag.variants),
    defaultVariant: flag.defaultVariant,
    environments,
  };
}

/** Builds the document to save, or the JSON problems of the draft with their paths. */
function documentOf(
  flag: FlagView,
  draft: Draft,
): { ok: true; value: FlagConfig } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const parse = (text: string, path: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      issues.push({
        path,
        message: `not valid JSON (${error instanceof Error ? error.message : 'parse error'})`,
      });
      return undefined;
    }
  };
  const variants = parse(draft.variants, 'variants') as Record<string, FlagValue>;
  const environments: Record<string, FlagEnvironment> = {};
  for (const [name, env] of Object.entries(draft.environments)) {
    const edited = parse(env.rules, `environments.${name}.rules`) as FlagEnvironment['rules'];
    const rules = Array.isArray(edited) ? mergeLockedRules(edited, env.locked) : edited;
    const overrides = parse(env.overrides, `environments.${name}.overrides`) as Record<string, string>;
    const state: FlagEnvironment = { enabled: env.enabled, rules };
    if (overrides !== undefined && overrides !== null && Object.keys(overrides).length > 0)
      state.overrides = overrides;
    environments[name] = state;
  }
  if (issues.length > 0) return { ok: false, issues };
  const doc: FlagConfig = {
    key: flag.key,
    kind: flag.kind,
    variants,
    defaultVariant: draft.defaultVariant.trim(),
    salt: flag.salt,
    hashVersion: 1,
    environments,
  };
  if (draft.description.trim() !== '') doc.description = draft.description.trim();
  if (draft.surface.trim() !== '') doc.surface = draft.surface.trim();
  return { ok: true, value: doc };
}

function configOf(flag: FlagView): FlagConfig {
  const { archived: _a, createdAt: _c, updatedAt: _u, ...config } = flag;
  return config;
}

function PreviewTable({
  preview,
  caption,
  done,
}: {
  preview: Record<string, SplitChangePreview | SplitPreview>;
  caption: string;
  done?: boolean;
}) {
  const entries = Object.entries(preview);
  return (
    <div className="preview" aria-live="polite">
      <h3>{caption}</h3>
      {entries.length === 0 ? (
        <p>No environment serves anything different: no unit changes variant.</p>
      ) : (
        <ul>
          {entries.map(([env, p]) => (
            <li key={env}>
              <strong>{env}</strong>: {p.changed.toLocaleString()} of {p.sampled.toLocaleString()} sampled
              units ({(p.share * 100).toFixed(2)}%) {done ? 'changed' : 'would change'} variant
              {p.transitions.length > 0 ? (
                <ul>
                  {p.transitions.map((t) => (
                    <li key={`${t.from}-${t.to}`}>
                      {t.from} → {t.to}: {t.count.toLocaleString()}
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Editor({ flag, segments }: { flag: FlagView; segments: SegmentView[] }) {
  const { api, environment } = useSession();
  const [draft, setDraft] = useState<Draft>(() => {
    const d = draftOf(flag);
    if (d.environments[environment] === undefined) d.environments[environment] = EMPTY_ENV;
    return d;
  });
  const [env, setEnv] = useState(environment);
  const [localIssues, setLocalIssues] = useState<ValidationIssue[]>([]);
  const [localPreview, setLocalPreview] = useState<Record<string, SplitChangePreview> | null>(null);
  const [saved, setSaved] = useState<Record<string, SplitPreview> | null>(null);
  const [targeted, setTargeted] = useState<FlagPreview['targeted'] | null>(null);
  const [current, setCurrent] = useState<FlagView>(flag);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [sampleContext, setSampleContext] = useState('{}');
  /** The draft (as JSON) whose preview is on screen: a change that moves units saves only after it. */
  const [previewedDraft, setPreviewedDraft] = useState<string | null>(null);
  const [mustPreview, setMustPreview] = useState(false);
  const [confirmDisable, setConfirmDisable] = useState<string[] | null>(null);
  const envDraft = draft.environments[env];

  const update = (patch: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setLocalPreview(null);
    setSaved(null);
  };
  const updateEnv = (patch: Partial<EnvDraft>) => {
    setDraft((d) => {
      const base = d.environments[env] ?? EMPTY_ENV;
      return { ...d, environments: { ...d.environments, [env]: { ...base, ...patch } } };
    });
    setLocalPreview(null);
    setSaved(null);
  };

  /** The in-browser preview of the draft, or null when the draft does not validate (the server will say why). */
  const computePreview = (): Record<string, SplitChangePreview> | null => {
    const doc = documentOf(current, draft);
    const context = parseContext(sampleContext);
    if (!doc.ok || !context.ok) {
      setLocalIssues([
        ...(doc.ok ? [] : doc.issues),
        ...(context.ok ? [] : context.issues.map((i) => ({ ...i, path: 'preview context' }))),
      ]);
      return null;
    }
    const checked = validateFlagConfig(doc.value, { segments: segments.map((s) => s.key) });
    setLocalIssues(checked.ok ? [] : checked.issues);
    if (!checked.ok) return null;
    return previewLocally(configOf(current), doc.value, segments, LOCAL_PREVIEW_SAMPLE_SIZE, context.value);
  };

  const preview = () => {
    setError(undefined);
    setMustPreview(false);
    const result = computePreview();
    setLocalPreview(result);
    setPreviewedDraft(result === null ? null : JSON.stringify(draft));
    setTargeted(null);
    // The server's preview of each targeted rule, among the units it targets (made to match its condition).
    const doc = documentOf(current, draft);
    if (result !== null && doc.ok)
      previewFlagEdit(api, current.key, doc.value)
        .then((reply) => setTargeted(reply.targeted))
        .catch(() => setTargeted(null));
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    const doc = documentOf(current, draft);
    if (!doc.ok) {
      setLocalIssues(doc.issues);
      return;
    }
    const draftText = JSON.stringify(draft);
    if (previewedDraft !== draftText) {
      const result = computePreview();
      const moves = result !== null && Object.values(result).some((p) => p.changed > 0);
      if (moves) {
        setLocalPreview(result);
        setPreviewedDraft(draftText);
        setMustPreview(true);
        return;
      }
    }
    const switchedOff = Object.entries(draft.environments)
      .filter(([name, e]) => !e.enabled && current.environments[name]?.enabled === true)
      .map(([name]) => name);
    if (switchedOff.length > 0 && confirmDisable === null) {
      setConfirmDisable(switchedOff);
      return;
    }
    await commit(doc.value);
  };

  const commit = async (value: FlagConfig) => {
    setConfirmDisable(null);
    setLocalIssues([]);
    setBusy(true);
    try {
      const { key: _key, ...body } = value;
      // The version the editor opened: a flag changed since (a rollback, another person) is refused with 409.
      const change = await api.replaceFlag(current.key, { ...body, version: current.version });
      setCurrent(change.flag);
      setSaved(change.preview);
      setLocalPreview(null);
      setPreviewedDraft(null);
      setMustPreview(false);
      setDraft(draftOf(change.flag));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  /** Reads the flag again and starts the draft over from it (after a 409 on a stale version). */
  const reload = async () => {
    setBusy(true);
    try {
      const fresh = await api.getFlag(current.key);
      setCurrent(fresh);
      const d = draftOf(fresh);
      if (d.environments[env] === undefined) d.environments[env] = EMPTY_ENV;
      setDraft(d);
      setError(undefined);
      setLocalPreview(null);
      setPreviewedDraft(null);
      setSaved(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form editor" onSubmit={save} noValidate>
      <div className="card">
        <h2>Flag</h2>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="edit-description">Description</label>
            <input
              id="edit-description"
              value={draft.description}
              onChange={(e) => update({ description: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="edit-surface">Surface</label>
            <input
              id="edit-surface"
              value={draft.surface}
              onChange={(e) => update({ surface: e.target.value })}
            />
          </div>
        </div>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="edit-variants">Variants (JSON)</label>
            <textarea
              id="edit-variants"
              className="code"
              rows={5}
              spellCheck={false}
              value={draft.variants}
              onChange={(e) => update({ variants: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="edit-default">Default variant</label>
            <input
              id="edit-default"
              value={draft.defaultVariant}
              onChange={(e) => update({ defaultVariant: e.target.value })}
            />
            <p className="hint">
              Salt <code>{current.salt}</code> is fixed: changing it would re-bucket every unit.
            </p>
          </div>
        </div>
      </div>
      <div className="card">
        <div className="card-head">
          <h2>Environment</h2>
          <label className="inline">
            <span>Editing</span>
            <select value={env} onChange={(e) => setEnv(e.target.value)} aria-label="Environment to edit">
              {Object.keys(draft.environments).map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={envDraft?.enabled ?? false}
            onChange={(e) => updateEnv({ enabled: e.target.checked })}
          />
          Enabled in {env}
        </label>
        {(envDraft?.locked ?? []).length > 0 ? (
          <div className="notice" data-testid="locked-rules">
            <strong>Owned by a rollout (read-only):</strong>
            <ul>
              {(envDraft?.locked ?? []).map(({ index, rule }) => (
                <li key={rule.id}>
                  rule {index + 1} <code>{rule.id}</code>: {describeServe(rule)}, changed only through{' '}
                  <a href={href({ page: 'rollout', id: rule.rollout ?? '' })}>rollout {rule.rollout}</a>’s
                  actions.
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="edit-rules">Rules in {env} (JSON array, first match wins)</label>
          <textarea
            id="edit-rules"
            className="code"
            rows={12}
            spellCheck={false}
            value={envDraft?.rules ?? '[]'}
            onChange={(e) => updateEnv({ rules: e.target.value })}
          />
          <p className="hint">
            A rule:{' '}
            <code>
              {
                '{ "id": "staff", "when": { "attr": "email", "op": "ends_with", "value": "@acme.com" }, "serve": { "variant": "on" } }'
              }
            </code>{' '}
            or a split: <code>{'"serve": { "split": [ { "variant": "on", "range": [0, 250000] } ] }'}</code>{' '}
            (buckets of 1,000,000).
          </p>
        </div>
        <div className="field">
          <label htmlFor="edit-overrides">Overrides in {env} (JSON: unit → variant)</label>
          <textarea
            id="edit-overrides"
            className="code"
            rows={3}
            spellCheck={false}
            value={envDraft?.overrides ?? '{}'}
            onChange={(e) => updateEnv({ overrides: e.target.value })}
          />
        </div>
      </div>
      {localIssues.length > 0 ? (
        <div className="error" role="alert">
          <strong>Fix these before saving:</strong>
          <ul className="issues">
            {localIssues.map((i) => (
              <li key={`${i.path}:${i.message}`}>
                <code>{i.path || '(document)'}</code> {i.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {error instanceof ApiError && error.currentVersion !== undefined ? (
        <div className="error stale" role="alert">
          <strong>This flag changed since you opened it</strong> (you edited version {current.version}; it is
          now at version {error.currentVersion}). Nothing was saved. Reload it and make your change again.{' '}
          <button type="button" onClick={() => void reload()} disabled={busy}>
            Reload the flag
          </button>
        </div>
      ) : (
        <ErrorMessage
          error={error}
          title={error instanceof ApiError ? 'The server refused the change:' : undefined}
        />
      )}
      <div className="field">
        <label htmlFor="edit-sample-context">Preview units carry these attributes (JSON)</label>
        <textarea
          id="edit-sample-context"
          className="code"
          rows={2}
          spellCheck={false}
          value={sampleContext}
          onChange={(e) => {
            setSampleContext(e.target.value);
            setPreviewedDraft(null);
          }}
        />
        <p className="hint">
          Each sampled unit is <code>{'{ "targetingKey": "unit-N", … }'}</code> plus these, so rules that
          target <code>country</code> or <code>email</code> can match, e.g.{' '}
          <code>{'{ "country": "SE" }'}</code>.
        </p>
      </div>
      {mustPreview ? (
        <p className="notice" role="alert" data-testid="preview-required">
          This change moves units to another variant. Check the preview below, then Save again.
        </p>
      ) : null}
      {localPreview !== null ? (
        <PreviewTable
          preview={localPreview}
          caption={`Preview (computed in your browser over ${LOCAL_PREVIEW_SAMPLE_SIZE.toLocaleString()} sample units)`}
        />
      ) : null}
      {localPreview !== null && targeted !== null && Object.keys(targeted).length > 0 ? (
        <div className="preview" data-testid="targeted-preview" aria-live="polite">
          <p className="muted small">
            Targeted rules (server preview: units made to match each rule’s condition):
          </p>
          <ul>
            {Object.entries(targeted).flatMap(([e, rules]) =>
              rules.map((r) => (
                <li key={`${e}-${r.rule}`}>
                  {e}, rule <code>{r.rule}</code>: {formatFraction(r.share)} of the units it targets change
                  variant ({r.changed.toLocaleString()} of {r.sampled.toLocaleString()} with{' '}
                  <code>{JSON.stringify(r.attributes)}</code>)
                </li>
              )),
            )}
          </ul>
        </div>
      ) : null}
      {saved !== null ? (
        <div className="success" role="status">
          <strong>Saved.</strong> <a href={href({ page: 'flag', key: current.key })}>Back to the flag</a>
          <PreviewTable preview={saved} caption="Units that changed variant (server preview)" done />
        </div>
      ) : null}
      {confirmDisable !== null ? (
        <ConfirmDialog
          title={confirmDisable
            .map((e) => disableWarning(current.key, e, current.defaultVariant).title)
            .join(' ')}
          message={confirmDisable.map((e) => (
            <p key={e}>{disableWarning(current.key, e, current.defaultVariant).message}</p>
          ))}
          confirmLabel="Save and disable"
          danger
          busy={busy}
          error={error}
          onConfirm={() => {
            const doc = documentOf(current, draft);
            if (doc.ok) void commit(doc.value);
          }}
          onCancel={() => setConfirmDisable(null)}
        />
      ) : null}
      <div className="form-actions">
        <a className="button" href={href({ page: 'flag', key: current.key })}>
          Cancel
        </a>
        <button type="button" className="button" onClick={preview}>
          Preview changes
        </button>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

export function FlagEditPage({ flagKey }: { flagKey: string }) {
  const { api } = useSession();
  const loaded = useLoad(async () => {
    const [flag, segments] = await Promise.all([api.getFlag(flagKey), api.listSegments()]);
    return { flag, segments };
  }, [api, flagKey]);
  return (
    <section>
      <PageHeader
        title={
          <>
            <span className="muted">Edit</span> {flagKey}
          </>
        }
      />
      <Pending loaded={loaded} what="this flag">
        {({ flag, segments }) => <Editor flag={flag} segments={segments} />}
      </Pending>
    </section>
  );
}
