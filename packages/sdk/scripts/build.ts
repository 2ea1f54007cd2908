/**
 * Builds the SDK's distributable bundles into packages/sdk/dist:
 * - `dimmer-sdk.browser.js`: the browser entry (no Node APIs), with @dimmer/core inlined;
 * - `dimmer-sdk.node.js`: the Node entry;
 * - `openfeature-server.js` / `openfeature-web.browser.js`: the OpenFeature providers, the OpenFeature SDKs
 *   left as peer imports.
 * Types are the TypeScript sources themselves (the package's `exports` point at them).
 */
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const OPENFEATURE = ['@openfeature/core', '@openfeature/server-sdk', '@openfeature/web-sdk'];

/** Bundles every entry; resolves with the paths written. */
export async function buildSdk(outdir = join(root, 'dist')): Promise<string[]> {
  const common = {
    bundle: true,
    format: 'esm',
    sourcemap: true,
    target: 'es2022',
    logLevel: 'warning',
  } as const;
  const entries = [
    { in: 'src/browser.ts', out: 'dimmer-sdk.browser', platform: 'browser' },
    { in: 'src/openfeature-web.ts', out: 'openfeature-web.browser', platform: 'browser' },
    { in: 'src/index.ts', out: 'dimmer-sdk.node', platform: 'node' },
    { in: 'src/openfeature-server.ts', out: 'openfeature-server', platform: 'node' },
  ] as const;
  await Promise.all(
    entries.map((entry) =>
      build({
        ...common,
        entryPoints: [join(root, entry.in)],
        outfile: join(outdir, `${entry.out}.js`),
        platform: entry.platform,
        external: OPENFEATURE,
        // The browser bundles must not pull in Node built-ins: make any such import a build error.
        ...(entry.platform === 'browser' ? { conditions: ['browser'] } : {}),
      }),
    ),
  );
  return entries.map((entry) => join(outdir, `${entry.out}.js`));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const written = await buildSdk();
  for (const path of written) console.log(`built ${path}`);
}
