import { describe, expect, it } from 'vitest';
import { readSettings } from './settings.ts';

describe('readSettings', () => {
  it('uses the documented defaults', () => {
    expect(readSettings({})).toEqual({
      ok: true,
      value: {
        host: '127.0.0.1',
        port: 4242,
        dataDir: './.dimmer',
        rateLimitPerMinute: 6000,
        eventsPerMinutePerKey: 60_000,
        logLevel: 'info',
        controllerIntervalMs: 60_000,
        webhookUrls: [],
      },
    });
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
    });
    expect(result.ok && result.value).toMatchObject({
      controllerIntervalMs: 5000,
      webhookUrls: ['https://hooks.example/a', 'http://127.0.0.1:9/b'],
      webhookSecret: 's3cret',
    });
    const bad = readSettings({ DIMMER_CONTROLLER_INTERVAL_MS: '10', DIMMER_WEBHOOK_URLS: 'ftp://x' });
    expect(bad.ok ? [] : bad.issues.map((i) => i.path)).toEqual([
      'DIMMER_CONTROLLER_INTERVAL_MS',
      'DIMMER_WEBHOOK_URLS',
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
        eventsPerMinutePerKey: 900,
        logLevel: 'warn',
        controllerIntervalMs: 60_000,
        webhookUrls: [],
      },
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
