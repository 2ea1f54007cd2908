import { Agent, request as httpRequest } from 'node:http';
const [url0, key, clientsS, secondsS] = process.argv.slice(2);
const url = new URL(url0!);
const agent = new Agent({ keepAlive: true, maxSockets: Number(clientsS) });
const statuses = new Map<number, number>();
const times: number[] = []; const by: Record<number, number[]> = {};
const until = performance.now() + Number(secondsS) * 1000;
function body(id: string) { const ts = Date.now() - 1000; return JSON.stringify({ batchId: id, events: Array.from({ length: 100 }, (_, k) => ({ type: 'track', name: 'e', unit: `${id}-${k}`, timestamp: ts + k })) }); }
function post(b: string): Promise<{ s: number; ms: number }> { const t = performance.now(); return new Promise((res) => { const r = httpRequest({ host: url.hostname, port: Number(url.port), method: 'POST', path: '/v1/events', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(b)) } }, (x) => { x.resume(); x.once('end', () => res({ s: x.statusCode ?? 0, ms: performance.now() - t })); }); r.once('error', () => res({ s: 0, ms: performance.now() - t })); r.end(b); }); }
let lag = 0; let last = performance.now(); const iv = setInterval(() => { const n = performance.now(); lag = Math.max(lag, n - last - 50); last = n; }, 50);
await Promise.all(Array.from({ length: Number(clientsS) }, async (_, c) => { for (let i = 0; performance.now() < until; i++) { const a = await post(body(`f${c}-${i}-${Math.random()}`)); times.push(a.ms); (by[a.s] ??= []).push(a.ms); statuses.set(a.s, (statuses.get(a.s) ?? 0) + 1); } }));
clearInterval(iv);
times.sort((a, b) => a - b);
for (const [st, arr] of Object.entries(by)) { arr.sort((a, b) => a - b); console.log(st, 'n', arr.length, 'p50', Math.round(arr[Math.floor(arr.length / 2)]!), 'p99', Math.round(arr[Math.floor(arr.length * 0.99)]!)); }
console.log(JSON.stringify({ statuses: Object.fromEntries(statuses), p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], clientMaxLag: lag }));
agent.destroy();
