/**
 * `dimmer events send -f events.jsonl --key <client key>`: sends exposures and tracked events from a JSON Lines
 * file in batches. Batch ids derive from the file's content, so sending the same file again is a no-op.
 */
import { createHash } from 'node:crypto';
import { AdminApiError, type AdminClient, type EventBatchEnvelope, type EventsReply } from '@dimmer/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError, usageError } from '../errors.ts';
import { type JsonLine, readJsonLines } from '../input.ts';
import { sleep } from '../io.ts';
import { formatNumber, formatTable } from '../output.ts';

/** Events per batch by default. */
export const DEFAULT_BATCH_SIZE = 500;
/** The server's largest batch. */
export const MAX_BATCH_SIZE = 1_000;
/** Tries per batch when the server answers 429 or 503. */
export const MAX_SEND_ATTEMPTS = 5;
/** Wait before retrying when the server gives no Retry-After, in milliseconds. */
const DEFAULT_RETRY_MS = 1_000;
/** Longest wait honoured from a Retry-After header, in milliseconds. */
const MAX_RETRY_MS = 30_000;
/** Hex characters of the content hash in default batch ids. */
const HASH_CHARS = 16;

function parseBatchSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_BATCH_SIZE)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_BATCH_SIZE}`);
  return n;
}

/** Splits events into batches of `size` with ids `<prefix>-<n>` (n from 1). */
export function planBatches(
  lines: readonly JsonLine[],
  size: number,
  prefix: string,
): { batchId: string; lines: JsonLine[] }[] {
  const batches: { batchId: string; lines: JsonLine[] }[] = [];
  for (let i = 0; i < lines.length; i += size)
    batches.push({ batchId: `${prefix}-${batches.length + 1}`, lines: lines.slice(i, i + size) });
  return batches;
}

async function sendWithRetry(
  ctx: CliContext,
  client: AdminClient,
  key: string,
  batch: EventBatchEnvelope,
): Promise<EventsReply> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.sendEvents(key, batch);
    } catch (error) {
      const retryable = error instanceof AdminApiError && (error.status === 429 || error.status === 503);
      if (!retryable || attempt >= MAX_SEND_ATTEMPTS) throw error;
      const wait = Math.min(MAX_RETRY_MS, (error.retryAfterSeconds ?? 0) * 1000 || DEFAULT_RETRY_MS);
      ctx.io.stderr.write(`batch ${batch.batchId}: ${error.code}, retrying in ${wait / 1000}s\n`);
      await (ctx.io.sleep ?? sleep)(wait, ctx.io.signal);
    }
  }
}

/** Registers the `events` command group. */
export function registerEventCommands(program: Command, ctx: CliContext): void {
  const events = program.command('events').description('Exposures and tracked events');

  events
    .command('send')
    .description('Send events from a JSON Lines file (one event per line) in batches, with a client key')
    .requiredOption('-f, --file <path>', 'the .jsonl file')
    .option('--key <client key>', 'a server or browser key of the environment (or DIMMER_CLIENT_KEY)')
    .option('--batch-size <n>', `events per batch (1–${MAX_BATCH_SIZE})`, parseBatchSize, DEFAULT_BATCH_SIZE)
    .option('--batch-prefix <prefix>', 'batch id prefix (default: derived from the file content)')
    .action(
      async (opts: { file: string; key?: string; batchSize: number; batchPrefix?: string }, cmd: Command) => {
        const key = opts.key ?? ctx.io.env.DIMMER_CLIENT_KEY;
        if (key === undefined || key.trim() === '')
          throw usageError(
            'no client key: pass --key <key> or set DIMMER_CLIENT_KEY (create one with `dimmer keys create`)',
          );
        const { text, lines } = await readJsonLines(opts.file, ctx.io.cwd);
        if (lines.length === 0) throw new CliError(`${opts.file} holds no events`);
        const prefix =
          opts.batchPrefix ?? `cli-${createHash('sha256').update(text).digest('hex').slice(0, HASH_CHARS)}`;
        const client = ctx.anonymous(cmd);
        const replies: { reply: EventsReply; lines: JsonLine[] }[] = [];
        for (const batch of planBatches(lines, opts.batchSize, prefix)) {
          const reply = await sendWithRetry(ctx, client, key.trim(), {
            batchId: batch.batchId,
            events: batch.lines.map((l) => l.value),
          });
          replies.push({ reply, lines: batch.lines });
        }
        const accepted = replies.reduce((a, r) => a + r.reply.accepted, 0);
        const rejected = replies.flatMap((r) =>
          r.reply.rejected.map((x) => ({
            batchId: r.reply.batchId,
            line: r.lines[x.index]?.line ?? null,
            ...x,
          })),
        );
        const duplicates = replies.filter((r) => r.reply.duplicate).length;
        if (rejected.length > 0) ctx.exitCode = 1;
        ctx.output(
          cmd,
          { events: lines.length, accepted, rejected, batches: replies.map((r) => r.reply) },
          () => {
            const table = formatTable(
              ['batch', 'events', 'accepted', 'rejected', 'duplicate'],
              replies.map((r) => [
                r.reply.batchId,
                formatNumber(r.lines.length),
                formatNumber(r.reply.accepted),
                formatNumber(r.reply.rejected.length),
                r.reply.duplicate ? 'yes (already received)' : 'no',
              ]),
            );
            const summary = `Sent ${formatNumber(lines.length)} events in ${replies.length} batch${replies.length === 1 ? '' : 'es'}: ${formatNumber(accepted)} accepted, ${formatNumber(rejected.length)} rejected${duplicates > 0 ? `, ${duplicates} batch${duplicates === 1 ? '' : 'es'} already received` : ''}.`;
            const reasons = rejected.map((r) => `  line ${r.line ?? '?'}: ${r.reason}`);
            return [table, summary, ...(reasons.length > 0 ? ['Rejected events:', ...reasons] : [])].join(
              '\n',
            );
          },
        );
      },
    );
}
