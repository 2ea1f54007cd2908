/**
 * Helpers of the packaging tests: run npm and other commands in folders outside the workspace, install
 * production dependencies the way a deployment does, and start a built server and wait until it is ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..');

/** The result of a finished command. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A new empty folder under the system's temporary folder (outside the workspace). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dimmer-${prefix}-`));
}

/**
 * Runs `command` in `cwd` and resolves with its exit code and output; rejects naming the command and its
 * output when it does not exit 0, unless `allowFailure`.
 */
export function exec(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && !options.allowFailure)
        reject(new Error(`${command} ${args.join(' ')} exited ${String(code)}\n${stdout}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** The version of a package installed in the workspace (to install the same one elsewhere from the cache). */
export function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * `npm ci --omit=dev` in `dir`, as a deployment runs it, with one difference: install scripts are skipped
 * and better-sqlite3's native addon is copied from the workspace, where `npm ci` compiled it for this very
 * Node.js. (Its install script would compile SQLite again from source, since no prebuilt binary can be
 * downloaded here: minutes of CPU for an identical file.)
 */
export async function installProduction(dir: string): Promise<CommandResult> {
  const result = await exec(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: dir },
  );
  const addon = join('node_modules', 'better-sqlite3', 'build', 'Release');
  mkdirSync(join(dir, addon), { recursive: true });
  copyFileSync(join(ROOT, addon, 'better_sqlite3.node'), join(dir, addon, 'better_sqlite3.node'));
  return result;
}

/** A server started by a test. */
export interface StartedServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /**
   * Sends SIGTERM to the server's process group (npm and the server it started) and resolves with true
   * once every process of it has exited, or false when they had to be killed after STOP_TIMEOUT_MS.
   */
  stop(): Promise<boolean>;
}

/** How long a built server may take to answer /readyz (first start creates the database). */
const READY_TIMEOUT_MS = 45_000;
/** How long a server may take to stop gracefully on SIGTERM. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts `command` in `cwd` with PORT=0 (any free port) and a fresh DIMMER_DATA_DIR, reads the URL from its
 * startup banner and resolves once GET /readyz answers 200. Rejects with the output when it exits or takes
 * too long.
 */
export async function startServer(
  command: string,
  args: readonly string[],
  cwd: string,
  dataDir: string,
): Promise<StartedServer> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DIMMER_DATA_DIR: dataDir, DIMMER_LOG_LEVEL: 'warn' },
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let alive = true;
  child.on('exit', () => {
    alive = false;
  });
  const pid = child.pid as number;
  const groupAlive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stop = async (): Promise<boolean> => {
    if (groupAlive()) process.kill(-pid, 'SIGTERM');
    const until = Date.now() + STOP_TIMEOUT_MS;
    while (groupAlive() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!groupAlive()) return true;
    process.kill(-pid, 'SIGKILL');
    return false;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!alive) {
      await stop();
      throw new Error(`${command} ${args.join(' ')} exited before it was ready:\n${output}`);
    }
    const url = /running at (http:\/\/\S+)/.exec(output)?.[1];
    if (url !== undefined) {
      const ready = await fetch(`${url}/readyz`).then(
        (response) => response.status,
        () => 0,
      );
      if (ready === 200) return { url, process: child, output: () => output, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`${command} ${args.join(' ')} was not ready in ${READY_TIMEOUT_MS} ms:\n${output}`);
}
