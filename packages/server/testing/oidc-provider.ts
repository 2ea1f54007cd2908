/// <reference path="./oidc-provider-types.d.ts" />
/**
 * A real OpenID Connect provider for tests (oidc-provider, a certified provider implementation) on 127.0.0.1,
 * with its built-in login and consent pages, the device flow, and people whose email, name and groups the
 * test chooses. `signInWithProvider` drives its pages over HTTP the way a browser submits their forms.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import Provider from 'oidc-provider';

export interface TestPerson {
  email: string;
  name: string;
  groups: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Registers the Dimmer server's `/auth/callback` and starts answering (the server's URL is known only now). */
  serve(redirectUri: string): void;
  close(): Promise<void>;
}

/** Starts listening on 127.0.0.1; people sign in by login name (any password). */
export async function startTestProvider(options: {
  people: Record<string, TestPerson>;
}): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'dimmer';
  const clientSecret = 'dimmer-test-secret-0123456789abcdef';
  const configure = (redirectUri: string) =>
    new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
          response_types: ['code'],
        },
      ],
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true }, deviceFlow: { enabled: true } },
      claims: { openid: ['sub'], email: ['email'], profile: ['name'], groups: ['groups'] },
      scopes: ['openid', 'email', 'profile', 'groups'],
      findAccount: async (_ctx: unknown, id: string) => {
        const person = options.people[id];
        if (person === undefined) return undefined;
        return { accountId: id, claims: async () => ({ sub: id, ...person }) };
      },
      cookies: { keys: ['dimmer-test-cookie-key'] },
    });
  return {
    issuer,
    clientId,
    clientSecret,
    serve(redirectUri) {
      server.on('request', configure(redirectUri).callback());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A free port on 127.0.0.1 (the Dimmer server's redirect URL must be known before it is built). */
export async function reservePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A cookie jar of one site: `Set-Cookie` in, `Cookie` out. */
class Jar {
  readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      if (eq > 0)
        this.cookies.set((pair as string).slice(0, eq).trim(), (pair as string).slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The first form of a page: its action and its inputs (hidden ones with their values). */
function firstForm(html: string, base: string): { action: string; fields: Map<string, string> } | undefined {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields = new Map<string, string>();
  for (const input of (form[2] as string).matchAll(/<input([^>]*)>/gi)) {
    const name = /name="([^"]*)"/.exec(input[1] as string)?.[1];
    if (name !== undefined) fields.set(name, /value="([^"]*)"/.exec(input[1] as string)?.[1] ?? '');
  }
  return { action: new URL((form[1] as string).replace(/&amp;/g, '&'), base).href, fields };
}

/**
 * Walks the provider's pages from `start` as a browser would: follows redirects, signs in as `login` on the
 * login form, confirms every other form (consent, device code). Stops at the first URL starting with `until`
 * (returned, not fetched), or at a page without a form (its URL and text are returned).
 */
export async function walkProvider(
  start: string,
  login: string,
  until?: string,
): Promise<{ url: string; text: string }> {
  const jar = new Jar();
  let url = start;
  let init: RequestInit = {};
  for (let step = 0; step < 30; step++) {
    if (until !== undefined && url.startsWith(until)) return { url, text: '' };
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.take(response);
    init = {};
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      url = new URL(location, url).href;
      continue;
    }
    const text = await response.text();
    const form = firstForm(text, url);
    if (form === undefined) return { url, text };
    if (form.fields.has('login')) {
      form.fields.set('login', login);
      form.fields.set('password', 'any');
    }
    url = form.action;
    init = {
      method: 'POST',
      body: new URLSearchParams([...form.fields]).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
  }
  throw new Error(`the provider's pages did not end after 30 steps (at ${url})`);
}

/**
 * Signs `login` in to the Dimmer server at `base` through the provider (authorization code with PKCE), as the
 * dashboard's browser would; returns the session and CSRF cookies the server set.
 */
export async function signInWithProvider(
  base: string,
  login: string,
): Promise<{ session: string; csrf: string; cookie: string }> {
  const dimmer = new Jar();
  const start = await fetch(`${base}/auth/login`, { redirect: 'manual' });
  dimmer.take(start);
  const authorize = start.headers.get('location');
  if (start.status !== 302 || authorize === null) throw new Error(`/auth/login answered ${start.status}`);
  const { url: callback } = await walkProvider(authorize, login, `${base}/auth/callback`);
  const done = await fetch(callback, { redirect: 'manual', headers: { cookie: dimmer.header() } });
  dimmer.take(done);
  if (done.status !== 302) throw new Error(`/auth/callback answered ${done.status}: ${await done.text()}`);
  const session = dimmer.cookies.get('dimmer_session');
  const csrf = dimmer.cookies.get('dimmer_csrf');
  if (session === undefined || csrf === undefined) throw new Error('the callback set no session cookies');
  return {
    session: decodeURIComponent(session),
    csrf: decodeURIComponent(csrf),
    cookie: `dimmer_session=${session}; dimmer_csrf=${csrf}`,
  };
}
