/**
 * The server the SDK end-to-end tests talk to over real HTTP on 127.0.0.1: the full Dimmer server with
 * SQLite storage in a temporary directory. Flags are created through the admin API and client keys
 * through /api/v1/keys, as an operator would.
 */
import type { FlagConfig } from '@dimmer/core';
import { createTestServer, type TestServer } from '../src/server.ts';

/** Environment A and B of the tests: two of the server's default environments. */
export const ENV_A = 'production';
export const ENV_B = 'development';
/** The origin the browser key allows. */
export const E2E_ORIGIN = 'https://app.example.com';

export interface E2eTarget {
  baseUrl: string;
  /** Client keys: a server and a browser key of environment A, a server key of environment B. */
  keys: { serverA: string; browserA: string; serverB: string };
  origin: string;
  /** Changes the value served for `banner-text` (a new config version in environment A); returns that version. */
  changeBannerText(text: string): Promise<number>;
  /** Number of live config subscriptions of environment A. */
  subscriptionCount(): number;
  close(): Promise<void>;
}

type FlagInput = Omit<FlagConfig, 'salt' | 'hashVersion'>;

const on = (rules: FlagConfig['environments'][string]['rules'] = []) => ({ enabled: true, rules });

/** The flags of the tests: one per kind, a rule, a rollout, a disabled flag and one that differs per environment. */
export const E2E_FLAGS: FlagInput[] = [
  {
    key: 'new-checkout',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'on',
    environments: { [ENV_A]: on() },
  },
  {
    key: 'banner-text',
    kind: 'string',
    variants: { plain: 'Welcome', staff: 'Hello, colleague' },
    defaultVariant: 'plain',
    environments: {
      [ENV_A]: on([
        {
          id: 'staff',
          when: { attr: 'email', op: 'ends_with', value: '@acme.com' },
          serve: { variant: 'staff' },
        },
      ]),
    },
  },
  {
    key: 'max-items',
    kind: 'number',
    variants: { few: 3, many: 50 },
    defaultVariant: 'many',
    environments: { [ENV_A]: on() },
  },
  {
    key: 'theme',
    kind: 'object',
    variants: { light: { color: 'white', dense: false } },
    defaultVariant: 'light',
    environments: { [ENV_A]: on() },
  },
  {
    key: 'search-v2',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: {
      [ENV_A]: on([
        {
          id: 'rollout',
          rollout: 'ro_1',
          serve: {
            split: [
              { variant: 'on', range: [0, 500_000], arm: 'treatment' },
              { variant: 'off', range: [500_000, 1_000_000], arm: 'control' },
            ],
          },
        },
      ]),
    },
  },
  {
    key: 'legacy-export',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: { [ENV_A]: { enabled: false, rules: [] } },
  },
  {
    key: 'region-label',
    kind: 'string',
    variants: { a: 'served in A', b: 'served in B' },
    defaultVariant: 'a',
    environments: { [ENV_A]: on(), [ENV_B]: on([{ id: 'all', serve: { variant: 'b' } }]) },
  },
];

async function expectOk(response: Response, what: string): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${what} failed with ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Starts the full server (SQLite in a temp dir) with stream heartbeats every `heartbeatMs` milliseconds. */
export async function startE2eTarget(heartbeatMs = 15_000): Promise<E2eTarget> {
  const server: TestServer = await createTestServer({
    storage: 'sqlite',
    config: { streamHeartbeatMs: heartbeatMs },
  });
  try {
    for (const flag of E2E_FLAGS) {
      await expectOk(
        await server.adminFetch('/api/v1/flags', { method: 'POST', body: JSON.stringify(flag) }),
        `create ${flag.key}`,
      );
    }
    const createKey = async (environment: string, kind: 'server' | 'browser') => {
      const body = {
        name: `${kind} ${environment}`,
        environment,
        kind,
        allowedOrigins: kind === 'browser' ? [E2E_ORIGIN] : [],
      };
      const created = await expectOk(
        await server.adminFetch('/api/v1/keys', { method: 'POST', body: JSON.stringify(body) }),
        'create key',
      );
      return created.secret as string;
    };
    const keys = {
      serverA: await createKey(ENV_A, 'server'),
      browserA: await createKey(ENV_A, 'browser'),
      serverB: await createKey(ENV_B, 'server'),
    };

    // Count environment A's subscriptions by wrapping the hub the SDK routes hold.
    const hub = server.app.dimmer.hub;
    const subscribe = hub.subscribe.bind(hub);
    let subscriptions = 0;
    hub.subscribe = (environment, listener) => {
      const unsubscribe = subscribe(environment, listener);
      if (environment !== ENV_A) return unsubscribe;
      subscriptions += 1;
      let active = true;
      return () => {
        if (active) subscriptions -= 1;
        active = false;
        unsubscribe();
      };
    };

    return {
      baseUrl: server.url,
      keys,
      origin: E2E_ORIGIN,
      async changeBannerText(text) {
        const before = hub.get(ENV_A)?.version;
        const patch = { variants: { plain: text, staff: 'Hello, colleague' } };
        await expectOk(
          await server.adminFetch('/api/v1/flags/banner-text', {
            method: 'PATCH',
            body: JSON.stringify(patch),
          }),
          'change banner-text',
        );
        const state = hub.get(ENV_A);
        if (state === undefined || state.version === before)
          throw new Error(`no new config version in ${ENV_A}`);
        return state.version;
      },
      subscriptionCount: () => subscriptions,
      close: () => server.close(),
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
