/** Rule edits other features make on a flag document (rollouts and experiments own one rule each). */
import type { FlagConfig, Rule } from '@dimmer/core';

/**
 * Puts (replacing in place), appends or removes (`rule` null) the rule `ruleId` of a flag's environment; returns
 * the new document and whether it changed. The input document is not modified.
 */
export function withRule(
  flag: FlagConfig,
  environment: string,
  ruleId: string,
  rule: Rule | null,
): { document: FlagConfig; changed: boolean } {
  const document: FlagConfig = structuredClone(flag);
  const env = document.environments[environment] ?? { enabled: true, rules: [] };
  const at = env.rules.findIndex((r) => r.id === ruleId);
  const before = at >= 0 ? JSON.stringify(env.rules[at]) : null;
  if (rule === null) {
    if (at >= 0) env.rules.splice(at, 1);
  } else if (at >= 0) env.rules[at] = rule;
  else env.rules.push(rule);
  document.environments[environment] = env;
  return { document, changed: before !== (rule === null ? null : JSON.stringify(rule)) };
}
