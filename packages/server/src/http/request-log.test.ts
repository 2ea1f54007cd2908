import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../server.ts';
import { requestLogLevel } from './request-log.ts';

const TOKEN = `dmr_admin_${'r'.repeat(43)}`;

describe('request log', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('logs admin routes at info, client routes at debug and health checks never', () => {
    expect(requestLogLevel('/api/v1/flags', '/api/v1')).toBe('info');
    expect(requestLogLevel('/api/v1/rollouts/:id/start', '/api/v1')).toBe('info');
    expect(requestLogLevel('/ofrep/v1/evaluate/flags/:key', '/api/v1')).toBe('debug');
    expect(requestLogLevel('/sdk/v1/config', '/api/v1')).toBe('debug');
    expect(requestLogLevel('/v1/events', '/api/v1')).toBe('debug');
    expect(requestLogLevel('/healthz', '/api/v1')).toBeNull();
    expect(requestLogLevel('/readyz', '/api/v1')).toBeNull();
  });

  it('writes one line per admin request with method, route, status, duration and actor; none for SDK or health', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: ':memory:',
      adminToken: TOKEN,
      logger: { level: 'info', stream },
      config: { controllerIntervalMs: 0 },
    });
    lines.length = 0;
    await fetch(`${server.url}/api/v1/flags`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await fetch(`${server.url}/healthz`);
    await fetch(`${server.url}/ofrep/v1/evaluate/flags/x`, { method: 'POST', body: '{}' });
    await new Promise((r) => setTimeout(r, 50));
    const requests = lines.filter((l) => 'route' in l);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ level: 30, method: 'GET', route: '/api/v1/flags', status: 200 });
    expect(typeof requests[0]?.durationMs).toBe('number');
    expect(typeof requests[0]?.actor).toBe('string');
    expect(lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toBe(false);
  });
});
