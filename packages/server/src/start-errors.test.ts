import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from './server.ts';
import { readSettings, type ServerSettings } from './settings.ts';
import { StartError } from './start-errors.ts';
import { formatStartupBanner, startFromSettings } from './startup.ts';

const TOKEN = `dmr_admin_${'s'.repeat(43)}`;

function settings(env: Record<string, string>): ServerSettings {
  const read = readSettings({
    HOST: '127.0.0.1',
    DIMMER_ADMIN_TOKEN: TOKEN,
    DIMMER_LOG_LEVEL: 'silent',
    ...env,
  });
  if (!read.ok) throw new Error(JSON.stringify(read.issues));
  return read.value;
}

describe('start failures', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('a port in use is one line naming the address and what to change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const first: RunningServer = await startFromSettings(
      settings({ PORT: '0', DIMMER_DATA_DIR: join(dir, 'a') }),
    );
    cleanup.push(() => first.close());
    const port = new URL(first.url).port;
    const failure = await startFromSettings(settings({ PORT: port, DIMMER_DATA_DIR: join(dir, 'b') })).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(StartError);
    const message = (failure as Error).message;
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain('already in use');
    expect(message).not.toContain('\n');
  });

  it('an operations port in use is one line naming it and DIMMER_OPS_PORT, and nothing is left listening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const first: RunningServer = await startFromSettings(
      settings({ PORT: '0', DIMMER_DATA_DIR: join(dir, 'a') }),
    );
    cleanup.push(() => first.close());
    const taken = new URL(first.url).port;
    const failure = await startFromSettings(
      settings({ PORT: '0', DIMMER_OPS_PORT: taken, DIMMER_DATA_DIR: join(dir, 'b') }),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StartError);
    const message = (failure as Error).message;
    expect(message).toContain(`127.0.0.1:${taken} for the operations port`);
    expect(message).toContain('DIMMER_OPS_PORT');
    expect(message).not.toContain('\n');
    // The failed start released its data directory: a start on it succeeds.
    const again = await startFromSettings(settings({ PORT: '0', DIMMER_DATA_DIR: join(dir, 'b') }));
    await again.close();
  });

  it('a data directory that cannot be created is one line naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const dataDir = join(file, 'data');
    const failure = await startFromSettings(settings({ PORT: '0', DIMMER_DATA_DIR: dataDir })).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(StartError);
    expect((failure as Error).message).toContain(`cannot use the data directory ${dataDir}`);
    expect((failure as Error).message).not.toContain('\n');
  });

  it('the banner does not advertise a dashboard that is not built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dimmer-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const s = settings({ PORT: '0', DIMMER_DATA_DIR: dir });
    const server = await startFromSettings(s);
    cleanup.push(() => server.close());
    const served = (await fetch(`${server.url}/`)).ok;
    const banner = formatStartupBanner(server, s);
    if (served) expect(banner).toContain(`Dashboard:  ${server.url}/`);
    else {
      expect(banner).not.toContain(`Dashboard:  ${server.url}/`);
      expect(banner).toContain('npm run build -w @dimmer/dashboard');
    }
  });
});
