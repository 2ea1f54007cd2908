/**
 * Serves the dashboard's built static files (packages/dashboard/dist) at `/`. The dashboard routes with
 * URL hashes, so only `/`, `/index.html` and the built assets are served: no path can shadow an API route.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build -w @dimmer/dashboard` writes the dashboard. */
export const DEFAULT_DASHBOARD_DIR = join(import.meta.dirname, '../../../dashboard/dist');

/** True when `dir` holds a built dashboard. */
export function hasDashboard(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** Registers the dashboard when it is built; returns whether it did. */
export async function registerDashboard(app: FastifyInstance, dir: string): Promise<boolean> {
  if (!hasDashboard(dir)) return false;
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: 'index.html',
    wildcard: false,
    cacheControl: false,
    setHeaders: (res, path) => {
      // Built assets carry a content hash in their names; index.html must always be revalidated.
      res.setHeader(
        'cache-control',
        path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
  return true;
}
