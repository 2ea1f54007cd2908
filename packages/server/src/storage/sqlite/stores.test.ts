import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeContract } from '../../../testing/store-contract.ts';
import { createSqliteStores } from '../../stores.ts';
import type { AuditInput } from '../write.ts';
import { SQLITE_FILE_NAME } from './database.ts';
import { openSqliteDatabase } from './driver.ts';
import { migrateSqlite, SQLITE_MIGRATIONS } from './migrations.ts';

storeContract('sqlite (in memory)', async () => createSqliteStores(':memory:'));

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('sqlite files', () => {
  it('keeps data across reopen and applies migrations only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-sqlite-'));
    dirs.push(dir);
    const first = createSqliteStores(dir);
    await first.environments.create(
      { key: 'production', name: 'Production' },
      {
        at: 1,
        actor: 't',
        action: 'environment.create',
        resourceType: 'environment',
        resourceKey: 'production',
        before: null,
        after: null,
      },
    );
    await first.close();
    const second = createSqliteStores(dir);
    expect((await second.environments.list()).map((e) => e.key)).toEqual(['production']);
    await second.close();
    const db = openSqliteDatabase(join(dir, SQLITE_FILE_NAME));
    expect(migrateSqlite(db)).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({
      n: SQLITE_MIGRATIONS.length,
    });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('refuses to update or delete audit entries', async () => {
    const db = openSqliteDatabase(':memory:');
    migrateSqlite(db);
    db.prepare(
      "INSERT INTO audit_log (at, actor, action, resource_type, resource_key) VALUES (1, 'a', 'x', 'flag', 'f')",
    ).run();
    expect(() => db.prepare("UPDATE audit_log SET actor = 'b'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    db.close();
  });

  it('reads unchanged config documents back as the same objects and changed ones afresh', async () => {
    const stores = createSqliteStores(':memory:');
    const audit = (key: string, at: number): AuditInput => ({
      at,
      actor: 't',
      action: 'segment.write',
      resourceType: 'segment',
      resourceKey: key,
      before: null,
      after: null,
    });
    await stores.environments.create({ key: 'production', name: 'Production' }, audit('production', 1));
    const nordic = { key: 'nordic', when: { attr: 'country', op: 'in' as const, value: ['SE', 'NO'] } };
    const staff = { key: 'staff', when: { attr: 'email', op: 'ends_with' as const, value: '@example.com' } };
    await stores.segments.create(nordic, audit('nordic', 2));
    await stores.segments.create(staff, audit('staff', 3));
    const first = await stores.config.read('production');
    const wider = { ...nordic, when: { attr: 'country', op: 'in' as const, value: ['SE', 'NO', 'DK'] } };
    await stores.segments.update(wider, { expectedRevision: 1 }, audit('nordic', 4));
    const second = await stores.config.read('production');
    expect(second?.segments).toEqual([wider, staff]);
    expect(second?.segments[1]).toBe(first?.segments[1]);
    expect(second?.segments[0]).not.toBe(first?.segments[0]);
    await stores.close();
  });
});
