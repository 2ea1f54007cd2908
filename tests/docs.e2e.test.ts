/**
 * Every command and request in README.md and docs/ runs against a real server (the convention is in
 * docs/README.md and tests/docs-blocks.ts). Each page gets a fresh server on a free port with a temporary data
 * directory and the controller looking every 5 s; its command blocks run in order in bash (exported variables
 * carry over to the next block), `npm run dimmer -- …` and `dimmer …` run the CLI built once from the sources,
 * and its `http` blocks are sent with the admin token (admin routes) or a server key (SDK, OFREP, events).
 * The README's walk-through must reach a controller decision by its own commands.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningServer, readSettings, startFromSettings } from '@dimmer/server';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type DocBlock, parseRequestBlock, readDocumentation } from './docs-blocks.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The CLI bundle lives under the repository so that its dependencies resolve from node_modules. */
const CLI_DIR = join(ROOT, 'node_modules', '.cache', 'dimmer-docs-test');
const CLI_BUNDLE = join(CLI_DIR, 'bin.js');
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
dimmer() { node "$DOCS_CLI" "$@"; }
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

beforeAll(async () => {
  began = Date.now();
  rmSync(CLI_DIR, { recursive: true, force: true });
  mkdirSync(CLI_DIR, { recursive: true });
  writeFileSync(join(CLI_DIR, 'package.json'), '{ "type": "module" }\n');
  await build({
    entryPoints: [join(ROOT, 'packages/cli/src/bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Split at dynamic imports, so the server's modules load only for `serve` and `demo`.
    splitting: true,
    outdir: CLI_DIR,
    outExtension: { '.js': '.js' },
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __docsRequire } from 'node:module'; const require = __docsRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'workspace-only',
        setup(b) {
          // Workspace packages are bundled from their sources; everything else loads from node_modules.
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@dimmer/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
}, 60_000);

afterAll(() => {
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
          DOCS_CLI: CLI_BUNDLE,
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
