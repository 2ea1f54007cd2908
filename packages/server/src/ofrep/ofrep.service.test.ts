import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../resolve/context-etag.ts';
import { bulkEtag, singleFlagStatus, toOfrepEvaluation } from './ofrep.service.ts';

describe('toOfrepEvaluation', () => {
  it('passes OFREP reasons through and keeps the matched rule as metadata', () => {
    expect(
      toOfrepEvaluation({
        flagKey: 'f',
        value: 'x',
        variant: 'v',
        reason: 'TARGETING_MATCH',
        ruleId: 'staff',
      }),
    ).toEqual({
      key: 'f',
      value: 'x',
      variant: 'v',
      reason: 'TARGETING_MATCH',
      metadata: { ruleId: 'staff' },
    });
  });

  it('names a fall-through to the default UNKNOWN (OFREP has no DEFAULT) and keeps ours in metadata', () => {
    const entry = toOfrepEvaluation({ flagKey: 'f', value: 1, variant: 'v', reason: 'DEFAULT' });
    expect(entry).toEqual({
      key: 'f',
      value: 1,
      variant: 'v',
      reason: 'UNKNOWN',
      metadata: { dimmerReason: 'DEFAULT' },
    });
    expect(singleFlagStatus(entry)).toBe(200);
  });

  it('turns errors into failures with the status OFREP gives them', () => {
    const notFound = toOfrepEvaluation({
      flagKey: 'f',
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
      errorMessage: 'm',
    });
    expect(notFound).toEqual({ key: 'f', errorCode: 'FLAG_NOT_FOUND', errorDetails: 'm' });
    expect(singleFlagStatus(notFound)).toBe(404);
    const invalid = toOfrepEvaluation({ flagKey: 'f', reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
    expect(singleFlagStatus(invalid)).toBe(400);
    const parse = toOfrepEvaluation({ flagKey: 'f', reason: 'ERROR', errorCode: 'PARSE_ERROR' });
    expect(singleFlagStatus(parse)).toBe(400);
    const mismatch = toOfrepEvaluation({ flagKey: 'f', reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    expect(mismatch).toMatchObject({ errorCode: 'GENERAL' });
    expect(singleFlagStatus(mismatch)).toBe(500);
  });
});

describe('bulkEtag', () => {
  const state = { environment: 'production', version: 4 };

  it('changes with the version and with the context, not with key order', () => {
    const base = bulkEtag(state, { targetingKey: 'u1', plan: 'pro' });
    expect(bulkEtag(state, { plan: 'pro', targetingKey: 'u1' })).toBe(base);
    expect(bulkEtag({ ...state, version: 5 }, { targetingKey: 'u1', plan: 'pro' })).not.toBe(base);
    expect(bulkEtag(state, { targetingKey: 'u2', plan: 'pro' })).not.toBe(base);
    expect(bulkEtag({ ...state, environment: 'staging' }, { targetingKey: 'u1', plan: 'pro' })).not.toBe(
      base,
    );
    expect(base).toMatch(/^"4-[A-Za-z0-9_-]+"$/);
  });
});

describe('canonicalJson', () => {
  it('is the same text for objects that differ only in key order, and parses back to an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          const reversed = Object.fromEntries(Object.entries(value).reverse());
          expect(canonicalJson(reversed)).toBe(text);
        }
      }),
    );
  });
});
