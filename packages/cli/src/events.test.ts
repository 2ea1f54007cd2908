import { createTestServer, type TestServer } from '@dimmer/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.ts';
import { runCli, tempFolder } from './testing.ts';

let server: TestServer;
let clientKey: string;
const files = tempFolder();

function dimmer(...args: string[]) {
  return runCli(args, { env: { DIMMER_URL: server.url, DIMMER_TOKEN: server.adminToken }, cwd: files.dir });
}

function track(unit: string, name = 'app_crash'): string {
  return JSON.stringify({ type: 'track', name, unit, timestamp: new Date().toISOString() });
}

beforeAll(async () => {
  server = await createTestServer();
  const created = await dimmer('keys', 'create', '--name', 'events', '--env', 'production', '--json');
  clientKey = JSON.parse(created.stdout).secret;
});

afterAll(async () => {
  await server.close();
  files.cleanup();
});

describe('events send', () => {
  it('sends a JSONL file in batches with a client key, and re-sending the same file is deduplicated', async () => {
    const lines = Array.from({ length: 5 }, (_, i) => track(`user-${i}`));
    files.write('events.jsonl', `${lines.slice(0, 2).join('\n')}\n\n${lines.slice(2).join('\n')}\n`);
    const first = await dimmer(
      'events',
      'send',
      '-f',
      'events.jsonl',
      '--key',
      clientKey,
      '--batch-size',
      '2',
      '--json',
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(EXIT_OK);
    const reply = JSON.parse(first.stdout);
    expect(reply).toMatchObject({ events: 5, accepted: 5, rejected: [] });
    expect(reply.batches).toHaveLength(3);
    const ids = reply.batches.map((b: { batchId: string }) => b.batchId);
    expect(new Set(ids).size).toBe(3);
    expect(reply.batches.every((b: { duplicate: boolean }) => !b.duplicate)).toBe(true);

    const again = await dimmer(
      'events',
      'send',
      '-f',
      'events.jsonl',
      '--key',
      clientKey,
      '--batch-size',
      '2',
    );
    expect(again.code).toBe(EXIT_OK);
    expect(again.stdout).toMatch(/^BATCH\s+EVENTS\s+ACCEPTED\s+REJECTED\s+DUPLICATE\n/);
    expect(again.stdout).toContain('3 batches already received');
  });

  it('reports rejected events by line number and exits 1', async () => {
    files.write(
      'mixed.jsonl',
      [
        track('u1'),
        JSON.stringify({ type: 'track', name: 'x', timestamp: new Date().toISOString() }),
        track('u2'),
      ].join('\n'),
    );
    const result = await dimmer('events', 'send', '-f', 'mixed.jsonl', '--key', clientKey);
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stdout).toContain('2 accepted, 1 rejected');
    expect(result.stdout).toMatch(/line 2: unit: /);
  });

  it('refuses a file with a malformed line before sending anything', async () => {
    files.write('broken.jsonl', `${track('u1')}\n{"type": "track",\n`);
    const result = await dimmer('events', 'send', '-f', 'broken.jsonl', '--key', clientKey);
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toContain('broken.jsonl line 2: not valid JSON');
  });

  it('needs a client key, and a revoked or wrong one is an error with its code', async () => {
    files.write('one.jsonl', track('u9'));
    const none = await dimmer('events', 'send', '-f', 'one.jsonl');
    expect(none.code).toBe(EXIT_USAGE);
    expect(none.stderr).toContain('no client key');
    const wrong = await dimmer('events', 'send', '-f', 'one.jsonl', '--key', 'dmr_srv_nope');
    expect(wrong.code).toBe(EXIT_FAILURE);
    expect(wrong.stderr).toMatch(/^Error UNAUTHORIZED \(HTTP 401\)/);
  });

  it('takes the key from DIMMER_CLIENT_KEY', async () => {
    files.write('env.jsonl', track('u10'));
    const result = await runCli(['events', 'send', '-f', 'env.jsonl', '--url', server.url], {
      env: { DIMMER_CLIENT_KEY: clientKey },
      cwd: files.dir,
    });
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('1 accepted, 0 rejected');
  });
});
