/** The flag set and users the SDK benchmarks evaluate: targeting rules, splits, a rollout and static flags. */
import type { EnvironmentSnapshot, EvaluationContext, SnapshotFlag } from '@dimmer/core';

/** Number of flags in the benchmark snapshot. */
export const FLAG_COUNT = 20;
/** Distinct users the benchmark cycles through. */
export const USER_COUNT = 10_000;

function flag(i: number): SnapshotFlag {
  const key = `flag-${i}`;
  const base = {
    key,
    kind: 'boolean' as const,
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: `salt-${i}`,
    hashVersion: 1 as const,
    enabled: true,
  };
  switch (i % 4) {
    case 0:
      return { ...base, rules: [] };
    case 1:
      return {
        ...base,
        rules: [
          {
            id: 'staff',
            when: { attr: 'email', op: 'ends_with', value: '@acme.test' },
            serve: { variant: 'on' },
          },
          {
            id: 'nordics',
            when: { attr: 'country', op: 'in', value: ['SE', 'NO', 'FI'] },
            serve: { split: [{ variant: 'on', range: [0, 250_000] }] },
          },
        ],
      };
    case 2:
      return {
        ...base,
        rules: [
          {
            id: 'rollout',
            rollout: `ro_${i}`,
            serve: {
              split: [
                { variant: 'on', range: [0, 100_000], arm: 'treatment' },
                { variant: 'off', range: [100_000, 1_000_000], arm: 'control' },
              ],
            },
          },
        ],
      };
    default:
      return {
        ...base,
        rules: [
          {
            id: 'half',
            serve: {
              split: [
                { variant: 'on', range: [0, 500_000] },
                { variant: 'off', range: [500_000, 1_000_000] },
              ],
            },
          },
        ],
      };
  }
}

export function benchSnapshot(version = 1): EnvironmentSnapshot {
  return {
    environment: 'production',
    version,
    segments: [],
    flags: Array.from({ length: FLAG_COUNT }, (_, i) => flag(i)),
  };
}

const COUNTRIES = ['SE', 'US', 'DE', 'NO', 'FR'];

export function benchUsers(): EvaluationContext[] {
  return Array.from({ length: USER_COUNT }, (_, i) => ({
    targetingKey: `user-${i}`,
    email: i % 10 === 0 ? `u${i}@acme.test` : `u${i}@example.com`,
    country: COUNTRIES[i % COUNTRIES.length] as string,
  }));
}
