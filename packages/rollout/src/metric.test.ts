import { describe, expect, it } from 'vitest';
import { validateMetricDefinition } from './metric.ts';

const crash = {
  key: 'crash_rate',
  kind: 'proportion',
  event: 'app_crash',
  direction: 'higher_is_worse',
  margin: 0.02,
  window: '24h',
  category: 'reliability',
};

describe('quantile metrics', () => {
  const p99 = {
    key: 'request_p99',
    kind: 'quantile',
    event: 'request_ms',
    q: 0.99,
    scope: 'event',
    valueUnit: 'ms',
    direction: 'higher_is_worse',
    margin: 0.1,
    category: 'reliability',
    cap: 60_000,
  };

  it('accepts q in (0, 1), a scope, a value unit and a cap', () => {
    expect(validateMetricDefinition(p99)).toEqual({ ok: true, value: { ...p99, window: 86_400_000 } });
  });

  it('names every bad field: q outside (0, 1), an unknown scope, an empty value unit, fields of other kinds', () => {
    const result = validateMetricDefinition({
      ...p99,
      q: 1,
      scope: 'session',
      valueUnit: '',
      aggregate: 'sum',
    });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['q', 'scope', 'valueUnit', 'aggregate']));
    const q = result.ok ? undefined : result.issues.find((i) => i.path === 'q');
    expect(q?.message).toBe(
      'expected a quantile strictly between 0 and 1 such as 0.99 for p99, got the number 1',
    );
    const missing = validateMetricDefinition({ ...p99, q: undefined, scope: undefined });
    expect(missing.ok ? [] : missing.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(
      expect.arrayContaining([
        'q: expected a quantile strictly between 0 and 1 such as 0.99 for p99, got nothing',
      ]),
    );
    const onMean = validateMetricDefinition({ ...crash, kind: 'mean', aggregate: 'sum', q: 0.5 });
    expect(onMean.ok ? [] : onMean.issues.map((i) => i.path)).toEqual(['q']);
  });
});

describe('validateMetricDefinition', () => {
  it('accepts a proportion metric and stores the window in milliseconds', () => {
    const result = validateMetricDefinition(crash);
    expect(result).toEqual({ ok: true, value: { ...crash, window: 86_400_000 } });
  });

  it('accepts a ratio metric with a numerator and a denominator, and "until_now" windows', () => {
    const ratio = {
      key: 'errors_per_request',
      kind: 'ratio',
      numerator: { event: 'error', aggregate: 'count' },
      denominator: { event: 'request', aggregate: 'count' },
      direction: 'higher_is_worse',
      margin: 0.05,
      window: 'until_now',
      category: 'reliability',
      cap: 100,
    };
    expect(validateMetricDefinition(ratio)).toEqual({ ok: true, value: ratio });
  });

  it('defaults the window to 24 hours', () => {
    const { window: _w, ...rest } = crash;
    const result = validateMetricDefinition(rest);
    expect(result.ok && result.value.window).toBe(86_400_000);
  });

  it.each([
    [{ margin: 0 }, 'margin'],
    [{ margin: '2%' }, 'margin'],
    [{ kind: 'median' }, 'kind'],
    [{ direction: 'up' }, 'direction'],
    [{ category: 'vanity' }, 'category'],
    [{ window: 'a day' }, 'window'],
    [{ cap: 10 }, 'cap'],
    [{ numerator: { event: 'x', aggregate: 'count' } }, 'numerator'],
    [{ colour: 'red' }, 'colour'],
    [{ event: '' }, 'event'],
  ])('rejects %j at %s', (patch, path) => {
    const result = validateMetricDefinition({ ...crash, ...patch });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toContain(path);
  });

  it('asks a mean metric how to aggregate, and a ratio for both sides', () => {
    const mean = validateMetricDefinition({ ...crash, kind: 'mean' });
    expect(!mean.ok && mean.issues.map((i) => i.path)).toEqual(['aggregate']);
    const { event: _e, ...noEvent } = crash;
    const ratio = validateMetricDefinition({
      ...noEvent,
      kind: 'ratio',
      numerator: { event: 'e', aggregate: 'avg' },
    });
    expect(!ratio.ok && ratio.issues.map((i) => i.path)).toEqual(['numerator.aggregate', 'denominator']);
  });
});
