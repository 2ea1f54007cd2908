/**
 * The same logical flag in each system: one targeting rule (country in [SE, NO] and plan = premium → on)
 * and a 10% rollout by user id for everyone else. Each factory returns a function evaluating one user.
 */
import { GrowthBookClient } from '@growthbook/growthbook';
import { FlagdCore } from '@openfeature/flagd-core';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { compileConfig, evaluate, type SnapshotFlag } from '../src/index.ts';

export const FLAG_KEY = 'bench-flag';
export const SYSTEMS = ['dimmer', 'flagd-core', 'growthbook', 'unleash'] as const;
export type SystemName = (typeof SYSTEMS)[number];

const COUNTRIES = ['SE', 'NO', 'DK', 'US', 'DE'] as const;

/** The attributes of user number `i` in a population: a fixed mix of countries and plans. */
export function userAttributes(i: number): { country: string; plan: string } {
  return {
    country: COUNTRIES[i % COUNTRIES.length] as string,
    plan: (i >> 3) % 2 === 1 ? 'premium' : 'free',
  };
}

/** A prepared system: `context(id, i)` builds that system's context for a user; `isOn` evaluates the flag. */
export interface BenchSystem<C> {
  context(id: string, i: number): C;
  isOn(context: C): boolean;
  close(): void;
}

export const dimmerFlag: SnapshotFlag = {
  key: FLAG_KEY,
  kind: 'boolean',
  variants: { off: false, on: true },
  defaultVariant: 'off',
  salt: 'bench-salt-7f3a',
  hashVersion: 1,
  enabled: true,
  rules: [
    {
      id: 'nordic-premium',
      when: {
        all: [
          { attr: 'country', op: 'in', value: ['SE', 'NO'] },
          { attr: 'plan', op: 'eq', value: 'premium' },
        ],
      },
      serve: { variant: 'on' },
    },
    {
      id: 'rollout',
      rollout: 'ro_bench',
      serve: {
        split: [
          { variant: 'on', range: [0, 100_000], arm: 'treatment' },
          { variant: 'off', range: [100_000, 1_000_000], arm: 'control' },
        ],
      },
    },
  ],
};

function dimmer(): BenchSystem<Record<string, string>> {
  const compiled = compileConfig({ environment: 'bench', version: 1, flags: [dimmerFlag], segments: [] });
  if (compiled.issues.length > 0) throw new Error(JSON.stringify(compiled.issues));
  return {
    context: (id, i) => ({ targetingKey: id, ...userAttributes(i) }),
    isOn: (ctx) => evaluate(compiled, FLAG_KEY, ctx).value === true,
    close: () => {},
  };
}

function flagd(): BenchSystem<Record<string, string>> {
  const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
  const core = new FlagdCore(undefined, silent);
  core.setConfigurations(
    JSON.stringify({
      flags: {
        [FLAG_KEY]: {
          state: 'ENABLED',
          variants: { on: true, off: false },
          defaultVariant: 'off',
          targeting: {
            if: [
              { and: [{ in: [{ var: 'country' }, ['SE', 'NO']] }, { '==': [{ var: 'plan' }, 'premium'] }] },
              'on',
              {
                fractional: [
                  ['on', 10],
                  ['off', 90],
                ],
              },
            ],
          },
        },
      },
    }),
  );
  return {
    context: (id, i) => ({ targetingKey: id, ...userAttributes(i) }),
    isOn: (ctx) => core.resolveBooleanEvaluation(FLAG_KEY, false, ctx, silent).value === true,
    close: () => {},
  };
}

function growthbook(): BenchSystem<{ attributes: Record<string, string> }> {
  const client = new GrowthBookClient().initSync({
    payload: {
      features: {
        [FLAG_KEY]: {
          defaultValue: false,
          rules: [
            { condition: { country: { $in: ['SE', 'NO'] }, plan: 'premium' }, force: true },
            { force: true, coverage: 0.1, hashAttribute: 'id' },
          ],
        },
      },
    },
  });
  return {
    context: (id, i) => ({ attributes: { id, ...userAttributes(i) } }),
    isOn: (ctx) => client.isOn(FLAG_KEY, ctx),
    close: () => client.destroy(),
  };
}

async function unleash(): Promise<BenchSystem<{ userId: string; properties: Record<string, string> }>> {
  const client = new Unleash({
    url: 'http://127.0.0.1:9/api', // nothing listens: the client runs on its bootstrap only
    appName: 'dimmer-bench',
    disableMetrics: true,
    refreshInterval: 0,
    storageProvider: new InMemStorageProvider(),
    bootstrapOverride: true,
    bootstrap: {
      data: [
        {
          name: FLAG_KEY,
          enabled: true,
          type: 'release',
          project: 'default',
          stale: false,
          impressionData: false,
          variants: [],
          strategies: [
            {
              name: 'default',
              parameters: {},
              constraints: [
                { contextName: 'country', operator: 'IN', values: ['SE', 'NO'] },
                { contextName: 'plan', operator: 'IN', values: ['premium'] },
              ],
            },
            {
              name: 'flexibleRollout',
              parameters: { rollout: '10', stickiness: 'userId', groupId: FLAG_KEY },
              constraints: [],
            },
          ],
        },
      ] as never,
    },
  });
  client.on('error', () => {});
  client.on('warn', () => {});
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    client.once('ready', done);
    client.once('synchronized', done);
    setTimeout(done, 3000);
  });
  return {
    context: (id, i) => ({ userId: id, properties: userAttributes(i) }),
    isOn: (ctx) => client.isEnabled(FLAG_KEY, ctx),
    close: () => client.destroy(),
  };
}

/** Builds one system, ready to evaluate. */
export async function createSystem(name: SystemName): Promise<BenchSystem<unknown>> {
  switch (name) {
    case 'dimmer':
      return dimmer() as BenchSystem<unknown>;
    case 'flagd-core':
      return flagd() as BenchSystem<unknown>;
    case 'growthbook':
      return growthbook() as BenchSystem<unknown>;
    case 'unleash':
      return (await unleash()) as BenchSystem<unknown>;
  }
}
