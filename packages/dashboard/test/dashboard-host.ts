/**
 * Test support for the browser tests: builds `dist/` when it is missing or older than the sources, and,
 * while the Dimmer server does not serve the dashboard itself, a tiny static host for `dist/` that forwards
 * API paths to the Dimmer server (same origin, as in production).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

export const PACKAGE_DIR = join(import.meta.dirname, '..');
export const DIST_DIR = join(PACKAGE_DIR, 'dist');

/** Path prefixes that belong to the Dimmer server, never to the dashboard. */
export const SERVER_PREFIXES = ['/api/', '/sdk/', '/v1/', '/ofrep/', '/healthz', '/readyz', '/metrics'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `vite build` programmatically when dist/index.html is missing or older than src/ or index.html. */
export async function ensureBuilt(): Promise<void> {
  const index = join(DIST_DIR, 'index.html');
  const sources = Math.max(
    newestMtime(join(PACKAGE_DIR, 'src')),
    statSync(join(PACKAGE_DIR, 'index.html')).mtimeMs,
    statSync(join(PACKAGE_DIR, 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const { build } = await import('vite');
  await build({ root: PACKAGE_DIR, configFile: join(PACKAGE_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

/** True when `baseUrl/` answers with the dashboard's index.html. */
export async function servesDashboard(baseUrl: string): Promise<boolean> {
  const response = await fetch(`${baseUrl}/`).catch(() => undefined);
  if (response === undefined || !response.ok) return false;
  const text = await response.text();
  return text.includes('<div id="root">');
}

async function forward(target: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers))
    if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers.set(name, value);
  const upstream = await fetch(target + (request.url ?? '/'), {
    method: request.method ?? 'GET',
    headers,
    ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
  });
  const body = Buffer.from(await upstream.arrayBuffer());
  const out: Record<string, string> = {};
  upstream.headers.forEach((value, name) => {
    if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(name))
      out[name] = value;
  });
  response.writeHead(upstream.status, out);
  response.end(body);
}

function serveFile(request: IncomingMessage, response: ServerResponse): void {
  const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  const candidate = normalize(join(DIST_DIR, pathname));
  const inside = candidate.startsWith(DIST_DIR + sep);
  const file =
    inside && existsSync(candidate) && statSync(candidate).isFile()
      ? candidate
      : join(DIST_DIR, 'index.html');
  response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
  response.end(readFileSync(file));
}

/** Starts the static host on 127.0.0.1 (free port); server paths are forwarded to `target`. */
export async function startDashboardHost(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    if (SERVER_PREFIXES.some((prefix) => path.startsWith(prefix)))
      forward(target, request, response).catch((error: unknown) => {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    else serveFile(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
