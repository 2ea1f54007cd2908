import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../src/secrets.ts';
import { sleep, freePort } from '../testing/cluster.ts';
import { timedGet } from '../testing/stream-flood.ts';
const token = generateSecret(ADMIN_TOKEN_PREFIX);
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const srv = spawn('sh', ['-c', 'ulimit -n 1024 && exec "$@"', 'sh', process.execPath, '--import', 'tsx', 'packages/server/src/main.ts'], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DIMMER_LOG_LEVEL: 'warn', DIMMER_DATA_DIR: mkdtempSync(join(tmpdir(), 'fl-')), DIMMER_ADMIN_TOKEN: token, DIMMER_RATE_LIMIT_PER_MINUTE: '10000000' }, stdio: ['ignore', 'inherit', 'inherit'] });
for (;;) { try { if ((await fetch(url + '/readyz')).ok) break; } catch {} await sleep(200); }
const k = await (await fetch(url + '/api/v1/keys', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'e', environment: 'production', kind: 'server', eventsPerMinute: 10_000_000 }) })).json() as { secret: string };
const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'flood-child.ts'), url, k.secret, process.argv[2] ?? '450', '8'], { stdio: ['ignore', 'inherit', 'inherit'] });
let finished = false; child.once('exit', () => (finished = true));
const probes: number[] = [];
let n = 0;
while (!finished) { if (n++ % 10 === 5) { const { execSync } = await import('node:child_process'); console.log('conns', execSync(`ss -tnH state established '( sport = :${port} )' | wc -l`).toString().trim(), 'recvq>0', execSync(`ss -tnH state established '( sport = :${port} )' | awk '$1>0' | wc -l`).toString().trim()); } const p = await timedGet(url, '/healthz'); probes.push(Math.round(p.ms)); await sleep(100); }
console.log('healthz probes ms:', probes.join(' '));
srv.kill('SIGTERM');
await new Promise((r) => srv.once('exit', r));
