/**
 * Every command and request in README.md and docs/ runs against a real server (the convention is in
 * docs/README.md and tests/docs-blocks.ts). Each page gets a fresh server on a free port with a temporary data
 * directory and the controller looking every 5 s; its command blocks run in order in bash (exported variables
 * carry over to the next block), `npm run dimmer -- …` and `dimmer …` run the CLI's `main` (see the runner),
 * and its `http` blocks are sent with the admin token (admin routes) or a server key (SDK, OFREP, events).
 * The README's walk-through must reach a controller decision by its own commands.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '@dimmer/cli';
import { type RunningServer, readSettings, startFromSettings } from '@dimmer/server';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type DocBlock, parseRequestBlock, readDocumentation } from './docs-blocks.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_TOKEN = `dmr_admin_docs_${'t'.repeat(43)}`;
/** The controller's schedule the README's local try asks for. */
const CONTROLLER_INTERVAL_MS = '5000';
/** Longest run of one command block (the README's simulation stops at the rollback, about a minute in). */
const BLOCK_TIMEOUT_MS = 150_000;
/** The whole test must stay under three minutes. */
const TOTAL_BUDGET_MS = 180_000;

const blocks = readDocumentation(ROOT);
const pages = [...new Set(blocks.map((b) => b.page))].filter((page) =>
  blocks.some(
    (b) => b.page === page && (b.kind === 'command' || b.kind === 'request') && b.illustrative === null,
  ),
);

/** Bash prelude: `dimmer` and `npm run dimmer -- …` run the built CLI; other npm commands run npm. */
const PRELUDE = `
set -eo pipefail
dimmer() {
  local h; h=$(mktemp)
  local a=(--data-urlencode "cwd=$PWD" --data-urlencode "files=$h")
  local v; for v in DIMMER_URL DIMMER_TOKEN DIMMER_CLIENT_KEY DIMMER_ADMIN_TOKEN; do
    if [ -n "\${!v+x}" ]; then a+=(--data-urlencode "env.$v=\${!v}"); fi
  done
  local x; for x in "$@"; do a+=(--data-urlencode "arg=$x"); done
  curl -sS -N "\${a[@]}" "$DOCS_CLI_RUNNER" || { rm -f "$h" "$h.err" "$h.code"; return 1; }
  if [ -f "$h.err" ]; then cat "$h.err" >&2; fi
  local code; code=$(cat "$h.code" 2>/dev/null || echo 1)
  rm -f "$h" "$h.err" "$h.code"
  return "$code"
}
npm() {
  if [ "$1" = run ]; then
    local args=("\${@:2}")
    while [ "\${args[0]}" = --silent ] || [ "\${args[0]}" = -s ]; do args=("\${args[@]:1}"); done
    case "\${args[0]}" in
      dimmer) args=("\${args[@]:1}"); [ "\${args[0]}" = -- ] && args=("\${args[@]:1}"); dimmer "\${args[@]}"; return ;;
      demo) args=("\${args[@]:1}"); [ "\${args[0]}" = -- ] && args=("\${args[@]:1}"); dimmer demo "\${args[@]}"; return ;;
    esac
  fi
  command npm "$@"
}
`;

interface Shell {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBash(script: string, options: { cwd: string; env: Record<string, string> }): Promise<Shell> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${BLOCK_TIMEOUT_MS / 1000} s)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, BLOCK_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function where(b: DocBlock): string {
  return `${b.page}:${b.line}`;
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

let began = 0;

let runner: Server | undefined;
let runnerUrl = '';

/**
 * The CLI runner: `dimmer …` in a block posts its arguments, working directory and DIMMER_* variables here, and
 * the CLI's `main` runs them in this process (the same code as the `dimmer` executable, without a Node start per
 * command, which is what keeps sixty commands inside the time budget). stdout streams back as the body; stderr
 * and the exit code go to the files the shell function reads.
 */
function startRunner(): Promise<void> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (d: Buffer) => {
      body += d.toString();
    });
    request.on('end', async () => {
      const form = new URLSearchParams(body);
      const files = form.get('files') as string;
      const env: Record<string, string> = {};
      for (const [name, value] of form) if (name.startsWith('env.')) env[name.slice(4)] = value;
      let stderr = '';
      response.writeHead(200, { 'content-type': 'text/plain' });
      const code = await main(form.getAll('arg'), {
        stdout: { write: (text: string) => response.write(text), isTTY: false },
        stderr: {
          write: (text: string) => {
            stderr += text;
            return true;
          },
          isTTY: false,
        },
        env,
        cwd: form.get('cwd') ?? ROOT,
      }).catch((error: unknown) => {
        stderr += `${String(error)}\n`;
        return 1;
      });
      writeFileSync(`${files}.err`, stderr);
      writeFileSync(`${files}.code`, String(code));
      response.end();
    });
  });
  runner = server;
  return new Promise((ready) =>
    server.listen(0, '127.0.0.1', () => {
      runnerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      ready();
    }),
  );
}

beforeAll(async () => {
  began = Date.now();
  await startRunner();
});

