import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSettings } from './settings.ts';
import { ADMIN_TOKEN_FILE_NAME, revealAdminToken } from './startup.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function settingsIn(dir: string) {
  const settings = readSettings({ DIMMER_DATA_DIR: dir });
  if (!settings.ok) throw new Error('bad settings');
  return settings.value;
}

describe('the first start admin token', () => {
  const token = 'dmr_admin_0123456789abcdef0123456789abcdef';

  it('goes to a 0600 file in the data dir when stderr is no terminal, never into the banner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-token-'));
    dirs.push(dir);
    const written: string[] = [];
    const lines = revealAdminToken(token, settingsIn(dir), { isTTY: false, write: (t) => written.push(t) });
    const path = join(dir, ADMIN_TOKEN_FILE_NAME);
    expect(readFileSync(path, 'utf8').trim()).toBe(token);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).toContain(path);
    expect(written).toEqual([]);
  });

  it('is shown on the terminal (stderr) when it is one, and not written to disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-token-'));
    dirs.push(dir);
    const written: string[] = [];
    const lines = revealAdminToken(token, settingsIn(dir), { isTTY: true, write: (t) => written.push(t) });
    expect(written.join('')).toContain(token);
    expect(lines.join('\n')).not.toContain(token);
    expect(() => statSync(join(dir, ADMIN_TOKEN_FILE_NAME))).toThrow();
  });
});
