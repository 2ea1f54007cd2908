/**
 * The fast paths answer exactly as the Fastify routes do: two servers with the same flags and keys, one with
 * fast paths and one without, get the same requests over HTTP and must give the same status, headers and bytes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestServer, type TestServer } from '../server.ts';
import { FastPaths } from './fast-path.ts';

const ORIGIN = 'https://app.example.com';
/** The rate limit of the key that runs out: small enough to reach in a test. */
const SMALL_RATE_LIMIT = 3;

/**
 * The headers whose values must match between the two paths (Date differs by nature, and x-ratelimit-reset by the
 * second the two servers' windows started in).
 */
const COMPARED_HEADERS = [
  'content-type',
  'content-length',
  'etag',
  'cache-control',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'retry-after',
  'www-authenticate',
  'vary',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'connection',
];

const FLAGS = [
  {
    key: 'new-checkout',
    kind: 'boolean',
    variants: { off: false, on: true },
    defaultVariant: 'off',
    salt: '0123456789abcdef',
    environments: {
      production: {
        enabled: true,
        rules: [
          {
            id: 'nordics',
            when: { attr: 'country', op: 'in', value: ['SE', 'NO'] },
            serve: { variant: 'on' },
          },
        ],
      },
    },
  },
  {
    key: 'banner',
    kind: 'string',
    variants: { plain: 'Hello', fancy: 'Héllo "wörld" \u2028 \\ </script>' },
    defaultVariant: 'plain',
    salt: '0123456789abcdef',
    environments: {
      production: {
        enabled: true,
        rules: [{ id: 'split', serve: { split: [{ variant: 'fancy', range: [0, 500_000] }] } }],
      },
    },
  },
  {
    key: 'max-items',
    kind: 'number',
    variants: { few: 5, many: 2.5e3 },
    defaultVariant: 'many',
    salt: '0123456789abcdef',
    environments: { production: { enabled: true, rules: [] } },
  },
  {
    key: 'theme',
    kind: 'object',
    variants: { light: { color: 'white', dense: false, sizes: [1, 2, { x: null }] } },
    defaultVariant: 'light',
    salt: '0123456789abcdef',
    environments: { production: { enabled: false, rules: [] } },
  },
];

interface Setup {
  server: TestServer;
  keys: { server: string; browser: string; limited: string };
}

async function setUp(fastPaths: boolean): Promise<Setup> {
  const server = await createTestServer({ config: { fastPaths } });
  for (const flag of FLAGS) {
    const created = await server.adminFetch('/api/v1/flags', { method: 'POST', body: JSON.stringify(flag) });
    expect(created.status).toBe(201);
  }
  const key = async (body: Record<string, unknown>): Promise<string> => {
    const created = await server.adminFetch('/api/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ environment: 'production', ...body }),
    });
    expect(created.status).toBe(201);
    return ((await created.json()) as { secret: string }).secret;
  };
  return {
    server,
    keys: {
      server: await key({ name: 'server', kind: 'server' }),
      browser: await key({ name: 'browser', kind: 'browser', allowedOrigins: [ORIGIN] }),
      limited: await key({ name: 'limited', kind: 'server', rateLimitPerMinute: SMALL_RATE_LIMIT }),
    },
  };
}

/** One request, by key role (or a literal bad key). */
interface Case {
  name: string;
  path: string;
  key?: keyof Setup['keys'] | 'unknown' | 'none';
  body?: string;
  headers?: Record<string, string>;
}

interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: string;
}

async function send(setup: Setup, request: Case, etag?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...request.headers };
  const role = request.key ?? 'server';
  if (role === 'unknown') headers.authorization = 'Bearer dmr_srv_not-a-real-key';
  else if (role !== 'none') headers.authorization = `Bearer ${setup.keys[role]}`;
  if (etag !== undefined) headers['if-none-match'] = etag;
  const response = await fetch(setup.server.url + request.path, {
    method: 'POST',
    headers,
    body: request.body ?? JSON.stringify({ context: { targetingKey: 'user-1', country: 'SE' } }),
  });
  return {
    status: response.status,
    headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, response.headers.get(name)])),
    body: await response.text(),
  };
}

