/**
 * The JSON text of evaluation outcomes that do not depend on the context, kept per config version: a flag
 * served variant `on` by rule `nordics` reads the same for every context, so remote evaluation writes that
 * text once per version instead of once per request.
 */
import type { EvaluationResult } from '@dimmer/core';
import type { ConfigState } from '../client-deps.ts';

interface Cached {
  /** The value the text was written for: a result with another value (same variant) is written afresh. */
  value: unknown;
  text: string;
}

/**
 * Outcome texts by config version (a version no longer held is dropped with it) and by flag, variant, reason
 * and rule. Only results without an error or an error message are kept (a message, such as a rule skipped for
 * want of a unit, depends on the context): their text depends on nothing but these and the value.
 * The entries of one version are bounded by its flags, variants and rules.
 */
export class OutcomeJsonCache {
  readonly #byVersion = new WeakMap<ConfigState, Map<string, Cached>>();

  /** The text `write(result)` gives, from the cache when this outcome of `state` was written before. */
  text(state: ConfigState, result: EvaluationResult, write: (result: EvaluationResult) => string): string {
    if (result.errorCode !== undefined || result.errorMessage !== undefined || result.value === undefined)
      return write(result);
    let texts = this.#byVersion.get(state);
    if (texts === undefined) {
      texts = new Map();
      this.#byVersion.set(state, texts);
    }
    const id = `${result.flagKey}\n${result.variant}\n${result.reason}\n${result.ruleId}`;
    const cached = texts.get(id);
    if (cached !== undefined && cached.value === result.value) return cached.text;
    const text = write(result);
    texts.set(id, { value: result.value, text });
    return text;
  }
}
