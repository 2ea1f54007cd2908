/** The operations port (DIMMER_OPS_PORT): the app's own /healthz, /readyz and /metrics, and nothing else. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../server.ts';

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dimmer-ops-'));
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    opsPort: 0,
    dataDir: dir,
    adminToken: `dmr_admin_${'o'.repeat(43)}`,
  });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the operations port', () => {
  it('answers /healthz, /readyz and /metrics as the main port does', async () => {
    const ops = server.opsUrl as string;
    expect(ops).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ops).not.toBe(server.url);
    for (const path of ['/healthz', '/readyz']) {
      const [viaOps, viaMain] = await Promise.all([fetch(ops + path), fetch(server.url + path)]);
      expect(viaOps.status).toBe(viaMain.status);
      expect(await viaOps.json()).toEqual(await viaMain.json());
    }
    const metrics = await fetch(`${ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('dimmer_http_request_duration_seconds');
    expect((await fetch(`${ops}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves nothing else: no admin API, no SDK routes, no writes', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/flags'],
      ['GET', '/sdk/v1/config'],
      ['POST', '/v1/events'],
      ['POST', '/healthz'],
      ['GET', '/'],
    ] as const) {
      const answer = await fetch(server.opsUrl + path, {
        method,
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
  });
});
