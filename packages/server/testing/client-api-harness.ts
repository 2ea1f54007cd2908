/**
 * Test harness for the SDK and OFREP routes: a Fastify app with only these routes, an in-memory config
 * hub over hand-written snapshots and a fixed key table. Used by unit tests only (end-to-end tests and
 * the benchmark run the full server); never by production code.
 */
import { compileConfig, type EnvironmentSnapshot, type EvaluationResult } from '@dimmer/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerSdkRoutes } from '../src/client-api/client-api.routes.ts';
import type { ClientPrincipal, ConfigHub, ConfigState, SdkDeps } from '../src/client-deps.ts';
import { installErrorHandlers } from '../src/http/error-handler.ts';
import { installJsonParser } from '../src/http/json-body.ts';
import { installRateLimit } from '../src/http/rate-limit.ts';
import { registerOfrepRoutes } from '../src/ofrep/ofrep.routes.ts';
import { registerResolveRoutes } from '../src/resolve/resolve.routes.ts';

/** The fixed clock of the harness, in epoch milliseconds. */
export const HARNESS_NOW = Date.UTC(2025, 0, 1);

/** A config hub over snapshots held in memory; `publish` swaps an environment's config and notifies. */
export class MemoryConfigHub implements ConfigHub {
  readonly #states = new Map<string, ConfigState>();
  readonly #listeners = new Map<string, Set<(state: ConfigState) => void>>();

  constructor(snapshots: readonly EnvironmentSnapshot[]) {
    for (const snapshot of snapshots) this.#states.set(snapshot.environment, toState(snapshot));
  }

  get(environment: string): ConfigState | undefined {
    return this.#states.get(environment);
  }

