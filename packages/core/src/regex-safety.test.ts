import { describe, expect, it } from 'vitest';
import { MAX_REGEX_LENGTH } from './limits.ts';
import { checkRegexSafety } from './regex-safety.ts';

describe('checkRegexSafety', () => {
  it.each([
    '^.*@acme\\.com$',
    '^.*-beta-.*$',
    'iPhone|iPad',
    '^https?://',
    '^(ios|android)$',
    '^[a-z0-9._%+-]+@example\\.org$',
    '^v\\d+\\.\\d+',
    '(ab|cd)+',
    '^user-[0-9]{1,6}$',
    '(?:x[0-9])*y',
    '^(?<prefix>beta)-\\w+$',
  ])('accepts the everyday pattern %s', (pattern) => {
    expect(checkRegexSafety(pattern)).toBeNull();
  });

  it.each([
    ['(a+)+', 'nested'],
    ['(a*)*b', 'nested'],
    ['(\\w+\\s?)+$', 'nested'],
    ['(a|a)*', 'same character'],
    ['(a|ab)+c', 'same character'],
    ['(\\d|[0-9])+', 'same character'],
    ['(a?)+', 'empty'],
    ['(.*)\\1', 'backreference'],
    ['(?<x>a)\\k<x>', 'backreference'],
    ['a*a*b', 'open-ended'],
    ['\\s*\\s*$', 'open-ended'],
    ['a{1,16}a{1,16}a{1,16}a{1,16}a{1,16}b', 'open-ended'],
    ['a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?aaaaaaaaaaaaaaaaaaaa', 'open-ended'],
    ['(?=(a+)+)b', 'nested'],
    ['(x{2,20}){3,}', 'nested'],
  ])('rejects %s (%s)', (pattern, why) => {
    expect(checkRegexSafety(pattern)).toContain(why);
  });

  it('rejects patterns that do not compile or are too long', () => {
    expect(checkRegexSafety('(abc')).toContain('valid regular expression');
    expect(checkRegexSafety('a'.repeat(MAX_REGEX_LENGTH + 1))).toContain(`at most ${MAX_REGEX_LENGTH}`);
    expect(checkRegexSafety('a'.repeat(MAX_REGEX_LENGTH))).toBeNull();
  });
});