const single = (flag: string) => `/ofrep/v1/evaluate/flags/${flag}`;
const BULK = '/ofrep/v1/evaluate/flags';
const RESOLVE = '/sdk/v1/resolve';
const withContext = (context: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ context, ...extra });

const CASES: Case[] = [
  { name: 'OFREP targeting match', path: single('new-checkout') },
  {
    name: 'OFREP default (no rule matched)',
    path: single('new-checkout'),
    body: withContext({ targetingKey: 'u', country: 'FR' }),
  },
  { name: 'OFREP split with escapes in the value', path: single('banner') },
  { name: 'OFREP split, other arm', path: single('banner'), body: withContext({ targetingKey: 'user-7' }) },
  { name: 'OFREP split without targeting key', path: single('banner'), body: withContext({}) },
  { name: 'OFREP number', path: single('max-items') },
  { name: 'OFREP disabled object flag', path: single('theme') },
  { name: 'OFREP unknown flag', path: single('nope') },
  { name: 'OFREP unknown key', path: single('new-checkout'), key: 'unknown' },
  { name: 'OFREP no key', path: single('new-checkout'), key: 'none' },
  { name: 'OFREP missing context', path: single('new-checkout'), body: '{}' },
  {
    name: 'OFREP ill-typed targeting key',
    path: single('new-checkout'),
    body: withContext({ targetingKey: 5 }),
  },
  { name: 'OFREP unknown field', path: single('new-checkout'), body: withContext({}, { extra: 1 }) },
  { name: 'OFREP invalid JSON', path: single('new-checkout'), body: '{"context":' },
  { name: 'OFREP array body', path: single('new-checkout'), body: '[]' },
  {
    name: 'OFREP prototype poisoning',
    path: single('new-checkout'),
    body: '{"context":{},"__proto__":{"x":1}}',
  },
  {
    name: 'OFREP too deep',
    path: single('new-checkout'),
    body: withContext({ a: JSON.parse('['.repeat(70) + ']'.repeat(70)) }),
  },
  {
    name: 'OFREP wrong content type',
    path: single('new-checkout'),
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'OFREP charset',
    path: single('new-checkout'),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  },
  {
    name: 'OFREP browser key, allowed origin',
    path: single('new-checkout'),
    key: 'browser',
    headers: { origin: ORIGIN },
  },
  { name: 'OFREP browser key, no origin', path: single('new-checkout'), key: 'browser' },
  {
    name: 'OFREP browser key, refused origin',
    path: single('new-checkout'),
    key: 'browser',
    headers: { origin: 'https://evil.example' },
  },
  {
    name: 'OFREP server key with an origin',
    path: single('new-checkout'),
    headers: { origin: 'https://any.example' },
  },
  { name: 'OFREP query string', path: `${single('new-checkout')}?x=1` },
  { name: 'OFREP encoded key', path: single('new%2Dcheckout') },
  { name: 'OFREP bulk', path: BULK },
  { name: 'OFREP bulk browser key', path: BULK, key: 'browser', headers: { origin: ORIGIN } },
  { name: 'OFREP bulk missing context', path: BULK, body: '{"ctx":{}}' },
  { name: 'OFREP bulk invalid JSON', path: BULK, body: 'nope' },
  {
    name: 'resolve one flag',
    path: RESOLVE,
    body: withContext({ targetingKey: 'user-1', country: 'SE' }, { flags: ['new-checkout'] }),
  },
  { name: 'resolve every flag', path: RESOLVE, body: withContext({ targetingKey: 'user-1' }) },
  {
    name: 'resolve repeated and unknown flags',
    path: RESOLVE,
    body: withContext({}, { flags: ['banner', 'nope', 'banner', '__proto__'] }),
  },
  {
    name: 'resolve without exposures',
    path: RESOLVE,
    body: withContext({ targetingKey: 'u' }, { logExposures: false }),
  },
  { name: 'resolve validation failure', path: RESOLVE, body: JSON.stringify({ flags: 'x', extra: true }) },
  { name: 'resolve invalid JSON', path: RESOLVE, body: '{' },
  { name: 'resolve unknown key', path: RESOLVE, key: 'unknown' },
  { name: 'resolve browser key', path: RESOLVE, key: 'browser', headers: { origin: ORIGIN } },
];

