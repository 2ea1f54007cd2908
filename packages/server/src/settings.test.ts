import { describe, expect, it } from 'vitest';
import { defaultMaxStreams, readSettings } from './settings.ts';

/** The documented defaults of the limits (docs/operations/configuration.md). */
const LIMIT_DEFAULTS = {
  browserRateLimitPerMinute: 600_000,
  authFailuresPerMinute: 600,
  timeouts: {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    idleTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
  },
  maxStreams: defaultMaxStreams(),
  maxStreamsPerKey: 2_000,
  maxStreamsPerAddress: 100,
  eventsMaxInFlight: 64,
  fastPaths: true,
};

describe('readSettings', () => {
  it('uses the documented defaults', () => {
    expect(readSettings({})).toEqual({
      ok: true,
      value: {
        host: '127.0.0.1',
        port: 4242,
        dataDir: './.dimmer',
        rateLimitPerMinute: 60_000,
        ...LIMIT_DEFAULTS,
        eventsPerMinutePerKey: 60_000,
        logLevel: 'info',
        controllerIntervalMs: 60_000,
        webhookUrls: [],
        webhookTimeoutMs: 10_000,
        database: {},
        controllerLeaseMs: 15_000,
        configPollMs: 5_000,
        groupRoles: [],
        sessionTtlMs: 43_200_000,
      },
    });
  });

  it('reads the identity provider, the group roles and the session lifetime', () => {
    const read = readSettings({
      DIMMER_OIDC_ISSUER: 'https://login.example.com/realms/acme',
      DIMMER_OIDC_CLIENT_ID: 'dimmer',
      DIMMER_OIDC_CLIENT_SECRET: 's3cret',
      DIMMER_OIDC_REDIRECT_URL: 'https://dimmer.example.com/auth/callback',
      DIMMER_OIDC_GROUP_ROLES: 'platform=admin, release-managers=releaser@production,support=viewer@*',
      DIMMER_SESSION_TTL_MS: '3600000',
    });
    expect(read.ok && read.value.oidc).toEqual({
      issuer: 'https://login.example.com/realms/acme',
      clientId: 'dimmer',
      clientSecret: 's3cret',
      redirectUrl: 'https://dimmer.example.com/auth/callback',
      providerName: 'login.example.com',
      scopes: 'openid email profile groups',
      groupsClaim: 'groups',
    });
    expect(read.ok && read.value.groupRoles).toEqual([
      { group: 'platform', role: 'admin', environment: '*' },
      { group: 'release-managers', role: 'releaser', environment: 'production' },
      { group: 'support', role: 'viewer', environment: '*' },
    ]);
    expect(read.ok && read.value.sessionTtlMs).toBe(3_600_000);
  });

  it('names each incomplete or invalid sign-in variable', () => {
    const read = readSettings({
      DIMMER_OIDC_ISSUER: 'login.example.com',
      DIMMER_OIDC_REDIRECT_URL: 'https://dimmer.example.com/login',
      DIMMER_OIDC_GROUP_ROLES: 'platform=owner',
      DIMMER_SESSION_TTL_MS: '0',
    });
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.issues.map((i) => i.path).sort()).toEqual([
      'DIMMER_OIDC_CLIENT_ID',
      'DIMMER_OIDC_GROUP_ROLES',
      'DIMMER_OIDC_ISSUER',
      'DIMMER_OIDC_REDIRECT_URL',
      'DIMMER_SESSION_TTL_MS',
    ]);
    expect(read.issues.find((i) => i.path === 'DIMMER_OIDC_GROUP_ROLES')?.message).toContain(
      '"platform=owner": expected group=role',
    );
  });

  it('reads the per-key event quota and names the variable when it is not a positive integer', () => {
    const ok = readSettings({ DIMMER_EVENTS_PER_MINUTE_PER_KEY: '1200' });
    expect(ok.ok && ok.value.eventsPerMinutePerKey).toBe(1200);
    const bad = readSettings({ DIMMER_EVENTS_PER_MINUTE_PER_KEY: '0' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.issues[0]?.path).toBe('DIMMER_EVENTS_PER_MINUTE_PER_KEY');
  });

  it('reads the controller interval and the webhooks', () => {
    const result = readSettings({
      DIMMER_CONTROLLER_INTERVAL_MS: '5000',
      DIMMER_WEBHOOK_URLS: 'https://hooks.example/a, http://127.0.0.1:9/b',
      DIMMER_WEBHOOK_SECRET: 's3cret',
      DIMMER_WEBHOOK_TIMEOUT_MS: '2500',
    });
    expect(result.ok && result.value).toMatchObject({
      controllerIntervalMs: 5000,
      webhookUrls: ['https://hooks.example/a', 'http://127.0.0.1:9/b'],
      webhookSecret: 's3cret',
      webhookTimeoutMs: 2500,
    });
    const bad = readSettings({
      DIMMER_CONTROLLER_INTERVAL_MS: '10',
      DIMMER_WEBHOOK_URLS: 'ftp://x',
      DIMMER_WEBHOOK_TIMEOUT_MS: '0',
    });
    expect(bad.ok ? [] : bad.issues.map((i) => i.path)).toEqual([
      'DIMMER_CONTROLLER_INTERVAL_MS',
      'DIMMER_WEBHOOK_URLS',
      'DIMMER_WEBHOOK_TIMEOUT_MS',
    ]);
  });

  it('reads every variable', () => {
    const token = 'x'.repeat(40);
    const result = readSettings({
      HOST: '0.0.0.0',
      PORT: '0',
      DIMMER_DATA_DIR: '/var/lib/dimmer',
      DIMMER_DATABASE_URL: 'postgres://u@db:5432/dimmer',
      DIMMER_ADMIN_TOKEN: token,
      DIMMER_RATE_LIMIT_PER_MINUTE: '120',
      DIMMER_EVENTS_PER_MINUTE_PER_KEY: '900',
      DIMMER_LOG_LEVEL: 'warn',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        host: '0.0.0.0',
        port: 0,
        dataDir: '/var/lib/dimmer',
        databaseUrl: 'postgres://u@db:5432/dimmer',
        adminToken: token,
        rateLimitPerMinute: 120,
        ...LIMIT_DEFAULTS,
        eventsPerMinutePerKey: 900,
        logLevel: 'warn',
        controllerIntervalMs: 60_000,
        webhookUrls: [],
        webhookTimeoutMs: 10_000,
        database: {},
        controllerLeaseMs: 15_000,
        configPollMs: 5_000,
        groupRoles: [],
        sessionTtlMs: 43_200_000,
      },
    });
  });

  it('reads the database limits, the controller lease and the config poll', () => {
    const result = readSettings({
      DIMMER_DATABASE_POOL_SIZE: '4',
      DIMMER_DATABASE_STATEMENT_TIMEOUT_MS: '3000',
      DIMMER_DATABASE_LOCK_TIMEOUT_MS: '500',
      DIMMER_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '2000',
      DIMMER_DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DIMMER_DATABASE_KEEPALIVE_MS: '5000',
      DIMMER_DATABASE_STARTUP_TIMEOUT_MS: '0',
      DIMMER_CONTROLLER_LEASE_MS: '4000',
      DIMMER_CONFIG_POLL_MS: '0',
    });
    expect(result.ok && result.value).toMatchObject({
      database: {
        poolSize: 4,
        statementTimeoutMs: 3000,
        lockTimeoutMs: 500,
        idleInTransactionTimeoutMs: 2000,
        connectTimeoutMs: 1000,
        keepAliveMs: 5000,
        startupTimeoutMs: 0,
      },
      controllerLeaseMs: 4000,
      configPollMs: 0,
    });
    const bad = readSettings({
      DIMMER_DATABASE_POOL_SIZE: '0',
      DIMMER_DATABASE_KEEPALIVE_MS: '10',
      DIMMER_CONTROLLER_LEASE_MS: '5',
      DIMMER_CONFIG_POLL_MS: 'x',
    });
    expect(bad.ok ? [] : bad.issues.map((i) => i.path)).toEqual([
      'DIMMER_DATABASE_POOL_SIZE',
      'DIMMER_DATABASE_KEEPALIVE_MS',
      'DIMMER_CONTROLLER_LEASE_MS',
      'DIMMER_CONFIG_POLL_MS',
    ]);
  });

  it('reads DIMMER_OPS_PORT and refuses one that is not a port or equals PORT', () => {
    const ok = readSettings({ PORT: '4242', DIMMER_OPS_PORT: '4243' });
    expect(ok.ok && ok.value.opsPort).toBe(4243);
    const none = readSettings({});
    expect(none.ok && none.value.opsPort).toBeUndefined();
    for (const bad of ['4242', 'x', '70000']) {
      const read = readSettings({ PORT: '4242', DIMMER_OPS_PORT: bad });
      expect(read.ok).toBe(false);
      if (!read.ok) expect(read.issues.map((i) => i.path)).toEqual(['DIMMER_OPS_PORT']);
    }
  });

  it('reads the connection, stream, rate and admission limits', () => {
    const result = readSettings({
      DIMMER_BROWSER_RATE_LIMIT_PER_MINUTE: '900000',
      DIMMER_AUTH_FAILURES_PER_MINUTE: '30',
      DIMMER_HEADERS_TIMEOUT_MS: '2000',
      DIMMER_REQUEST_TIMEOUT_MS: '0',
      DIMMER_IDLE_TIMEOUT_MS: '15000',
      DIMMER_KEEP_ALIVE_TIMEOUT_MS: '1000',
      DIMMER_MAX_STREAMS: '300',
      DIMMER_MAX_STREAMS_PER_KEY: '200',
      DIMMER_MAX_STREAMS_PER_ADDRESS: '20',
      DIMMER_EVENTS_MAX_IN_FLIGHT: '8',
    });
    expect(result.ok && result.value).toMatchObject({
      browserRateLimitPerMinute: 900_000,
      authFailuresPerMinute: 30,
      timeouts: {
        headersTimeoutMs: 2000,
        requestTimeoutMs: 0,
        idleTimeoutMs: 15_000,
        keepAliveTimeoutMs: 1000,
      },
      maxStreams: 300,
      maxStreamsPerKey: 200,
      maxStreamsPerAddress: 20,
      eventsMaxInFlight: 8,
    });
    const bad = readSettings({ DIMMER_HEADERS_TIMEOUT_MS: '0', DIMMER_MAX_STREAMS: 'many' });
    expect(bad.ok ? [] : bad.issues.map((i) => i.path)).toEqual([
      'DIMMER_HEADERS_TIMEOUT_MS',
      'DIMMER_MAX_STREAMS',
    ]);
  });

  it('caps the default stream count at half the open-file limit', () => {
    const limits = (soft: number) =>
      `Limit Soft Limit Hard Limit Units\nMax open files            ${soft}                 4096                 files\n`;
    expect(defaultMaxStreams(limits(1024))).toBe(512);
    expect(defaultMaxStreams(limits(1_048_576))).toBe(5_000);
    expect(defaultMaxStreams('no such line')).toBe(5_000);
  });

  it('turns the fast paths off with DIMMER_FAST_PATHS=false', () => {
    expect(readSettings({ DIMMER_FAST_PATHS: 'false' })).toMatchObject({
      ok: true,
      value: { fastPaths: false },
    });
    expect(readSettings({ DIMMER_FAST_PATHS: 'true' })).toMatchObject({
      ok: true,
      value: { fastPaths: true },
    });
    expect(readSettings({ DIMMER_FAST_PATHS: 'no' })).toMatchObject({
      ok: false,
      issues: [{ path: 'DIMMER_FAST_PATHS' }],
    });
  });

  it('names every invalid variable', () => {
    const result = readSettings({
      PORT: '80a',
      DIMMER_DATABASE_URL: 'mysql://x',
      DIMMER_ADMIN_TOKEN: 'short',
      DIMMER_RATE_LIMIT_PER_MINUTE: '-1',
      DIMMER_LOG_LEVEL: 'loud',
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues.map((i) => i.path)).toEqual([
        'PORT',
        'DIMMER_RATE_LIMIT_PER_MINUTE',
        'DIMMER_DATABASE_URL',
        'DIMMER_ADMIN_TOKEN',
        'DIMMER_LOG_LEVEL',
      ]);
  });
});
