import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, RESTART_FRAMES } from './checkpointer.ts';
import { openSqlite, SQLITE_FILE_NAME } from './database.ts';

const dir = mkdtempSync(join(tmpdir(), 'dimmer-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRANSACTIONS = 150;
const ROWS_PER_TRANSACTION = 200;
const PAGE_BYTES = 4096;

describe('SQLite WAL checkpoints off the serving thread', () => {
  it('keeps the WAL short under steady writes, and every committed row survives a reopen', async () => {
    const driver = openSqlite(dir);
    const wal = join(dir, `${SQLITE_FILE_NAME}-wal`);
    let largestWal = 0;
    for (let t = 0; t < TRANSACTIONS; t++) {
      await driver.transaction(async (tx) => {
        for (let r = 0; r < ROWS_PER_TRANSACTION; r++)
          await tx.run(
            'INSERT INTO track_events (environment, unit, name, ts, value, client) VALUES (?, ?, ?, ?, ?, 0)',
            ['production', `u${(t * 7919 + r * 104_729) % 1_000_003}`, 'click', t, r],
          );
      });
      largestWal = Math.max(largestWal, statSync(wal).size);
      // Requests arrive between transactions: the event loop turns.
      await sleep(1);
    }
    // The serving connection checkpoints by itself only past the backstop, which these writes never reach.
    const [auto] = (await driver.all('PRAGMA wal_autocheckpoint')) as { wal_autocheckpoint: number }[];
    expect(auto?.wal_autocheckpoint).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
    // Without checkpoints the WAL would hold every page written; it starts over instead.
    const written = await new Promise<number>((resolve) =>
      setTimeout(() => resolve(statSync(wal).size), 100),
    );
    expect(largestWal).toBeLessThan(8 * RESTART_FRAMES * PAGE_BYTES);
    expect(written).toBeLessThan(8 * RESTART_FRAMES * PAGE_BYTES);
    await driver.close();
    const reopened = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
    try {
      const { n } = reopened.prepare('SELECT COUNT(*) AS n FROM track_events').get() as { n: number };
      expect(n).toBe(TRANSACTIONS * ROWS_PER_TRANSACTION);
      expect(reopened.pragma('quick_check', { simple: true })).toBe('ok');
    } finally {
      reopened.close();
    }
  });
});
