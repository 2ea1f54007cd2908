/**
 * Rules owned by a rollout (those with a `rollout` id) are not a person's to edit: the editor shows them
 * read-only and puts them back on save at the same distance from the end of the list (pure).
 */
import type { Rule } from '@dimmer/core';

/** A rule owned by a rollout and how many rules followed it. */
export interface LockedRule {
  index: number;
  fromEnd: number;
  rule: Rule;
}

/** The rules a person edits, and the rollout-owned ones set aside. */
export function splitLockedRules(rules: readonly Rule[]): { editable: Rule[]; locked: LockedRule[] } {
  const editable: Rule[] = [];
  const locked: LockedRule[] = [];
  rules.forEach((rule, index) => {
    if (rule.rollout !== undefined) locked.push({ index, fromEnd: rules.length - 1 - index, rule });
    else editable.push(rule);
  });
  return { editable, locked };
}

/**
 * The edited rules with the locked ones put back, each with as many rules after it as before the edit (a
 * rollout rule covers every unit, so rules added in front of it stay in front of it).
 */
export function mergeLockedRules(edited: readonly Rule[], locked: readonly LockedRule[]): Rule[] {
  const out = [...edited];
  for (const { fromEnd, rule } of [...locked].sort((a, b) => a.fromEnd - b.fromEnd))
    out.splice(Math.max(0, out.length - fromEnd), 0, rule);
  return out;
}
