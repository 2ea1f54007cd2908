/**
 * Bundles the server (`packages/server/src/main.ts`, what `npm start` runs) and the `dimmer` CLI
 * (`packages/cli/src/bin.ts`) into ESM JavaScript in `packages/cli/dist`: `server.js`, `dimmer.js` and shared
 * chunks. Dimmer's own packages are compiled in; every other package stays an import resolved from
 * node_modules at run time, and each of those must be a runtime `dependencies` entry of a workspace package
 * (a devDependency reached from the server fails the build). Lazily imported modules (the server behind
 * `dimmer serve`) land in chunks of their own, so `dimmer --help` loads none of them.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { packageManifest, ROOT, workspaceDir } from './workspace.ts';

/** Where the bundles are written. */
export const APP_DIST = join(ROOT, 'packages', 'cli', 'dist');
/** The entry points, by output name. */
const ENTRIES = {
  server: join(ROOT, 'packages', 'server', 'src', 'main.ts'),
  dimmer: join(ROOT, 'packages', 'cli', 'src', 'bin.ts'),
  // The events writer's worker thread (packages/server/src/events/events-writer.ts finds it beside the bundle).
  'events-writer': join(ROOT, 'packages', 'server', 'src', 'events', 'events-writer.worker.ts'),
};
/** The workspace package the bundles start from: its runtime dependencies, followed through `@dimmer/*`. */
const APP_PACKAGE = 'cli';
/**
 * Source modules find files next to them with `import.meta.dirname` (the dashboard is found that way). In a
 * bundle it would name the bundle's folder, so it is rewritten to the module's source folder relocated onto
 * the installation root (three levels above `packages/cli/dist`), where the release keeps the same layout.
 */
const BANNER = [
  "import { join as __dimmerJoin } from 'node:path';",
  "import { fileURLToPath as __dimmerFileURLToPath } from 'node:url';",
  "const __dimmerRoot = __dimmerFileURLToPath(new URL('../../../', import.meta.url));",
].join('\n');

/** The package name of a bare import (`fastify`, `@fastify/static` from `@fastify/static/lib/x`). */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/**
 * The third-party packages the bundles may import, with the range a workspace package declares: the
 * `dependencies` of the CLI and of every workspace package it depends on, directly or not.
 */
export function runtimeDependencies(): Map<string, string> {
  const deps = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    if (seen.has(dir)) return;
    seen.add(dir);
    for (const [name, range] of Object.entries(packageManifest(dir).dependencies ?? {})) {
      const workspace = workspaceDir(name);
      if (workspace === undefined) deps.set(name, range);
      else visit(workspace);
    }
  };
  visit(APP_PACKAGE);
  return deps;
}

/** Keeps third-party packages external and relocates `import.meta.dirname` (see BANNER). */
function workspacePlugin(allowed: ReadonlyMap<string, string>, used: Set<string>): Plugin {
  return {
    name: 'dimmer-workspace',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@dimmer/') || args.path.startsWith('node:')) return undefined;
        const name = packageName(args.path);
        if (!allowed.has(name))
          return {
            errors: [
              {
                text: `${name} (imported by ${relative(ROOT, args.importer)}) is not a runtime dependency of a workspace package`,
              },
            ],
          };
        used.add(name);
        return { path: args.path, external: true };
      });
      pluginBuild.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.dirname')) return undefined;
        const dir = JSON.stringify(relative(ROOT, dirname(args.path)).split('\\').join('/'));
        return {
          contents: source.replaceAll('import.meta.dirname', `__dimmerJoin(__dimmerRoot, ${dir})`),
          loader: 'ts',
        };
      });
    },
  };
}

/**
 * Writes the bundles into `APP_DIST` (replacing it) and resolves with the third-party packages they import:
 * the production dependencies of a deployment.
 */
export async function buildApp(): Promise<Map<string, string>> {
  rmSync(APP_DIST, { recursive: true, force: true });
  const allowed = runtimeDependencies();
  const used = new Set<string>();
  await build({
    entryPoints: ENTRIES,
    outdir: APP_DIST,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    chunkNames: 'chunk-[hash]',
    banner: { js: BANNER },
    logLevel: 'warning',
    plugins: [workspacePlugin(allowed, used)],
  });
  // The CLI's source starts with a tsx hashbang; the built one runs on plain Node.
  const cli = join(APP_DIST, 'dimmer.js');
  const text = readFileSync(cli, 'utf8').replace(/^#!.*\n/, '');
  writeFileSync(cli, `#!/usr/bin/env node\n${text}`);
  chmodSync(cli, 0o755);
  return new Map([...used].sort().map((name) => [name, allowed.get(name) ?? '*']));
}
