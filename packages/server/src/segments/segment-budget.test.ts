/**
 * A segment change is checked against every flag that uses the segment, directly or through other segments:
 * one that would put a flag over the evaluation budget is refused, naming the flag and the limit, on the
 * in-memory and the SQLite stores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { segmentEditBudgetScenario } from '../../testing/segment-budget.ts';
import { buildTestApp, type TestApp } from '../../testing/test-app.ts';
import { createSqliteStores } from '../stores.ts';

let t: TestApp | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('segment changes and the flags that use them', () => {
  it('refuses a change that puts a flag over its evaluation budget (in memory)', async () => {
    t = await buildTestApp();
    await segmentEditBudgetScenario(t);
  });

  it('refuses a change that puts a flag over its evaluation budget (SQLite)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-segment-budget-'));
    dirs.push(dir);
    t = await buildTestApp({ stores: createSqliteStores(dir) });
    await segmentEditBudgetScenario(t);
  });
});
