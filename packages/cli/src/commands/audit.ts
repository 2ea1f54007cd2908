/** `dimmer audit list`: the append-only audit log, newest first, filtered by resource, actor and time. */
import type { AuditEntry, AuditFilter } from '@dimmer/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { cell, formatTable, formatTime } from '../output.ts';

/** Entries per page the server returns at most. */
export const MAX_AUDIT_PAGE = 500;
/** Entries shown when `--limit` is not given. */
export const DEFAULT_AUDIT_LIMIT = 50;

const RELATIVE_UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads `--since`: an ISO 8601 time, or a span back from `nowMs` such as `30m`, `2h` or `7d`. Returns the ISO
 * time the server filters on.
 */
export function parseSince(value: string, nowMs: number): string {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  if (relative !== null) {
    const [, n, unit] = relative;
    return new Date(nowMs - Number(n) * (RELATIVE_UNITS_MS[unit as string] as number)).toISOString();
  }
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
    throw new InvalidArgumentError(
      'expected an ISO 8601 time (2026-01-31T09:00:00Z) or a span such as 30m, 2h, 7d',
    );
  return new Date(ms).toISOString();
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return n;
}

/** The audit table: one line per entry. */
export function formatAuditList(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'No audit entries match.\n';
  return formatTable(
    ['time', 'actor', 'action', 'resource', 'environment'],
    entries.map((e) => [
      formatTime(e.at),
      e.actor,
      e.action,
      `${e.resourceType} ${e.resourceKey}`,
      cell(e.environment),
    ]),
  );
}

interface AuditListOptions {
  type?: string;
  id?: string;
  actor?: string;
  since?: string;
  limit: number;
}

/** Registers the `audit` command group. */
export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('The audit log: who changed what, and when');

  audit
    .command('list')
    .description('List audit entries, newest first (--json for the before/after documents)')
    .option('--type <resource type>', 'only this resource type: flag, segment, metric, surface, rollout, …')
    .option('--id <key>', 'only this resource (a flag key, a rollout id, …)')
    .option('--actor <actor>', 'only changes by this actor (admin, controller, a token or person)')
    .option(
      '--since <time>',
      'only entries at or after this ISO time, or within a span such as 30m, 2h, 7d',
      (v) => parseSince(v, Date.now()),
    )
    .option(
      '--limit <n>',
      `entries to show (default ${DEFAULT_AUDIT_LIMIT})`,
      parseLimit,
      DEFAULT_AUDIT_LIMIT,
    )
    .action(async (opts: AuditListOptions, cmd: Command) => {
      const client = ctx.admin(cmd);
      const filter: AuditFilter = {
        ...(opts.type !== undefined
          ? { resourceType: opts.type as NonNullable<AuditFilter['resourceType']> }
          : {}),
        ...(opts.id !== undefined ? { key: opts.id } : {}),
        ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
      };
      const entries: AuditEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listAudit({
          ...filter,
          limit: Math.min(MAX_AUDIT_PAGE, opts.limit - entries.length),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        entries.push(...page.entries);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && entries.length < opts.limit);
      const more = cursor !== undefined;
      ctx.output(
        cmd,
        { entries, nextCursor: cursor ?? null },
        () =>
          `${formatAuditList(entries)}${more ? `(showing the newest ${entries.length}; --limit for more)\n` : ''}`,
      );
    });
}
