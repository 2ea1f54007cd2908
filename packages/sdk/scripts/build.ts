/**
 * The SDK's self-contained browser bundles, written next to the compiled package in `dist/`:
 * - `dimmer-sdk.browser.js`: the browser entry (no Node APIs) with `@dimmer/core` inlined, loadable from a
 *   `<script type="module">` without a bundler; the package's `browser` condition points at it;
 * - `openfeature-web.browser.js`: the OpenFeature web provider, `@openfeature/web-sdk` left as a peer import.
 * The per-file ESM and `.d.ts` come from the TypeScript compiler (`scripts/build-packages.ts` at the root).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const OPENFEATURE = ['@openfeature/core', '@openfeature/server-sdk', '@openfeature/web-sdk'];
const ENTRIES = [
  { in: 'src/browser.ts', out: 'dimmer-sdk.browser' },
  { in: 'src/openfeature-web.ts', out: 'openfeature-web.browser' },
] as const;

/** Bundles every browser entry into `outdir`; resolves with the paths written. */
export async function buildBundles(outdir = join(root, 'dist')): Promise<string[]> {
  await Promise.all(
    ENTRIES.map((entry) =>
      build({
        entryPoints: [join(root, entry.in)],
        outfile: join(outdir, `${entry.out}.js`),
        bundle: true,
        format: 'esm',
        sourcemap: true,
        target: 'es2022',
        logLevel: 'warning',
        platform: 'browser',
        external: OPENFEATURE,
        // Browser conditions only: a Node built-in reached from the browser entry is a build error.
        conditions: ['browser'],
      }),
    ),
  );
  return ENTRIES.map((entry) => join(outdir, `${entry.out}.js`));
}

/** The browser bundles alone (tests that load them in a browser). */
export const buildSdk = buildBundles;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const path of await buildBundles()) console.log(`built ${path}`);
}
