/**
 * Request bodies of a release under four-eyes review, shared by the tests of approvals: a guardrail metric,
 * a surface that requires one approval in production, a flag on it, and a manual rollout plan of that flag.
 */
import type { BodyOf } from '@dimmer/api';

export const REVIEWED_METRIC: BodyOf<'createMetric'> = {
  key: 'crash_rate',
  kind: 'proportion',
  event: 'crash',
  direction: 'higher_is_worse',
  category: 'reliability',
  margin: 0.05,
};

export const REVIEWED_SURFACE: BodyOf<'createSurface'> = {
  key: 'checkout',
  guardrails: [{ metric: 'crash_rate' }],
  approvals: { required: 1, environments: ['production'] },
};

export const REVIEWED_FLAG: BodyOf<'createFlag'> = {
  key: 'one-page-checkout',
  kind: 'boolean',
  surface: 'checkout',
  variants: { off: false, on: true },
  defaultVariant: 'off',
  environments: { production: { enabled: true, rules: [] } },
};

/** A manual rollout plan of the reviewed flag in production, under the id given. */
export function reviewedRolloutPlan(id: string): BodyOf<'createRollout'> {
  return {
    id,
    flag: 'one-page-checkout',
    environment: 'production',
    treatment: 'on',
    control: 'off',
    mode: 'manual',
    stages: [
      { reach: 5, minDuration: '1h' },
      { reach: 50, minDuration: '1h' },
      { reach: 100, minDuration: '1h' },
    ],
    guardrails: [{ metric: 'crash_rate' }],
  };
}
