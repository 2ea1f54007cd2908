/**
 * Test support: a segment change that would push a flag using the segment (directly, or through another
 * segment) past the evaluation budget is refused with VALIDATION_FAILED naming the flag and the limit, and
 * nothing changes; a change within the budget is saved. Run against any store through the admin API.
 */
import { compilePattern, MAX_EVALUATION_NODES, MAX_EVALUATION_REGEX_PROGRAM } from '@dimmer/core';
import { expect } from 'vitest';
import type { Json, TestApp } from './test-app.ts';

/** Attribute tests on distinct attributes, `count` of them. */
function leaves(prefix: string, count: number): Json[] {
  return Array.from({ length: count }, (_, i) => ({ attr: `${prefix}${i}`, op: 'eq', value: i }));
}

/** Rules filling most of the node budget: `rules` rules of one `any` over `perRule` leaves each. */
function bulkyRules(rules: number, perRule: number): Json[] {
  return Array.from({ length: rules }, (_, r) => ({
    id: `bulk-${r}`,
    when: { any: leaves(`a${r}_`, perRule) },
    serve: { variant: 'on' },
  }));
}

function flag(key: string, rules: Json[]): Json {
  return {
    key,
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: { production: { enabled: true, rules } },
  };
}

/** A `matches` pattern compiling to more than half the regex budget (and within one pattern's limit). */
const HALF_BUDGET_PATTERN = '^[a-z]{1,30}@';

export async function segmentEditBudgetScenario(t: TestApp): Promise<void> {
  const created = async (path: string, body: Json) => {
    const res = await t.admin('POST', path, body);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
  };
  const compiled = compilePattern(HALF_BUDGET_PATTERN);
  if (!compiled.ok) throw new Error(compiled.problem);
  expect(compiled.pattern.programSize * 2).toBeGreaterThan(MAX_EVALUATION_REGEX_PROGRAM);

  const innerWhen = { attr: 'tier', op: 'eq', value: 'gold' };
  await created('/api/v1/segments', { key: 'inner', when: innerWhen });
  await created('/api/v1/segments', {
    key: 'outer',
    when: { any: [{ segment: 'inner' }, { attr: 'beta', op: 'exists' }] },
  });
  // "big" reaches inner through outer: 1 + 3 + 1 nodes, plus 4 × 451 = 1,809 in all.
  await created(
    '/api/v1/flags',
    flag('big', [{ id: 'vip', when: { segment: 'outer' }, serve: { variant: 'on' } }, ...bulkyRules(4, 450)]),
  );
  // "regexy" refers to inner directly and runs one pattern of its own.
  await created(
    '/api/v1/flags',
    flag('regexy', [
      {
        id: 'mail',
        when: { all: [{ segment: 'inner' }, { attr: 'email', op: 'matches', value: HALF_BUDGET_PATTERN }] },
        serve: { variant: 'on' },
      },
    ]),
  );
  const versionBefore = t.app.dimmer.hub.get('production')?.version;
  const auditBefore = (await t.admin('GET', '/api/v1/audit?resourceType=segment')).json.entries.length;

  // 250 more nodes in inner: "big" would visit 2,059 nodes.
  const tooBig = await t.admin('PUT', '/api/v1/segments/inner', { when: { any: leaves('t', 250) } });
  expect(tooBig.status).toBe(400);
  expect(tooBig.json.error.code).toBe('VALIDATION_FAILED');
  const bigIssue = tooBig.json.error.details.issues[0];
  expect(bigIssue.path).toBe('when');
  expect(bigIssue.message).toContain('flag "big"');
  expect(bigIssue.message).toContain('environment "production"');
  expect(bigIssue.message).toContain(`at most ${MAX_EVALUATION_NODES} condition nodes`);
  expect(bigIssue.message).toContain('got 2059');

  // A pattern in inner: "regexy" would run two patterns over the regex budget.
  const tooMuchRegex = await t.admin('PUT', '/api/v1/segments/inner', {
    when: { attr: 'email', op: 'matches', value: HALF_BUDGET_PATTERN.replace('@', '\\.') },
  });
  expect(tooMuchRegex.status).toBe(400);
  const regexIssue = tooMuchRegex.json.error.details.issues[0];
  expect(regexIssue.message).toContain('flag "regexy"');
  expect(regexIssue.message).toContain(`at most ${MAX_EVALUATION_REGEX_PROGRAM} RE2 instructions`);

  // Nothing changed: the segment, the served config and the audit log.
  const inner = await t.admin('GET', '/api/v1/segments/inner');
  expect(inner.json.when).toEqual(innerWhen);
  expect(inner.json.version).toBe(1);
  expect(t.app.dimmer.hub.get('production')?.version).toBe(versionBefore);
  expect((await t.admin('GET', '/api/v1/audit?resourceType=segment')).json.entries).toHaveLength(auditBefore);

  // Within the budget (1,909 nodes for "big", no pattern): saved and served.
  const fits = await t.admin('PUT', '/api/v1/segments/inner', { when: { any: leaves('t', 100) } });
  expect(fits.status, JSON.stringify(fits.json)).toBe(200);
  const served = t.app.dimmer.hub.get('production')?.snapshot;
  expect(served?.segments.find((s) => s.key === 'inner')?.when).toEqual({ any: leaves('t', 100) });
}
