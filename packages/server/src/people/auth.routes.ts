/**
 * Sign-in routes (no admin credentials needed): how to sign in, the browser sign-in through the identity
 * provider (authorization code with PKCE) ending in a session cookie, sign-out, and the device sign-in of the
 * CLI ending in a session bearer token.
 */
import { ROUTES } from '@dimmer/api';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../errors.ts';
import { bearerToken } from '../http/admin-auth.ts';
import { CSRF_COOKIE, CSRF_HEADER, parseCookies, SESSION_COOKIE, setCookie } from '../http/cookies.ts';
import { routeSchema } from '../http/route-schema.ts';
import type { OidcClient, PendingLogin } from './oidc.ts';
import type { SessionsService } from './sessions.service.ts';

/** The cookie holding the state, nonce and PKCE verifier between `/auth/login` and `/auth/callback`. */
const PENDING_COOKIE = 'dimmer_oidc';
const PENDING_MAX_AGE_SECONDS = 600;
const DEVICE_POLL_SECONDS = 5;

export interface AuthRoutesDeps {
  oidc: OidcClient | undefined;
  sessions: SessionsService;
  /** Whether cookies carry `Secure` (the server is reached over HTTPS). */
  secureCookies: boolean;
}

function readPending(value: string | undefined): PendingLogin | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Record<string, unknown>;
    const fields = ['state', 'nonce', 'verifier', 'returnTo'] as const;
    if (fields.every((f) => typeof parsed[f] === 'string')) return parsed as unknown as PendingLogin;
  } catch {
    // a damaged cookie is treated as absent
  }
  return undefined;
}

/** Registers the sign-in routes at the root. */
export async function registerAuthRoutes(scope: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const cookie = (reply: FastifyReply, values: string[]) => reply.header('set-cookie', values);
  const requireOidc = (): OidcClient => {
    if (deps.oidc === undefined)
      throw new AppError(
        'NOT_FOUND',
        'sign-in through an identity provider is not configured (DIMMER_OIDC_ISSUER)',
      );
    return deps.oidc;
  };

  app.get('/auth/config', { schema: routeSchema(ROUTES.authConfig) }, async () => ({
    oidc:
      deps.oidc === undefined
        ? null
        : {
            providerName: deps.oidc.settings.providerName,
            loginPath: '/auth/login',
            deviceFlow: await deps.oidc.supportsDeviceFlow(),
          },
    tokenSignIn: true,
  }));

  app.get('/auth/login', { schema: routeSchema(ROUTES.authLogin) }, async (request, reply) => {
    const { url, pending } = await requireOidc().startLogin(request.query.returnTo ?? '/');
    cookie(reply, [
      setCookie(PENDING_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
        httpOnly: true,
        secure: deps.secureCookies,
        maxAgeSeconds: PENDING_MAX_AGE_SECONDS,
        path: '/auth',
      }),
    ]);
    return reply.redirect(url, 302);
  });

  app.get('/auth/callback', { schema: routeSchema(ROUTES.authCallback) }, async (request, reply) => {
    const oidc = requireOidc();
    const pending = readPending(parseCookies(request.headers.cookie).get(PENDING_COOKIE));
    if (pending === undefined)
      throw new AppError(
        'BAD_REQUEST',
        'no sign-in in progress in this browser (or it took over 10 minutes); start again at /auth/login',
      );
    if (request.query.error !== undefined)
      throw new AppError(
        'UNAUTHORIZED',
        `the identity provider refused the sign-in: ${request.query.error}${request.query.error_description ? ` (${request.query.error_description})` : ''}`,
      );
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    const identity = await oidc.finishLogin(query, pending);
    const { session, token, csrf } = await deps.sessions.open(identity, 'browser');
    const maxAgeSeconds = (session.expiresAt - session.createdAt) / 1000;
    cookie(reply, [
      setCookie(SESSION_COOKIE, token, { httpOnly: true, secure: deps.secureCookies, maxAgeSeconds }),
      setCookie(CSRF_COOKIE, csrf, { httpOnly: false, secure: deps.secureCookies, maxAgeSeconds }),
      setCookie(PENDING_COOKIE, '', {
        httpOnly: true,
        secure: deps.secureCookies,
        maxAgeSeconds: 0,
        path: '/auth',
      }),
    ]);
    return reply.redirect(pending.returnTo, 302);
  });

  app.post('/auth/logout', { schema: routeSchema(ROUTES.authLogout) }, async (request, reply) => {
    const bearer = bearerToken(request);
    const cookies = parseCookies(request.headers.cookie);
    const raw = bearer ?? cookies.get(SESSION_COOKIE);
    const session = raw === undefined ? null : await deps.sessions.authenticate(raw);
    if (session === null) throw new AppError('UNAUTHORIZED', 'no live session to end');
    if (bearer === undefined) {
      const header = request.headers[CSRF_HEADER];
      if (!deps.sessions.checkCsrf(session, typeof header === 'string' ? header : undefined))
        throw new AppError('FORBIDDEN', `signing out needs the session's CSRF token in ${CSRF_HEADER}`);
    }
    await deps.sessions.revoke(session.id, session.actor);
    cookie(reply, [
      setCookie(SESSION_COOKIE, '', { httpOnly: true, secure: deps.secureCookies, maxAgeSeconds: 0 }),
      setCookie(CSRF_COOKIE, '', { httpOnly: false, secure: deps.secureCookies, maxAgeSeconds: 0 }),
    ]);
    return reply.status(204).send(null);
  });

  app.post('/auth/device', { schema: routeSchema(ROUTES.authDeviceStart) }, async () => {
    const started = await requireOidc().startDevice();
    return {
      deviceCode: started.device_code,
      userCode: started.user_code,
      verificationUri: started.verification_uri,
      verificationUriComplete: started.verification_uri_complete ?? null,
      intervalSeconds: Math.max(1, started.interval ?? DEVICE_POLL_SECONDS),
      expiresInSeconds: Math.max(1, started.expires_in),
    };
  });

  app.post('/auth/device/token', { schema: routeSchema(ROUTES.authDeviceToken) }, async (request) => {
    const identity = await requireOidc().pollDevice(request.body.deviceCode);
    if (identity === null) return { status: 'pending' as const, intervalSeconds: DEVICE_POLL_SECONDS };
    const { session, token } = await deps.sessions.open(identity, 'device');
    return {
      status: 'complete' as const,
      token,
      actor: session.actor,
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  });
}
