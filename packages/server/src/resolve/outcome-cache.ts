/**
 * The JSON text of evaluation outcomes that do not depend on the context, kept per config version: a flag
 * served variant `on` by rule `nordics` reads the same for every context, so remote evaluation writes that
 * text once per version instead of once per request.
 */
import type { EvaluationResult } from '@dimmer/core';
import type { ConfigState } from '../client-deps.ts';

/** Most outcome texts kept per flag and version (variants × rules × reasons is far less in any real flag). */
export const MAX_OUTCOMES_PER_FLAG = 64;

interface Cached {
  variant: string | undefined;
  reason: string;
  ruleId: string | undefined;
  /** The value the text was written for: a result with another value (same variant) is written afresh. */
  value: unknown;
  text: string;
}

/**
 * Outcome texts by config version (a version no longer held is dropped with it), then by flag, then by variant,
 * reason, rule and value, compared by identity (they are the config's own strings and values, so this is a
 * pointer comparison, not a string built and hashed per result). Only results without an error or an error
 * message are kept (a message, such as a rule skipped for want of a unit, depends on the context): their text
 * depends on nothing else. At most MAX_OUTCOMES_PER_FLAG are kept per flag.
 */
export class OutcomeJsonCache {
  readonly #byVersion = new WeakMap<ConfigState, Map<string, Cached[]>>();

  /** The text `write(result)` gives, from the cache when this outcome of `state` was written before. */
  text(state: ConfigState, result: EvaluationResult, write: (result: EvaluationResult) => string): string {
    if (result.errorCode !== undefined || result.errorMessage !== undefined || result.value === undefined)
      return write(result);
    let byFlag = this.#byVersion.get(state);
    if (byFlag === undefined) {
      byFlag = new Map();
      this.#byVersion.set(state, byFlag);
    }
    let outcomes = byFlag.get(result.flagKey);
    if (outcomes === undefined) {
      outcomes = [];
      byFlag.set(result.flagKey, outcomes);
    }
    for (const cached of outcomes) {
      if (
        cached.variant === result.variant &&
        cached.reason === result.reason &&
        cached.ruleId === result.ruleId &&
        cached.value === result.value
      )
        return cached.text;
    }
    const text = write(result);
    if (outcomes.length < MAX_OUTCOMES_PER_FLAG)
      outcomes.push({
        variant: result.variant,
        reason: result.reason,
        ruleId: result.ruleId,
        value: result.value,
        text,
      });
    return text;
  }
}
