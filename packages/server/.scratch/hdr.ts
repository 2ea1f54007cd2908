import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../src/secrets.ts';
import { startServer } from '../src/server.ts';
const token = generateSecret(ADMIN_TOKEN_PREFIX);
const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: mkdtempSync(join(tmpdir(), 'h-')), adminToken: token, logger: { level: 'warn' } });
const k = await (await fetch(server.url + '/api/v1/keys', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'e', environment: 'production', kind: 'server', eventsPerMinute: 10_000_000 }) })).json() as { secret: string };
const body = JSON.stringify({ batchId: 'b1', events: [{ type: 'track', name: 'e', unit: 'u', timestamp: Date.now() - 1000 }] });
const r = await fetch(server.url + '/v1/events', { method: 'POST', headers: { authorization: `Bearer ${k.secret}`, 'content-type': 'application/json' }, body });
console.log(r.status, Object.fromEntries(r.headers));
const { spawn } = await import('node:child_process');
const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'flood-child.ts'), server.url, k.secret, '450', '5'], { stdio: ['ignore', 'inherit', 'inherit'] });
let fin = false; child.once('exit', () => (fin = true));
const hs = (server as any).app?.server ?? (server as any).server;
console.log('has server', !!hs, Object.keys(server));
while (!fin) { await new Promise((r) => setTimeout(r, 500)); if (hs) hs.getConnections((e: any, n: number) => console.log('server conns', n)); }
await server.close();
