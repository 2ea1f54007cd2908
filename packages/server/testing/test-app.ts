/**
 * Test support: an app over in-memory stores with a stepping clock and a known admin token, plus
 * small request helpers for `app.inject`. Used by this package's unit tests only.
 */
import type { FastifyInstance } from 'fastify';
import { type AppConfig, buildApp } from '../src/app.ts';
import type { Clock } from '../src/clock.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../src/secrets.ts';
import type { Stores } from '../src/stores.ts';
import { createMemoryStores } from '../src/stores.ts';

/** The first instant of the test clock, epoch milliseconds. */
export const TEST_T0 = Date.UTC(2025, 0, 1);

/** A clock that advances by one second on every read. */
export function steppingClock(start = TEST_T0): Clock & { set(ms: number): void } {
  let t = start;
  return {
    now: () => {
      t += 1_000;
      return t;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

/** A parsed JSON reply or document, read by value in tests. */
// biome-ignore lint/suspicious/noExplicitAny: tests read JSON replies by value and assert on them
export type Json = any;

export interface TestApp {
  app: FastifyInstance;
  stores: Stores;
  adminToken: string;
  clock: Clock & { set(ms: number): void };
  /** Sends a request with the admin token and a JSON body. */
  admin(method: string, url: string, body?: unknown): Promise<{ status: number; json: Json }>;
  close(): Promise<void>;
}

/** A clock that stays where it is set. */
export function manualClock(start = TEST_T0): Clock & { set(ms: number): void; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Builds an app over `stores` (fresh in-memory ones by default). */
export async function buildTestApp(
  options: {
    stores?: Stores;
    config?: Partial<AppConfig>;
    adminToken?: string;
    clock?: Clock & { set(ms: number): void };
    /** Leave the stores open on close (when several apps share them). */
    keepStores?: boolean;
  } = {},
): Promise<TestApp> {
  const stores = options.stores ?? createMemoryStores();
  const adminToken = options.adminToken ?? generateSecret(ADMIN_TOKEN_PREFIX);
  const clock = options.clock ?? steppingClock();
  const app = await buildApp({
    stores,
    clock,
    adminToken,
    config: { previewSampleSize: 10_000, controllerIntervalMs: 0, ...options.config },
  });
  return {
    app,
    stores,
    adminToken,
    clock,
    async admin(method, url, body) {
      const response = await app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${adminToken}` },
        ...(body !== undefined ? { payload: body as object } : {}),
      });
      return { status: response.statusCode, json: response.body ? response.json() : undefined };
    },
    async close() {
      await app.close();
      if (options.keepStores !== true) await stores.close();
    },
  };
}

/** A valid boolean flag document with a 10% rollout split in production. */
export function sampleFlag(key = 'new-checkout'): Record<string, unknown> {
  return {
    key,
    kind: 'boolean',
    description: 'One-page checkout',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: {
      production: {
        enabled: true,
        rules: [{ id: 'rollout', serve: { split: [{ variant: 'on', range: [0, 100_000] }] } }],
      },
    },
  };
}
