/**
 * The real Dimmer server for the SDK's end-to-end tests and the propagation benchmark: SQLite in a
 * temporary directory on 127.0.0.1, flags and client keys created through the admin API, and restartable
 * on the same port and data so clients can see an outage end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlagConfig, FlagEnvironment } from '@dimmer/core';
import { type RunningServer, startServer } from '@dimmer/server';

export const ENV = 'production';
const ADMIN_TOKEN = 'dmr_admin_sdk-e2e-0123456789abcdefghijklmnopqrstuvwxyzABCDEF';

type FlagInput = Omit<FlagConfig, 'salt' | 'hashVersion'>;

const on = (rules: FlagEnvironment['rules'] = []): FlagEnvironment => ({ enabled: true, rules });

/** A rollout rule at `reachBuckets` (of 1,000,000). */
export function rolloutRules(reachBuckets: number): FlagEnvironment['rules'] {
  const split: { variant: string; range: [number, number]; arm: 'treatment' | 'control' }[] = [];
  if (reachBuckets > 0) split.push({ variant: 'on', range: [0, reachBuckets], arm: 'treatment' });
  if (reachBuckets < 1_000_000)
    split.push({ variant: 'off', range: [reachBuckets, 1_000_000], arm: 'control' });
  return [{ id: 'rollout', rollout: 'ro_e2e', serve: { split } }];
}

export const E2E_FLAGS: FlagInput[] = [
  {
    key: 'banner',
    kind: 'string',
    variants: { plain: 'Welcome', staff: 'Hello, colleague' },
    defaultVariant: 'plain',
    environments: {
      [ENV]: on([
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
    environments: { [ENV]: on() },
  },
  {
    key: 'theme',
    kind: 'object',
    variants: { light: { color: 'white' } },
    defaultVariant: 'light',
    environments: { [ENV]: on() },
  },
  {
    key: 'new-checkout',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    environments: { [ENV]: on(rolloutRules(1_000_000)) },
  },
];

export class RealServer {
  private running: RunningServer | undefined;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'dimmer-sdk-e2e-'));
  private port = 0;
  keys = { server: '', browser: '' };

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts, on the same port and data) the server. */
  async start(heartbeatMs = 1_000): Promise<void> {
    this.running = await startServer({
      host: '127.0.0.1',
      port: this.port,
      dataDir: this.dataDir,
      adminToken: ADMIN_TOKEN,
      config: { streamHeartbeatMs: heartbeatMs },
    });
    this.port = Number(new URL(this.running.url).port);
  }

  /** Creates the test flags and a server and a browser key of the production environment. */
  async seed(flags: FlagInput[] = E2E_FLAGS): Promise<void> {
    for (const flag of flags) await this.admin('POST', '/api/v1/flags', flag);
    const key = async (kind: 'server' | 'browser') =>
      (
        (await this.admin('POST', '/api/v1/keys', {
          name: `sdk ${kind}`,
          environment: ENV,
          kind,
          allowedOrigins: [],
        })) as {
          secret: string;
        }
      ).secret;
    this.keys = { server: await key('server'), browser: await key('browser') };
  }

  async stop(): Promise<void> {
    await this.running?.close();
    this.running = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Replaces one flag's production state; resolves when the change is committed. */
  async putEnvironment(flag: string, state: FlagEnvironment): Promise<void> {
    await this.admin('PUT', `/api/v1/flags/${flag}/environments/${ENV}`, state);
  }

  /** Changes one flag's variants (a new config version). */
  async patchFlag(flag: string, patch: Partial<FlagInput>): Promise<void> {
    await this.admin('PATCH', `/api/v1/flags/${flag}`, patch);
  }

  async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} failed with ${response.status}: ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  }
}
