/**
 * Rules owned by rollouts: a rollout that is running, paused, holding or rolled back owns one rule of its
 * flag's environment, and only the rollout's actions may change it. Flag writes are checked here: the owned rule
 * must come back exactly as the rollout wrote it, and (while the rollout is monitored) still be reachable.
 */
import { BUCKET_COUNT, type FlagConfig, type Rule } from '@dimmer/core';
import { AppError } from '../errors.ts';
import { stableStringify } from './split-preview.ts';

/** A rule a rollout owns, as the rollout's state says it must read. */
export interface OwnedRule {
  rollout: string;
  environment: string;
  /** The rollout's status (running, paused, holding, rolled_back). */
  state: string;
  /** True while the controller looks at the rollout (running, paused, holding). */
  monitored: boolean;
  rule: Rule;
}

/** What disabling or archiving a flag does to a monitored rollout on it. */
export type RolloutRelease = 'pause' | 'rollback';

/** The port flags use to protect rollouts (the rollouts feature implements it; the composition root wires it). */
export interface RolloutGuard {
  /** Rules owned by the flag's rollouts that are running, paused, holding or rolled back. */
  ownedRules(flag: string): Promise<OwnedRule[]>;
  /** Pauses or rolls back a rollout (a person's action, audited as `actor`); a no-op when it already is. */
  release(rollout: string, action: RolloutRelease, actor: string): Promise<void>;
}

/** True when `rule` serves every unit that reaches it: no condition, and one variant or a split over all buckets. */
export function servesEveryone(rule: Rule): boolean {
  if (rule.when !== undefined) return false;
  if ('variant' in rule.serve) return true;
  if (rule.bucketBy !== undefined) return false;
  const ranges = rule.serve.split.map((s) => s.range).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [start, end] of ranges) {
    if (start > covered) return false;
    covered = Math.max(covered, end);
  }
  return covered >= BUCKET_COUNT;
}

/** The first rule before `ruleId` that serves everyone (so no unit reaches `ruleId`), if any. */
export function blockingRule(rules: readonly Rule[], ruleId: string): Rule | undefined {
  for (const rule of rules) {
    if (rule.id === ruleId) return undefined;
    if (servesEveryone(rule)) return rule;
  }
  return undefined;
}

/**
 * CONFLICT when `next` removes or changes a rule a rollout owns, or (while the rollout is monitored) puts a rule
 * that serves everyone before it; null when every owned rule is carried unchanged and reachable.
 */
export function ownedRuleProblem(next: FlagConfig, owned: readonly OwnedRule[]): AppError | null {
  for (const o of owned) {
    const rules = next.environments[o.environment]?.rules ?? [];
    const path = `environments.${o.environment}.rules`;
    const at = rules.findIndex((r) => r.id === o.rule.id);
    const where = `rule "${o.rule.id}" in ${o.environment} belongs to rollout ${o.rollout} (${o.state.replace('_', ' ')})`;
    const details = { rollout: o.rollout, rule: o.rule.id, environment: o.environment };
    if (at < 0 || stableStringify(rules[at]) !== stableStringify(o.rule))
      return new AppError(
        'CONFLICT',
        `${where}: this write ${at < 0 ? 'removes' : 'changes'} it; only the rollout's actions (pause, resume, rollback, advance, complete) change that rule. Reload the flag and keep the rule as it is.`,
        {
          ...details,
          issues: [{ path: at < 0 ? path : `${path}[${at}]`, message: `${where} and must stay as it is` }],
        },
      );
    const blocker = o.monitored ? blockingRule(rules, o.rule.id) : undefined;
    if (blocker !== undefined)
      return new AppError(
        'CONFLICT',
        `${where}: rule "${blocker.id}" before it serves everyone, so the rollout would reach no one`,
        { ...details, issues: [{ path, message: `rule "${blocker.id}" hides the rollout's rule` }] },
      );
  }
  return null;
}
