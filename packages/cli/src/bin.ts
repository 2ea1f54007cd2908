#!/usr/bin/env -S npx tsx
/**
 * The `dimmer` executable: runs `main` on the process's arguments and streams. Ctrl-C or SIGTERM aborts the
 * running command (stopping `serve` and `--watch` cleanly); a second Ctrl-C exits at once.
 */
import { main } from './main.ts';

const controller = new AbortController();
let interrupted = false;
const stop = (): void => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = code;
// Idle handles (keep-alive sockets) must not keep a finished command alive.
process.removeListener('SIGINT', stop);
process.removeListener('SIGTERM', stop);
setTimeout(() => process.exit(code), 100).unref();