afterAll(() => {
  runner?.close();
  const spent = Date.now() - began;
  expect(spent, `the docs test took ${Math.round(spent / 1000)} s`).toBeLessThan(TOTAL_BUDGET_MS);
});

describe('documentation blocks', () => {
  it('every command and request block is run or marked illustrative, and requests parse', () => {
    const runnable = blocks.filter((b) => b.kind === 'command' || b.kind === 'request');
    expect(runnable.length).toBeGreaterThan(10);
    for (const b of runnable.filter((x) => x.kind === 'request' && x.illustrative === null))
      expect(() => parseRequestBlock(b.text), where(b)).not.toThrow();
    for (const b of runnable.filter((x) => x.illustrative !== null))
      expect(b.illustrative, `${where(b)}: say why the block is illustrative`).not.toBe('');
  });

  it.each(pages)(
    '%s runs against a real server',
    async (page) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'dimmer-docs-'));
      const work = mkdtempSync(join(tmpdir(), 'dimmer-docs-page-'));
      const state = join(work, '.docs-test-env');
      const settings = readSettings({
        HOST: '127.0.0.1',
        PORT: '0',
        DIMMER_DATA_DIR: dataDir,
        DIMMER_ADMIN_TOKEN: ADMIN_TOKEN,
        DIMMER_CONTROLLER_INTERVAL_MS: CONTROLLER_INTERVAL_MS,
        DIMMER_LOG_LEVEL: 'warn',
      });
      if (!settings.ok) throw new Error(JSON.stringify(settings.issues));
      let server: RunningServer | undefined;
      try {
        server = await startFromSettings(settings.value);
        const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
        const env: Record<string, string> = {
          DIMMER_URL: server.url,
          DIMMER_TOKEN: ADMIN_TOKEN,
          DOCS_CLI_RUNNER: runnerUrl,
          NO_COLOR: '1',
        };
        // Pages under docs/ assume a server key of production in DIMMER_CLIENT_KEY; the README makes its own.
        if (page !== 'README.md') {
          const created = await fetch(`${server.url}/api/v1/keys`, {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({ name: 'docs', environment: 'production', kind: 'server' }),
          }).then((r) => r.json() as Promise<{ secret: string }>);
          env.DIMMER_CLIENT_KEY = created.secret;
        }
        const own = blocks.filter((b) => b.page === page);
        for (const b of own.filter((x) => x.kind === 'file'))
          writeFileSync(join(work, b.file as string), `${b.text}\n`);
        // Pages under docs/ run in a folder of their own, with the repository's examples/ beside their files.
        if (page !== 'README.md') symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
        const cwd = page === 'README.md' ? ROOT : work;
        const timings: string[] = [];
        onTestFinished(() => console.log(`${page}: ${timings.join(', ')}`));
        for (const b of own) {
          if (b.illustrative !== null) continue;
          if (b.kind === 'command') {
            const script = `${PRELUDE}\n[ -f "${state}" ] && source "${state}"\n${b.text}\nexport -p > "${state}"\n`;
            const t0 = Date.now();
            const run = await runBash(script, { cwd, env });
            timings.push(`${where(b)} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
            expect(
              run.code,
              `${where(b)} exited ${run.code}\n--- block\n${b.text}\n--- stdout\n${tail(run.stdout)}\n--- stderr\n${tail(run.stderr)}`,
            ).toBe(0);
          } else if (b.kind === 'request') {
            const request = parseRequestBlock(b.text);
            const clientRoute = !request.path.startsWith('/api/');
            const key = clientRoute
              ? (env.DIMMER_CLIENT_KEY ?? readExported(state, 'DIMMER_CLIENT_KEY'))
              : ADMIN_TOKEN;
            const response = await fetch(`${server.url}${request.path}`, {
              method: request.method,
              headers: {
                authorization: `Bearer ${key}`,
                ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
                ...request.headers,
              },
              ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
            });
            const text = await response.text();
            expect(
              response.status,
              `${where(b)}: ${request.method} ${request.path} → ${response.status}\n${text}`,
            ).toBeLessThan(300);
          }
        }
        if (page === 'README.md') {
          // The walk-through, driven only by its own commands, reached a decision of the controller.
          const reply = await fetch(`${server.url}/api/v1/rollouts/new-checkout-local/decisions`, {
            headers: admin,
          });
          const { decisions } = (await reply.json()) as {
            decisions: { action: string; applied: boolean; actor: string }[];
          };
          const decided = decisions.filter(
            (d) => d.applied && (d.action === 'rollback' || d.action === 'advance'),
          );
          expect(decided.length, JSON.stringify(decisions.slice(0, 3))).toBeGreaterThan(0);
        }
      } finally {
        await server?.close();
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(work, { recursive: true, force: true });
      }
    },
    TOTAL_BUDGET_MS,
  );
});

/** A variable a block exported (read from the saved `export -p`). */
function readExported(state: string, name: string): string | undefined {
  try {
    const match = new RegExp(`^declare -x ${name}="(.*)"$`, 'm').exec(readFileSync(state, 'utf8'));
    return match?.[1];
  } catch {
    return undefined;
  }
}
