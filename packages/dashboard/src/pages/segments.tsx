/** Segments: reusable targeting conditions; the list, and a form to create or edit one (condition as JSON). */

import type { SegmentInput } from '@dimmer/api';
import type { Condition } from '@dimmer/core';
import { type FormEvent, useEffect, useState } from 'react';
import { createSegment, getSegment, replaceSegment } from '../api-admin.ts';
import { FieldIssues } from '../components/field-issues.tsx';
import { ErrorMessage, PageHeader, Pending, useLoad, useSession } from '../components/ui.tsx';
import { describeCondition } from '../describe.ts';
import { href, navigate } from '../router.ts';

export function SegmentsPage() {
  const { api } = useSession();
  const segments = useLoad(() => api.listSegments(), [api]);
  return (
    <section>
      <PageHeader title="Segments">
        <a className="button button-primary" href={href({ page: 'segment-new' })}>
          New segment
        </a>
      </PageHeader>
      <Pending loaded={segments} what="segments">
        {(list) =>
          list.length === 0 ? (
            <p className="empty">No segments yet.</p>
          ) : (
            <div className="table-wrap table-cards">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Segment</th>
                    <th scope="col">Who is in it</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((s) => (
                    <tr key={s.key}>
                      <th scope="row" data-label="Segment">
                        <a href={href({ page: 'segment', key: s.key })}>{s.key}</a>
                        {s.description ? <div className="muted small">{s.description}</div> : null}
                      </th>
                      <td data-label="Who">
                        <code>{describeCondition(s.when)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Pending>
    </section>
  );
}

const EXAMPLE = '{ "attr": "email", "op": "ends_with", "value": "@acme.com" }';

export function SegmentFormPage({ segmentKey }: { segmentKey?: string }) {
  const { api } = useSession();
  const editing = segmentKey !== undefined;
  const [key, setKey] = useState('');
  const [description, setDescription] = useState('');
  const [when, setWhen] = useState(EXAMPLE);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (segmentKey === undefined) return;
    getSegment(api, segmentKey).then((s) => {
      setKey(s.key);
      setDescription(s.description ?? '');
      setWhen(JSON.stringify(s.when, null, 2));
    }, setLoadError);
  }, [api, segmentKey]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    let condition: Condition;
    try {
      condition = JSON.parse(when) as Condition;
    } catch (e) {
      setError(new Error(`Condition: not valid JSON (${e instanceof Error ? e.message : String(e)})`));
      return;
    }
    setBusy(true);
    const input: SegmentInput = { key: key.trim(), when: condition };
    if (description.trim() !== '') input.description = description.trim();
    try {
      if (segmentKey === undefined) await createSegment(api, input);
      else await replaceSegment(api, segmentKey, input);
      navigate({ page: 'segments' });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  if (loadError !== undefined) return <ErrorMessage error={loadError} title="Could not load this segment." />;
  return (
    <section>
      <PageHeader title={editing ? `Edit segment ${segmentKey}` : 'New segment'} />
      <form className="form card" onSubmit={submit} noValidate>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="seg-key">Key</label>
            <input
              id="seg-key"
              value={key}
              disabled={editing}
              placeholder="beta-testers"
              onChange={(e) => setKey(e.target.value)}
            />
            <FieldIssues error={error} path="key" />
          </div>
          <div className="field">
            <label htmlFor="seg-description">Description</label>
            <input
              id="seg-description"
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
            <FieldIssues error={error} path="description" />
          </div>
        </div>
        <div className="field">
          <label htmlFor="seg-when">Condition (JSON)</label>
          <textarea
            id="seg-when"
            rows={8}
            spellCheck={false}
            value={when}
            onChange={(e) => setWhen(e.target.value)}
          />
          <p className="hint">
            Operators: eq, neq, in, not_in, contains, starts_with, ends_with, matches, lt, lte, gt, gte,
            semver_*, before, after, exists; combine with all, any, not, and {'{ "segment": "other" }'}.
          </p>
          <FieldIssues error={error} path="when" />
        </div>
        <ErrorMessage error={error} />
        <div className="form-actions">
          <a className="button" href={href({ page: 'segments' })}>
            Cancel
          </a>
          <button type="submit" className="button button-primary" disabled={busy}>
            {editing ? 'Save segment' : 'Create segment'}
          </button>
        </div>
      </form>
    </section>
  );
}
