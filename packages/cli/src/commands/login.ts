/**
 * `dimmer login|logout|whoami`: sign the CLI in to a server, through the identity provider's device-code flow
 * (open a URL, confirm a code) or with a service token, and keep the credential in the user's config folder
 * (0600). Later commands use it when neither `--token` nor DIMMER_TOKEN is given.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { loadCredential, type StoredCredential, saveCredential } from '../credentials.ts';
import { CliError, usageError } from '../errors.ts';
import { sleep } from '../io.ts';

interface Me {
  actor: string;
  kind: 'person' | 'token';
  role: string | null;
  environments: Record<string, string | null>;
  sessionExpiresAt: string | null;
}

async function call<T>(
  ctx: CliContext,
  url: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const fetchFn = ctx.io.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchFn(`${url.replace(/\/+$/, '')}${path}`, init);
  } catch (error) {
    throw new CliError(`cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new CliError(`${error?.code ?? `HTTP ${response.status}`}: ${error?.message ?? `${path} failed`}`);
  }
  return { status: response.status, body: body as T };
}

function describe(me: Me): string {
  const roles = Object.entries(me.environments)
    .map(([env, role]) => `${env}: ${role ?? 'none'}`)
    .join(', ');
  return `${me.actor} (${me.kind}); role ${me.role ?? 'none'} in every environment${roles === '' ? '' : `; ${roles}`}`;
}

/** Registers `login`, `logout` and `whoami`. */
export function registerLoginCommands(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description(
      'Sign in to the server (device-code flow of its identity provider, or a service token) and remember it',
    )
    .option(
      '--with-token',
      'store the token of --token or DIMMER_TOKEN (a service token) instead of signing in as a person',
    )
    .action(async (opts: { withToken?: boolean }, cmd: Command) => {
      const { url, token } = ctx.options(cmd);
      if (opts.withToken === true) {
        if (token === undefined) throw usageError('--with-token needs --token <token> or DIMMER_TOKEN');
        const me = (await call<Me>(ctx, url, '/api/v1/me', { headers: { authorization: `Bearer ${token}` } }))
          .body;
        const path = saveCredential(ctx.io.env, url, {
          token,
          kind: 'token',
          actor: me.actor,
          expiresAt: null,
        });
        return ctx.output(
          cmd,
          { actor: me.actor, stored: path },
          () => `Signed in to ${url} as ${describe(me)}.\nStored in ${path}.`,
        );
      }
      const config = (
        await call<{ oidc: { providerName: string; deviceFlow: boolean } | null }>(ctx, url, '/auth/config')
      ).body;
      if (config.oidc === null || !config.oidc.deviceFlow)
        throw usageError(
          `${url} offers no device sign-in${config.oidc === null ? ' (no identity provider is configured)' : ''}; use dimmer login --with-token --token <service token>`,
        );
      const started = (
        await call<{
          deviceCode: string;
          userCode: string;
          verificationUri: string;
          verificationUriComplete: string | null;
          intervalSeconds: number;
          expiresInSeconds: number;
        }>(ctx, url, '/auth/device', { method: 'POST' })
      ).body;
      ctx.io.stderr.write(
        `To sign in with ${config.oidc.providerName}, open ${started.verificationUriComplete ?? started.verificationUri}\n` +
          `and confirm the code ${started.userCode}. Waiting…\n`,
      );
      const wait = ctx.io.sleep ?? sleep;
      const deadline = Date.now() + started.expiresInSeconds * 1000;
      let interval = started.intervalSeconds;
      while (Date.now() < deadline) {
        if (ctx.io.signal?.aborted) throw new CliError('sign-in cancelled');
        const reply = (
          await call<
            | { status: 'pending'; intervalSeconds: number }
            | { status: 'complete'; token: string; actor: string; expiresAt: string }
          >(ctx, url, '/auth/device/token', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ deviceCode: started.deviceCode }),
          })
        ).body;
        if (reply.status === 'complete') {
          const credential: StoredCredential = {
            token: reply.token,
            kind: 'session',
            actor: reply.actor,
            expiresAt: reply.expiresAt,
          };
          const path = saveCredential(ctx.io.env, url, credential);
          const me = (
            await call<Me>(ctx, url, '/api/v1/me', { headers: { authorization: `Bearer ${reply.token}` } })
          ).body;
          return ctx.output(
            cmd,
            { actor: reply.actor, expiresAt: reply.expiresAt, stored: path },
            () => `Signed in to ${url} as ${describe(me)} until ${reply.expiresAt}.\nStored in ${path}.`,
          );
        }
        interval = Math.max(interval, reply.intervalSeconds);
        await wait(interval * 1000, ctx.io.signal);
      }
      throw new CliError('the device code expired before the sign-in was confirmed; run dimmer login again');
    });

  program
    .command('logout')
    .description('End the stored session on the server and forget the credential')
    .action(async (_opts: unknown, cmd: Command) => {
      const { url } = ctx.options(cmd);
      const stored = loadCredential(ctx.io.env, url);
      if (stored?.kind === 'session')
        await call(ctx, url, '/auth/logout', {
          method: 'POST',
          headers: { authorization: `Bearer ${stored.token}` },
        }).catch(() => undefined);
      saveCredential(ctx.io.env, url, undefined);
      ctx.output(cmd, { signedOut: url }, () => `Signed out of ${url}.`);
    });

  program
    .command('whoami')
    .description('Who the CLI acts as on the server, with the role in every environment')
    .action(async (_opts: unknown, cmd: Command) => {
      const { url, token } = ctx.options(cmd);
      if (token === undefined) throw usageError('not signed in: run dimmer login, or pass --token');
      const me = (await call<Me>(ctx, url, '/api/v1/me', { headers: { authorization: `Bearer ${token}` } }))
        .body;
      ctx.output(cmd, me, () => describe(me));
    });
}
