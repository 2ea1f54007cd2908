/** `dimmer tokens create|list|revoke|rotate`: admin tokens for the admin API, dashboard and CLI (secrets shown once). */
import type { AdminTokenView, CreatedAdminToken } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { formatTable, formatTime, NONE } from '../output.ts';

/** The tokens table (never secrets). */
export function formatTokenList(tokens: readonly AdminTokenView[]): string {
  if (tokens.length === 0) return 'No admin tokens.\n';
  return formatTable(
    ['id', 'name', 'role', 'owner', 'created', 'revoked'],
    tokens.map((t) => [
      t.id,
      t.name,
      t.role,
      t.owner ?? NONE,
      formatTime(t.createdAt),
      t.revokedAt === null ? NONE : formatTime(t.revokedAt),
    ]),
  );
}

function formatCreated(verb: string, created: CreatedAdminToken): string {
  return [
    `${verb} admin token ${created.token.id} (${created.token.name}).`,
    'Secret (shown only this once; store it now):',
    `  ${created.secret}`,
    '',
    formatTokenList([created.token]),
  ].join('\n');
}

/** Registers the `tokens` command group. */
export function registerTokenCommands(program: Command, ctx: CliContext): void {
  const tokens = program
    .command('tokens')
    .description('Admin tokens (admin API, dashboard, CLI); audit entries name the token as token:<name>');

  tokens
    .command('create')
    .description('Create a named admin token; its secret is printed once')
    .requiredOption('--name <name>', 'a name to recognise the token by (letters, digits, . _ -)')
    .option('--role <role>', 'viewer, editor, releaser or admin, in every environment (default admin)')
    .option('--owner <owner>', 'who answers for the token, e.g. user:ana@example.com (default: you)')
    .option('-q, --quiet', 'print only the secret')
    .action(async (opts: { name: string; role?: string; owner?: string; quiet?: boolean }, cmd: Command) => {
      const created = await ctx.admin(cmd).createToken({
        name: opts.name,
        ...(opts.role !== undefined ? { role: opts.role as 'admin' } : {}),
        ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
      });
      if (opts.quiet === true && !ctx.json(cmd)) return ctx.print(created.secret);
      ctx.output(cmd, created, () => formatCreated('Created', created));
    });

  tokens
    .command('list')
    .description('List admin tokens, revoked ones too (never their secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      const list = await ctx.admin(cmd).listTokens();
      ctx.output(cmd, { tokens: list }, () => formatTokenList(list));
    });

  tokens
    .command('revoke')
    .description('Revoke an admin token (takes effect within a second on every node)')
    .argument('<token>', 'token id or the name of an active token (see `tokens list`)')
    .option(
      '--force',
      'also revoke the last active token (locks every admin out until a restart creates one)',
    )
    .action(async (idOrName: string, opts: { force?: boolean }, cmd: Command) => {
      const token = await ctx.admin(cmd).revokeToken(idOrName, { force: opts.force === true });
      ctx.output(cmd, token, () => `Revoked admin token ${token.id} (${token.name}).\n`);
    });

  tokens
    .command('rotate')
    .description('Give a token a new secret under the same name; the old secret stops working')
    .argument('<token>', 'token id or the name of an active token')
    .option('-q, --quiet', 'print only the new secret')
    .action(async (idOrName: string, opts: { quiet?: boolean }, cmd: Command) => {
      const created = await ctx.admin(cmd).rotateToken(idOrName);
      if (opts.quiet === true && !ctx.json(cmd)) return ctx.print(created.secret);
      ctx.output(cmd, created, () => formatCreated('Rotated: new', created));
    });
}
