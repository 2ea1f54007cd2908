/** Snapshots shared by the SDK tests. */
import type { EnvironmentSnapshot, SnapshotFlag } from '@dimmer/core';

/** A rollout flag: treatment `on` for buckets [0, reach), control `off` above. */
export function rolloutFlag(reachBuckets: number): SnapshotFlag {
  return {
    key: 'new-checkout',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: 'salt-new-checkout',
    hashVersion: 1,
    enabled: true,
    rules: [
      {
        id: 'rollout',
        rollout: 'ro_1',
        serve: {
          split: [
            { variant: 'on', range: [0, reachBuckets], arm: 'treatment' },
            { variant: 'off', range: [reachBuckets, 1_000_000], arm: 'control' },
          ],
        },
      },
    ],
  };
}

/** A snapshot with one flag of every kind, a rollout flag and an experiment bucketed by `deviceId`. */
export function makeSnapshot(
  version: number,
  overrides: { banner?: string; reach?: number } = {},
): EnvironmentSnapshot {
  return {
    environment: 'production',
    version,
    segments: [{ key: 'staff', when: { attr: 'email', op: 'ends_with', value: '@acme.test' } }],
    flags: [
      rolloutFlag(overrides.reach ?? 500_000),
      {
        key: 'banner',
        kind: 'string',
        variants: { red: 'red', blue: 'blue', green: 'green' },
        defaultVariant: 'red',
        salt: 'salt-banner',
        hashVersion: 1,
        enabled: true,
        rules: [
          { id: 'staff', when: { segment: 'staff' }, serve: { variant: 'green' } },
          { id: 'all', serve: { variant: overrides.banner ?? 'blue' } },
        ],
      },
      {
        key: 'limit',
        kind: 'number',
        variants: { low: 10, high: 100 },
        defaultVariant: 'low',
        salt: 'salt-limit',
        hashVersion: 1,
        enabled: true,
        overrides: { 'user-vip': 'high' },
        rules: [],
      },
      {
        key: 'theme',
        kind: 'object',
        variants: { light: { mode: 'light', contrast: 1 }, dark: { mode: 'dark', contrast: 2 } },
        defaultVariant: 'light',
        salt: 'salt-theme',
        hashVersion: 1,
        enabled: true,
        rules: [],
      },
      {
        key: 'device-exp',
        kind: 'boolean',
        variants: { a: false, b: true },
        defaultVariant: 'a',
        salt: 'salt-device-exp',
        hashVersion: 1,
        enabled: true,
        rules: [
          {
            id: 'exp',
            experiment: 'ex_1',
            bucketBy: 'deviceId',
            serve: {
              split: [
                { variant: 'a', range: [0, 500_000] },
                { variant: 'b', range: [500_000, 1_000_000] },
              ],
            },
          },
        ],
      },
    ],
  };
}
