import { describe, expect, it } from 'vitest';
import { MAX_RESOLVE_FLAGS, parseEvaluationContext, parseResolveRequest } from './resolve-request.ts';

describe('parseResolveRequest', () => {
  it('accepts a context with free-form attributes and an optional flag list', () => {
    const parsed = parseResolveRequest({
      context: { targetingKey: 'u1', nested: { anything: [1, 'x'] } },
      flags: ['a'],
    });
    expect(parsed).toEqual({
      ok: true,
      value: {
        context: { targetingKey: 'u1', nested: { anything: [1, 'x'] } },
        flags: ['a'],
        logExposures: true,
      },
    });
    expect(parseResolveRequest({ context: {}, logExposures: false })).toEqual({
      ok: true,
      value: { context: {}, logExposures: false },
    });
  });

  it('rejects unknown top-level fields, naming them', () => {
    const parsed = parseResolveRequest({ context: {}, flag: ['a'] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues).toEqual([{ path: 'flag', message: 'unknown field' }]);
  });

  it('rejects a missing or non-object context and a non-string targetingKey', () => {
    for (const body of [
      {},
      { context: [] },
      { context: null },
      { context: 'u1' },
      { context: { targetingKey: 7 } },
    ]) {
      const parsed = parseResolveRequest(body);
      expect(parsed.ok, JSON.stringify(body)).toBe(false);
      if (!parsed.ok) expect(parsed.issues[0]?.path).toMatch(/^context/);
    }
  });

  it('rejects ill-typed flag lists with the index of the bad entry', () => {
    const parsed = parseResolveRequest({ context: {}, flags: ['ok', 3, ''] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues.map((issue) => issue.path)).toEqual(['flags[1]', 'flags[2]']);
    expect(parseResolveRequest({ context: {}, flags: 'a' }).ok).toBe(false);
    expect(parseResolveRequest({ context: {}, flags: new Array(MAX_RESOLVE_FLAGS + 1).fill('a') }).ok).toBe(
      false,
    );
  });

  it('rejects bodies that are not objects', () => {
    for (const body of [null, [], 'x', 3]) expect(parseResolveRequest(body).ok).toBe(false);
  });
});

describe('parseEvaluationContext', () => {
  it('names the path of the problem', () => {
    expect(parseEvaluationContext({ targetingKey: true }, 'context')).toEqual({
      ok: false,
      issues: [{ path: 'context.targetingKey', message: 'expected a string' }],
    });
  });
});
