import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../src/secrets.ts';
import { startNode, stopNode, sleep } from '../testing/cluster.ts';
import { timedGet } from '../testing/stream-flood.ts';
const token = generateSecret(ADMIN_TOKEN_PREFIX);
const node = await startNode('x', { DIMMER_DATA_DIR: mkdtempSync(join(tmpdir(), 'fl-')), DIMMER_ADMIN_TOKEN: token, ...(process.env.EXTRA ? JSON.parse(process.env.EXTRA) : {}) }, { fileLimit: 1024 });
const k = await (await fetch(node.url + '/api/v1/keys', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'e', environment: 'production', kind: 'server', eventsPerMinute: 10_000_000 }) })).json() as { secret: string };
const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'flood-child.ts'), node.url, k.secret, process.argv[2] ?? '450', '8'], { stdio: ['ignore', 'inherit', 'inherit'] });
const done = new Promise((r) => child.once('exit', r));
let finished = false; void done.then(() => (finished = true));
const probes: number[] = [];
while (!finished) { const p = await timedGet(node.url, '/healthz'); probes.push(Math.round(p.ms)); await sleep(100); }
console.log('healthz probes ms:', probes.join(' '));
const m = await (await fetch(node.url + '/metrics', { headers: { authorization: `Bearer ${token}` } })).text();
console.log(m.split('\n').filter((l) => /ingest|admission|event_loop|lag/i.test(l) && !l.startsWith('#')).join('\n'));
await stopNode(node);
