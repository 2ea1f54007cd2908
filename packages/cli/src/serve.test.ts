import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.ts';
import { main } from './main.ts';
import { captureStream, runCli, tempFolder } from './testing.ts';

describe('serve', () => {
  it('starts the server like npm start, prints the URL and first admin token, and stops on the signal', async () => {
    const data = tempFolder();
    const controller = new AbortController();
    const stdout = captureStream();
    const stderr = captureStream();
    const running = main(['serve', '--port', '0', '--data-dir', data.dir], {
      stdout,
      stderr,
      env: { DIMMER_LOG_LEVEL: 'silent' },
      cwd: data.dir,
      signal: controller.signal,
    });
    try {
      await expect.poll(() => stdout.text, { timeout: 10_000 }).toContain('Dimmer is running at');
      const url = /running at (http:\/\/\S+)/.exec(stdout.text)?.[1] as string;
      const token = /^\s+(dmr_admin_\S+)$/m.exec(stdout.text)?.[1] as string;
      expect(token).toBeDefined();
      const list = await runCli(['flags', 'list', '--json'], {
        env: { DIMMER_URL: url, DIMMER_TOKEN: token },
      });
      expect(list.code).toBe(EXIT_OK);
      expect(JSON.parse(list.stdout)).toEqual({ flags: [] });
    } finally {
      controller.abort();
      expect(await running).toBe(EXIT_OK);
      data.cleanup();
    }
    expect(stderr.text).toBe('');
    // The first start loads the whole server on demand: allow for a slow, shared machine.
  }, 30_000);

  it('a port in use is one line on stderr and exit 1, not a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((ready) => blocker.listen(0, '127.0.0.1', ready));
    const port = String((blocker.address() as AddressInfo).port);
    const data = tempFolder();
    try {
      const result = await runCli(['serve', '--port', port, '--data-dir', data.dir], {
        env: { DIMMER_LOG_LEVEL: 'silent' },
      });
      expect(result.code).toBe(EXIT_FAILURE);
      expect(result.stderr).toBe(
        `Error: cannot listen on 127.0.0.1:${port}: the port is already in use (another Dimmer?). Stop that process or choose another port with PORT (dimmer serve --port).\n`,
      );
    } finally {
      blocker.close();
      data.cleanup();
    }
  }, 30_000);

  it('rejects invalid settings as a usage error naming the variable', async () => {
    const result = await runCli(['serve', '--port', 'eighty'], { env: {} });
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('invalid PORT');
  });
});
