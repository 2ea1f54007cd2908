import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleFlag } from '../../../testing/test-app.ts';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../../secrets.ts';
import { startServer } from '../../server.ts';
import { createSqliteStores } from '../../stores.ts';
import { MARKER_FILE_NAME, openSqlite, SQLITE_FILE_NAME, SqliteStartError } from './database.ts';

const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dimmer-datadir-'));
  dirs.push(dir);
  return dir;
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('SQLite data directory', () => {
  it('lets one process (or connection) hold a data directory; a second open names the holder', async () => {
    const dir = tempDir();
    const first = openSqlite(dir);
    expect(() => openSqlite(dir)).toThrow(SqliteStartError);
    expect(() => openSqlite(dir)).toThrow(new RegExp(`in use by process ${process.pid}`));
    await first.close();
    const again = openSqlite(dir);
    await again.close();
  });

  it('refuses a zero-byte database file instead of starting a new install', async () => {
    const dir = tempDir();
    await openSqlite(dir).close();
    writeFileSync(join(dir, SQLITE_FILE_NAME), '');
    expect(() => openSqlite(dir)).toThrow(/is empty \(0 bytes\)/);
    // Also without the marker (an install from before the marker existed).
    unlinkSync(join(dir, MARKER_FILE_NAME));
    expect(() => openSqlite(dir)).toThrow(/is empty \(0 bytes\)/);
  });

  it('refuses a missing database file when the directory held one; a new empty directory initialises', async () => {
    const dir = tempDir();
    await openSqlite(dir).close();
    unlinkSync(join(dir, SQLITE_FILE_NAME));
    expect(() => openSqlite(dir)).toThrow(/is missing/);
    const fresh = join(tempDir(), 'new');
    await openSqlite(fresh).close();
    expect(readFileSync(join(fresh, MARKER_FILE_NAME), 'utf8')).toContain('dimmer');
  });

  it('refuses an unreadable database file', async () => {
    const dir = tempDir();
    await openSqlite(dir).close();
    writeFileSync(join(dir, SQLITE_FILE_NAME), 'this is not a database, just text that replaced it');
    expect(() => openSqlite(dir)).toThrow(SqliteStartError);
  });

  it('refuses a database with a corrupt page (quick_check)', async () => {
    const dir = tempDir();
    const stores = createSqliteStores(dir);
    const server = await startServer({ stores, port: 0, adminToken: generateSecret(ADMIN_TOKEN_PREFIX) });
    await server.close();
    const copy = tempDir();
    copyFileSync(join(dir, SQLITE_FILE_NAME), join(copy, SQLITE_FILE_NAME));
    const size = statSync(join(copy, SQLITE_FILE_NAME)).size;
    const pageSize = 4096;
    expect(size).toBeGreaterThan(4 * pageSize);
    // Garbage over a b-tree page in the middle of the file (not the header page).
    const fd = openSync(join(copy, SQLITE_FILE_NAME), 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, 3 * pageSize);
    closeSync(fd);
    expect(() => openSqlite(copy)).toThrow(/corrupt|unreadable/);
  });

  it('keeps the directory 0700 and its files 0600, tightening an existing install', async () => {
    const dir = tempDir();
    await openSqlite(dir).close();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, SQLITE_FILE_NAME), 0o644);
    const driver = openSqlite(dir);
    await driver.run('CREATE TABLE mode_probe (x INTEGER)');
    expect(modeOf(dir)).toBe(0o700);
    for (const name of [
      SQLITE_FILE_NAME,
      `${SQLITE_FILE_NAME}-wal`,
      `${SQLITE_FILE_NAME}-shm`,
      'dimmer.lock',
      'dimmer.pid',
    ])
      expect(modeOf(join(dir, name)), name).toBe(0o600);
    await driver.close();
  });

  it('keeps /healthz answering while another process holds the write lock; the write waits, then succeeds', async () => {
    const dir = tempDir();
    const token = generateSecret(ADMIN_TOKEN_PREFIX);
    const server = await startServer({ stores: createSqliteStores(dir), port: 0, adminToken: token });
    cleanups.push(() => server.close());
    const holdMs = 1_500;
    const holder = spawn('sqlite3', [join(dir, SQLITE_FILE_NAME)], { stdio: ['pipe', 'pipe', 'inherit'] });
    holder.stdin.write(`BEGIN IMMEDIATE;\nSELECT 'locked';\n`);
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const write = fetch(`${server.url}/api/v1/flags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(sampleFlag()),
    });
    const latencies: number[] = [];
    const until = Date.now() + holdMs;
    while (Date.now() < until) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/healthz`);
      latencies.push(performance.now() - t0);
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    holder.stdin.end('COMMIT;\n');
    const created = await write;
    expect(created.status).toBe(201);
    // The server's synchronous waits are bounded by busy_timeout: /healthz never waits seconds.
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    expect(latencies.length).toBeGreaterThan(3);
  });
});

/** True when this process may mount a tmpfs (root on Linux). */
function canMount(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'dimmer-mount-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0;
    if (mounted) spawnSync('umount', [probe]);
    return mounted;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe.skipIf(!canMount())('SQLite on a full disk (a small tmpfs)', () => {
  it('answers writes 503 with Retry-After and /readyz 503 until space is back, never 500', async () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'dimmer-full-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]).status).toBe(0);
    cleanups.push(() => {
      spawnSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    });
    const dir = join(mountPoint, 'data');
    mkdirSync(dir);
    const token = generateSecret(ADMIN_TOKEN_PREFIX);
    const server = await startServer({ stores: createSqliteStores(dir), port: 0, adminToken: token });
    cleanups.push(() => server.close());
    const post = (key: string) =>
      fetch(`${server.url}/api/v1/flags`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(sampleFlag(key)),
      });
    expect((await post('before-full')).status).toBe(201);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    // Fill the file system.
    const filler = join(mountPoint, 'filler');
    const fd = openSync(filler, 'w');
    // Large chunks first, then ever smaller ones, until not one byte more fits.
    for (const size of [64 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ENOSPC');
      }
    }
    closeSync(fd);

    let refused: Response | undefined;
    for (let i = 0; i < 50 && refused === undefined; i++) {
      const res = await post(`while-full-${i}`);
      expect(res.status).not.toBe(500);
      if (res.status === 503) refused = res;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused?.json()) as { error: { code: string } } | undefined)?.error.code).toBe(
      'UNAVAILABLE',
    );
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toMatch(/cannot write/);
    // Reads keep working.
    expect(
      (
        await fetch(`${server.url}/api/v1/flags/before-full`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200);

    unlinkSync(filler);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await post('after-full')).status).toBe(201);
  });
});
