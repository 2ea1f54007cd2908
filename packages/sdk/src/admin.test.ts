import { describe, expect, it } from 'vitest';
import { ADMIN_PATHS, AdminApiError, createAdminClient, NETWORK_ERROR_CODE } from './admin.ts';
import type { FetchFn } from './types.ts';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function recordingFetch(reply: (call: Call) => Response): { fetch: FetchFn; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchFn = async (url, init = {}) => {
    const call: Call = {
      url,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    return reply(call);
  };
  return { fetch, calls };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('createAdminClient', () => {
  it('sends the admin token, JSON bodies and query filters to the paths of the table', async () => {
    const { fetch, calls } = recordingFetch(() => json({ flags: [{ key: 'a' }] }));
    const client = createAdminClient({ url: 'http://dimmer.test/', token: 'tok', fetch });
    expect(await client.listFlags({ environment: 'production', q: 'check out', archived: true })).toEqual([
      { key: 'a' },
    ]);
    expect(calls[0]?.url).toBe(
      'http://dimmer.test/api/v1/flags?environment=production&q=check+out&archived=true',
    );
    expect(calls[0]?.headers.authorization).toBe('Bearer tok');
    await client.setFlagEnabled('new checkout', 'production', false);
    expect(calls[1]).toMatchObject({
      method: 'POST',
      url: 'http://dimmer.test/api/v1/flags/new%20checkout/environments/production/disable',
    });
    expect(calls[1]?.headers['content-type']).toBeUndefined();
    await client.createSegment({ key: 's', when: { attr: 'country', op: 'eq', value: 'SE' } });
    expect(calls[2]).toMatchObject({ method: 'POST', body: { key: 's' } });
    expect(calls[2]?.headers['content-type']).toBe('application/json');
    await client.rolloutAction('ro_1', 'rollback');
    expect(calls[3]?.url).toBe(`http://dimmer.test${ADMIN_PATHS.rolloutAction('ro_1', 'rollback')}`);
    expect(calls[3]?.url).toBe('http://dimmer.test/api/v1/rollouts/ro_1/rollback');
  });

  it('sends events with the client key instead of the admin token', async () => {
    const { fetch, calls } = recordingFetch(() =>
      json({ batchId: 'b1', accepted: 1, rejected: [], duplicate: false }, 202),
    );
    const client = createAdminClient({ url: 'http://dimmer.test', token: 'admin', fetch });
    const reply = await client.sendEvents('dmr_srv_x', { batchId: 'b1', events: [] });
    expect(reply.accepted).toBe(1);
    expect(calls[0]?.url).toBe('http://dimmer.test/v1/events');
    expect(calls[0]?.headers.authorization).toBe('Bearer dmr_srv_x');
  });

  it('turns an error reply into AdminApiError with code, details, issues and Retry-After', async () => {
    const details = { issues: [{ path: 'defaultVariant', message: 'expected a variant name' }] };
    const { fetch } = recordingFetch((call) =>
      call.url.endsWith('/v1/events')
        ? json({ error: { code: 'RATE_LIMITED', message: 'slow down', details: null } }, 429, {
            'retry-after': '3',
          })
        : json(
            {
              error: {
                code: 'VALIDATION_FAILED',
                message: 'defaultVariant: expected a variant name',
                details,
              },
            },
            400,
          ),
    );
    const client = createAdminClient({ url: 'http://dimmer.test', token: 't', fetch });
    const error = await client.getFlag('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminApiError);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details, issues: details.issues });
    const limited = await client.sendEvents('k', { batchId: 'b', events: [] }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterSeconds: 3 });
  });

  it('names an error reply that is not in the standard shape by its status', async () => {
    const { fetch } = recordingFetch(() => new Response('bad gateway', { status: 502 }));
    const error = await createAdminClient({ url: 'http://dimmer.test', fetch })
      .listSegments()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'HTTP_502' });
  });

  it('reports an unreachable server as NETWORK_ERROR', async () => {
    const fetch: FetchFn = async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    };
    const error = await createAdminClient({ url: 'http://127.0.0.1:1', fetch })
      .listKeys()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 0,
      code: NETWORK_ERROR_CODE,
      message: 'cannot reach http://127.0.0.1:1: ECONNREFUSED',
    });
  });

  it('resolves deletes with nothing on 204', async () => {
    const { fetch, calls } = recordingFetch(() => new Response(null, { status: 204 }));
    await expect(
      createAdminClient({ url: 'http://dimmer.test', token: 't', fetch }).deleteMetric('m'),
    ).resolves.toBeUndefined();
    expect(calls[0]).toMatchObject({ method: 'DELETE', url: 'http://dimmer.test/api/v1/metrics/m' });
  });
});
