import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualClock, sampleFlag } from '../../../testing/test-app.ts';
import { buildApp } from '../../app.ts';
import { createSqliteStores } from '../../stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'dimmer-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(onToken: (token: string) => void = () => undefined) {
  const stores = createSqliteStores(dir);
  const app = await buildApp({ stores, clock: manualClock(), onAdminTokenCreated: onToken });
  return {
    app,
    async close() {
      await app.close();
      await stores.close();
    },
  };
}

describe('SQLite across restarts', () => {
  it('keeps data, the generated admin token and versions; bootstraps only once', async () => {
    let token = '';
    const first = await start((t) => {
      token = t;
    });
    expect(token).toMatch(/^dmr_admin_/);
    expect(first.app.dimmer.createdEnvironments).toEqual(['production', 'development']);
    const auth = { authorization: `Bearer ${token}` };
    const created = await first.app.inject({
      method: 'POST',
      url: '/api/v1/flags',
      headers: auth,
      payload: sampleFlag(),
    });
    expect(created.statusCode).toBe(201);
    await first.close();

    const second = await start(() => {
      throw new Error('a second admin token was generated');
    });
    expect(second.app.dimmer.createdEnvironments).toEqual([]);
    const flag = await second.app.inject({ url: '/api/v1/flags/new-checkout', headers: auth });
    expect(flag.statusCode).toBe(200);
    expect(flag.json().salt).toBe(created.json().salt);
    expect(second.app.dimmer.hub.get('production')?.version).toBe(2);
    expect(second.app.dimmer.hub.get('production')?.snapshot.flags.map((f) => f.key)).toEqual([
      'new-checkout',
    ]);
    const envs = await second.app.inject({ url: '/api/v1/environments', headers: auth });
    expect(envs.json().environments).toHaveLength(2);
    await second.close();
  });
});
