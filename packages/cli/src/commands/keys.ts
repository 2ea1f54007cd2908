/** `dimmer keys create|list|revoke`: client keys for SDKs (the secret is shown once). */
import type { ClientKeyKind, ClientKeyView } from '@dimmer/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { formatTable, formatTime, NONE } from '../output.ts';

const KINDS: readonly ClientKeyKind[] = ['server', 'browser'];

function parseKind(value: string): ClientKeyKind {
  if (!(KINDS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${KINDS.join(', ')}`);
  return value as ClientKeyKind;
}

/** Parses `--rate-limit`: a positive integer of requests per minute. */
function parseRateLimit(value: string): number {
  if (!/^[1-9]\d*$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new InvalidArgumentError('expected a positive integer (requests per minute)');
  return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The keys table (never secrets). */
export function formatKeyList(keys: readonly ClientKeyView[]): string {
  if (keys.length === 0) return 'No client keys.\n';
  return formatTable(
    ['id', 'name', 'environment', 'kind', 'prefix', 'created', 'revoked'],
    keys.map((k) => [
      k.id,
      k.name,
      k.environment,
      k.kind,
      k.prefix,
      formatTime(k.createdAt),
      k.revokedAt === null ? NONE : formatTime(k.revokedAt),
    ]),
  );
}

/** Registers the `keys` command group. */
export function registerKeyCommands(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('Client keys for SDKs and OFREP (one environment each)');

  keys
    .command('create')
    .description('Create a client key; its secret is printed once')
    .requiredOption('--name <name>', 'a name to recognise the key by')
    .requiredOption('--env <environment>', 'the environment the key reads')
    .option(
      '--kind <kind>',
      'server (full config, local evaluation) or browser (public, resolve only)',
      parseKind,
      'server',
    )
    .option('--origin <origin>', 'allowed browser origin (repeatable; "*" admits any origin)', collect)
    .option(
      '--rate-limit <perMinute>',
      "the key's own requests per minute per route (default: the server's default for its kind)",
      parseRateLimit,
    )
    .option('-q, --quiet', 'print only the secret, e.g. export DIMMER_CLIENT_KEY=$(dimmer keys create … -q)')
    .action(
      async (
        opts: {
          name: string;
          env: string;
          kind: ClientKeyKind;
          origin?: string[];
          rateLimit?: number;
          quiet?: boolean;
        },
        cmd: Command,
      ) => {
        const created = await ctx.admin(cmd).createKey({
          name: opts.name,
          environment: opts.env,
          kind: opts.kind,
          ...(opts.origin !== undefined ? { allowedOrigins: opts.origin } : {}),
          ...(opts.rateLimit !== undefined ? { rateLimitPerMinute: opts.rateLimit } : {}),
        });
        if (opts.quiet === true && !ctx.json(cmd)) return ctx.print(created.secret);
        ctx.output(cmd, created, () =>
          [
            `Created ${created.key.kind} key ${created.key.id} for ${created.key.environment}.`,
            'Secret (shown only this once; store it now):',
            `  ${created.secret}`,
            '',
            formatKeyList([created.key]),
          ].join('\n'),
        );
      },
    );

  keys
    .command('list')
    .description('List client keys (never their secrets)')
    .option('--env <environment>', 'only keys of this environment')
    .action(async (opts: { env?: string }, cmd: Command) => {
      const list = await ctx.admin(cmd).listKeys(opts.env);
      ctx.output(cmd, { keys: list }, () => formatKeyList(list));
    });

  keys
    .command('revoke')
    .description('Revoke a client key (takes effect within a second on every node)')
    .argument('<id>', 'key id (see `keys list`)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const key = await ctx.admin(cmd).revokeKey(id);
      ctx.output(cmd, key, () => `Revoked key ${key.id} (${key.name}, ${key.environment}).\n`);
    });
}
