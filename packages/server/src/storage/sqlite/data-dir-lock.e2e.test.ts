import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../../secrets.ts';

const root = join(import.meta.dirname, '../../../../..');
const dir = mkdtempSync(join(tmpdir(), 'dimmer-lock-'));
const token = generateSecret(ADMIN_TOKEN_PREFIX);
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Started {
  proc: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

async function spawnServer(port: number): Promise<Started> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DIMMER_DATA_DIR: dir,
      DIMMER_ADMIN_TOKEN: token,
      PORT: String(port),
      DIMMER_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(proc);
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, exit, stderr: () => stderr };
}

async function healthy(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

describe('one server per SQLite data directory (real processes)', () => {
  it('refuses a second server on the same data dir, naming the holder; a SIGKILLed holder leaves no stale lock', async () => {
    const firstPort = await freePort();
    const first = await spawnServer(firstPort);
    await healthy(firstPort);

    const second = await spawnServer(await freePort());
    const code = await second.exit;
    expect(code).not.toBe(0);
    expect(second.stderr()).toContain(`in use by process ${first.proc.pid}`);
    expect((await fetch(`http://127.0.0.1:${firstPort}/healthz`)).ok).toBe(true);

    first.proc.kill('SIGKILL');
    await first.exit;
    const thirdPort = await freePort();
    await spawnServer(thirdPort);
    await healthy(thirdPort);
  });
});