let fast: Setup;
let plain: Setup;
const handled: boolean[] = [];

beforeAll(async () => {
  [fast, plain] = await Promise.all([setUp(true), setUp(false)]);
  const handle = FastPaths.prototype.handle;
  vi.spyOn(FastPaths.prototype, 'handle').mockImplementation(function (this: FastPaths, request, response) {
    const answered = handle.call(this, request, response);
    handled.push(answered);
    return answered;
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.all([fast.server.close(), plain.server.close()]);
});

describe('fast paths', () => {
  it.each(CASES)('answer as Fastify does: $name', async (request) => {
    handled.length = 0;
    const viaFast = await send(fast, request);
    const viaFastify = await send(plain, request);
    expect(viaFast).toEqual(viaFastify);
  });

  it('take the ordinary requests and leave the unusual ones to Fastify', async () => {
    handled.length = 0;
    await send(fast, CASES[0] as Case);
    await send(fast, { name: 'unknown key', path: single('new-checkout'), key: 'unknown' });
    await send(fast, {
      name: 'text',
      path: single('new-checkout'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(handled).toEqual([true, false, false]);
  });

  it('answer 304 to a matching If-None-Match on bulk and resolve, as Fastify does', async () => {
    for (const request of [
      CASES.find((c) => c.path === BULK),
      CASES.find((c) => c.path === RESOLVE),
    ] as Case[]) {
      const first = await send(fast, request);
      const etag = first.headers.etag as string;
      expect(etag).toMatch(/^"\d+-/);
      const viaFast = await send(fast, request, etag);
      const viaFastify = await send(plain, request, (await send(plain, request)).headers.etag as string);
      expect(viaFast.status).toBe(304);
      expect(viaFast).toEqual(viaFastify);
    }
  });

  it('count in the same rate-limit window as Fastify and leave the 429 to it', async () => {
    const request: Case = { name: 'limited', path: single('new-checkout'), key: 'limited' };
    const answers: Answer[] = [];
    for (let i = 0; i <= SMALL_RATE_LIMIT; i++) {
      // The second goes through Fastify (a text body is not the fast path's) and counts in the same window; the
      // last is past the budget, so the fast path leaves it to Fastify, which answers 429.
      const alternate = i === 1 ? { ...request, headers: { 'content-type': 'text/plain' } } : request;
      answers.push(await send(fast, alternate));
    }
    expect(answers.map((a) => a.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
    const last = answers.at(-1) as Answer;
    expect(last.status).toBe(429);
    expect(last.headers['retry-after']).toMatch(/^\d+$/);
    const viaFastify: Answer[] = [];
    for (let i = 0; i <= SMALL_RATE_LIMIT; i++) viaFastify.push(await send(plain, request));
    expect(viaFastify.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect((answers[2] as Answer).body).toBe((viaFastify[2] as Answer).body);
    expect(last.body).toBe((viaFastify.at(-1) as Answer).body);
  });

  it('count their requests in the request metrics', async () => {
    const metrics = async (setup: Setup) => {
      const text = await (await setup.server.adminFetch('/metrics')).text();
      return text
        .split('\n')
        .filter((line) =>
          line.startsWith('dimmer_http_requests_total{method="POST",route="/ofrep/v1/evaluate/flags/:key"'),
        );
    };
    const before = await metrics(fast);
    await send(fast, CASES[0] as Case);
    await send(fast, { name: 'unknown flag', path: single('nope') });
    const after = await metrics(fast);
    const count = (lines: string[], status: number) =>
      Number(lines.find((line) => line.includes(`status="${status}"`))?.split(' ')[1] ?? 0);
    expect(count(after, 200) - count(before, 200)).toBe(1);
    expect(count(after, 404) - count(before, 404)).toBe(1);
  });
});
