import { describe, expect, it } from 'vitest';
import { ifNoneMatchMatches, isOriginAllowed } from './client-auth.ts';

describe('ifNoneMatchMatches', () => {
  it('matches the same tag, weak or strong, alone or in a list', () => {
    expect(ifNoneMatchMatches('"production-3"', '"production-3"')).toBe(true);
    expect(ifNoneMatchMatches('W/"production-3"', '"production-3"')).toBe(true);
    expect(ifNoneMatchMatches('"a", "production-3"', '"production-3"')).toBe(true);
    expect(ifNoneMatchMatches('*', '"production-3"')).toBe(true);
  });

  it('does not match another tag or a missing header', () => {
    expect(ifNoneMatchMatches('"production-2"', '"production-3"')).toBe(false);
    expect(ifNoneMatchMatches(undefined, '"production-3"')).toBe(false);
    expect(ifNoneMatchMatches('production-3', '"production-3"')).toBe(false);
  });
});

describe('isOriginAllowed', () => {
  it('admits listed origins (case-insensitively) and everything with *', () => {
    expect(isOriginAllowed('https://App.example.com', ['https://app.example.com'])).toBe(true);
    expect(isOriginAllowed('https://evil.example', ['*'])).toBe(true);
  });

  it('refuses unlisted origins and keys without origins', () => {
    expect(isOriginAllowed('https://evil.example', ['https://app.example.com'])).toBe(false);
    expect(isOriginAllowed('https://app.example.com', [])).toBe(false);
  });
});
