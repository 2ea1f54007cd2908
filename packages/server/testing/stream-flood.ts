/**
 * Test and benchmark support for the config-stream flood: many `GET /sdk/v1/stream` attempts with one client
 * key, spread over several loopback source addresses (127.0.0.2, 127.0.0.3, …, all local on Linux) so that the
 * per-address cap does not hide the per-key and overall caps; the admitted streams are held open. Also times
 * requests on fresh connections, as a monitoring probe would make them.
 */
import { request as httpRequest } from 'node:http';

/** The outcome of a stream flood: answers by status, and the admitted streams, held open until `close()`. */
export interface StreamFlood {
  statuses: Map<number, number>;
  /** Refused attempts (not 200) whose answer had no Retry-After header. */
  refusedWithoutRetryAfter: number;
  /** Attempts that got no HTTP answer (connection reset or refused). */
  failed: number;
  /** Admitted streams still open. */
  open(): number;
  close(): void;
}

/** The loopback source address of attempt `i` when attempts are spread over `addresses` addresses. */
function sourceAddress(i: number, addresses: number): string {
  return `127.0.0.${2 + (i % addresses)}`;
}

/**
 * Sends `attempts` stream requests with `key` to `baseUrl` (127.0.0.1), `concurrency` at a time, from
 * `addresses` loopback source addresses in turn; returns once every attempt has its answer.
 */
export async function floodStreams(input: {
  baseUrl: string;
  key: string;
  attempts: number;
  addresses: number;
  concurrency?: number;
}): Promise<StreamFlood> {
  const url = new URL(input.baseUrl);
  const statuses = new Map<number, number>();
  const held = new Set<{ destroy(): void }>();
  let refusedWithoutRetryAfter = 0;
  let failed = 0;
  const attempt = (i: number) =>
    new Promise<void>((resolve) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: Number(url.port),
          path: '/sdk/v1/stream',
          headers: { authorization: `Bearer ${input.key}` },
          localAddress: sourceAddress(i, input.addresses),
          agent: false,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200) {
            held.add(req);
            res.once('close', () => held.delete(req));
            resolve();
            return;
          }
          if (res.headers['retry-after'] === undefined) refusedWithoutRetryAfter++;
          res.resume();
          res.once('end', resolve);
        },
      );
      req.once('error', () => {
        if (!held.has(req)) failed++;
        resolve();
      });
      req.end();
    });
  const concurrency = input.concurrency ?? 100;
  for (let i = 0; i < input.attempts; i += concurrency)
    await Promise.all(
      Array.from({ length: Math.min(concurrency, input.attempts - i) }, (_, k) => attempt(i + k)),
    );
  return {
    statuses,
    refusedWithoutRetryAfter,
    failed,
    open: () => held.size,
    close: () => {
      for (const req of held) req.destroy();
      held.clear();
    },
  };
}

/** One GET on a fresh connection: its status and its time in milliseconds (a reset counts as status 0). */
export function timedGet(baseUrl: string, path: string): Promise<{ status: number; ms: number }> {
  const url = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest({ host: url.hostname, port: Number(url.port), path, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.once('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end();
  });
}