  subscribe(environment: string, listener: (state: ConfigState) => void): () => void {
    let set = this.#listeners.get(environment);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(environment, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Number of live subscriptions of an environment (to check that streams clean up). */
  listenerCount(environment: string): number {
    return this.#listeners.get(environment)?.size ?? 0;
  }

  /** Installs a new config version and notifies the subscribers of its environment. */
  publish(snapshot: EnvironmentSnapshot): ConfigState {
    const state = toState(snapshot);
    this.#states.set(snapshot.environment, state);
    for (const listener of this.#listeners.get(snapshot.environment) ?? []) listener(state);
    return state;
  }
}

function toState(snapshot: EnvironmentSnapshot): ConfigState {
  return {
    environment: snapshot.environment,
    version: snapshot.version,
    snapshot,
    compiled: compileConfig(snapshot),
    etag: `"${snapshot.environment}-${snapshot.version}"`,
    committedAt: HARNESS_NOW,
  };
}

/** Raw client keys of the harness. */
export const HARNESS_KEYS = {
  serverProduction: 'dk_server_production_0123456789abcdef',
  browserProduction: 'dk_browser_production_0123456789abcdef',
  serverStaging: 'dk_server_staging_0123456789abcdef',
} as const;

/** The origin the harness's browser key allows. */
export const HARNESS_ORIGIN = 'https://app.example.com';

const PRINCIPALS: Record<string, ClientPrincipal> = {
  [HARNESS_KEYS.serverProduction]: {
    keyId: 'k1',
    environment: 'production',
    kind: 'server',
    allowedOrigins: [],
  },
  [HARNESS_KEYS.browserProduction]: {
    keyId: 'k2',
    environment: 'production',
    kind: 'browser',
    allowedOrigins: [HARNESS_ORIGIN],
  },
  [HARNESS_KEYS.serverStaging]: { keyId: 'k3', environment: 'staging', kind: 'server', allowedOrigins: [] },
};

/** The production snapshot of the harness: one flag per kind, a rollout, a disabled and a rule-driven flag. */
export function productionSnapshot(
  version = 1,
  overrides: Partial<{ bannerText: string }> = {},
): EnvironmentSnapshot {
  const base = { salt: 'a1b2c3d4e5f60718', hashVersion: 1 as const, enabled: true };
  return {
    environment: 'production',
    version,
    flags: [
      {
        ...base,
        key: 'new-checkout',
        kind: 'boolean',
        variants: { off: false, on: true },
        defaultVariant: 'on',
        rules: [],
      },
      {
        ...base,
        key: 'banner-text',
        kind: 'string',
        variants: { plain: overrides.bannerText ?? 'Welcome', staff: 'Hello, colleague' },
        defaultVariant: 'plain',
        rules: [
          {
            id: 'staff',
            when: { attr: 'email', op: 'ends_with', value: '@acme.com' },
            serve: { variant: 'staff' },
          },
        ],
      },
      {
        ...base,
        key: 'max-items',
        kind: 'number',
        variants: { few: 3, many: 50 },
        defaultVariant: 'many',
        rules: [],
      },
      {
        ...base,
        key: 'theme',
        kind: 'object',
        variants: { light: { color: 'white', dense: false } },
        defaultVariant: 'light',
        rules: [],
      },
      {
        ...base,
        key: 'search-v2',
        kind: 'boolean',
        variants: { off: false, on: true },
        defaultVariant: 'off',
        rules: [
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
        ],
      },
      {
        ...base,
        key: 'legacy-export',
        kind: 'boolean',
        variants: { off: false, on: true },
        defaultVariant: 'off',
        enabled: false,
        rules: [],
      },
    ],
    segments: [{ key: 'internal', when: { attr: 'email', op: 'ends_with', value: '@acme.com' } }],
  };
}

/** The staging snapshot of the harness: a flag production does not have. */
export function stagingSnapshot(version = 1): EnvironmentSnapshot {
  return {
    environment: 'staging',
    version,
    flags: [
      {
        key: 'staging-only',
        kind: 'boolean',
        variants: { off: false, on: true },
        defaultVariant: 'on',
        salt: '0f0e0d0c0b0a0908',
        hashVersion: 1,
        enabled: true,
        rules: [],
      },
    ],
    segments: [],
  };
}

export interface SdkTestHarness {
  app: FastifyInstance;
  hub: MemoryConfigHub;
  deps: SdkDeps;
  /** Every exposure report received, in order. */
  exposures: Array<{ principal: ClientPrincipal; unit: string | undefined; results: EvaluationResult[] }>;
}

export interface HarnessOptions {
  streamHeartbeatMs?: number;
  /** The client gate's budget per key and route, of both kinds (default: the server's defaults). */
  rateLimitPerMinute?: number;
  logger?: boolean;
}

/** Builds a ready Fastify app with the SDK, resolve and OFREP routes over the harness hub and keys. */
export async function createSdkTestHarness(options: HarnessOptions = {}): Promise<SdkTestHarness> {
  const hub = new MemoryConfigHub([productionSnapshot(), stagingSnapshot()]);
  const exposures: SdkTestHarness['exposures'] = [];
  const deps: SdkDeps = {
    hub,
    authenticateClientKey: async (rawKey) => PRINCIPALS[rawKey] ?? null,
    exposures: (principal, context, results) => exposures.push({ principal, unit: context.unit, results }),
    now: () => HARNESS_NOW,
    streamHeartbeatMs: options.streamHeartbeatMs ?? 15_000,
  };
  const app = Fastify({ logger: options.logger === true ? { level: 'warn' } : false });
  installErrorHandlers(app);
  installJsonParser(app);
  const perMinute = options.rateLimitPerMinute;
  installRateLimit(
    app,
    perMinute === undefined ? {} : { serverKeyPerMinute: perMinute, browserKeyPerMinute: perMinute },
    deps.authenticateClientKey,
  );
  await registerSdkRoutes(app, deps);
  await registerResolveRoutes(app, deps);
  await registerOfrepRoutes(app, deps);
  await app.ready();
  return { app, hub, deps, exposures };
}
