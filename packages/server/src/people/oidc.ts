/**
 * The OpenID Connect relying party (openid-client): discovery of the provider from its issuer URL, the
 * authorization code flow with PKCE for the dashboard, and the device authorization grant for the CLI. The
 * provider's metadata is discovered on first use and again after a failure, so a provider that is down at
 * start does not keep the server from starting.
 */
import * as oidc from 'openid-client';
import { AppError } from '../errors.ts';
import type { Identity } from './sessions.service.ts';

export interface OidcSettings {
  /** The provider's issuer URL (its discovery document is `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  /** Absent for a public client. */
  clientSecret?: string;
  /** This server's `/auth/callback` as the browser reaches it, registered at the provider. */
  redirectUrl: string;
  /** Shown on the sign-in page: "Sign in with <providerName>". */
  providerName: string;
  /** Scopes asked for (default `openid email profile groups`). */
  scopes: string;
  /** The claim that lists the person's groups (default `groups`). */
  groupsClaim: string;
}

export const DEFAULT_OIDC_SCOPES = 'openid email profile groups';
export const DEFAULT_GROUPS_CLAIM = 'groups';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** What the browser keeps between `/auth/login` and `/auth/callback` (in a short-lived HttpOnly cookie). */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

/** Loopback issuers (a provider on this machine) may use plain HTTP; anything else must use HTTPS. */
function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

function unavailable(error: unknown): AppError {
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('UNAVAILABLE', `the identity provider cannot be reached: ${message}`);
}

export class OidcClient {
  #config: Promise<oidc.Configuration> | undefined;

  constructor(readonly settings: OidcSettings) {}

  /** The provider's configuration, discovered once (again after a failure). */
  async configuration(): Promise<oidc.Configuration> {
    if (this.#config === undefined) {
      const issuer = new URL(this.settings.issuer);
      this.#config = oidc.discovery(
        issuer,
        this.settings.clientId,
        this.settings.clientSecret,
        this.settings.clientSecret === undefined ? oidc.None() : undefined,
        isLoopback(issuer) && issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {},
      );
      this.#config.catch(() => {
        this.#config = undefined;
      });
    }
    try {
      return await this.#config;
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Whether the provider offers the device authorization grant (false while it cannot be reached). */
  async supportsDeviceFlow(): Promise<boolean> {
    try {
      return (await this.configuration()).serverMetadata().device_authorization_endpoint !== undefined;
    } catch {
      return false;
    }
  }

  /** The provider's authorization URL for a new sign-in, and what the browser must keep until the callback. */
  async startLogin(returnTo: string): Promise<{ url: string; pending: PendingLogin }> {
    const config = await this.configuration();
    const pending: PendingLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      returnTo,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: this.settings.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Exchanges the authorization response (the callback's query) for the person's identity. */
  async finishLogin(query: string, pending: PendingLogin): Promise<Identity> {
    const config = await this.configuration();
    const current = new URL(this.settings.redirectUrl);
    current.search = query;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.#refused(error);
    }
    return this.#identity(config, tokens);
  }

  /** Starts a device sign-in at the provider. */
  async startDevice(): Promise<oidc.DeviceAuthorizationResponse> {
    const config = await this.configuration();
    if (config.serverMetadata().device_authorization_endpoint === undefined)
      throw new AppError(
        'NOT_FOUND',
        'the identity provider does not offer the device sign-in; use a service token',
      );
    try {
      return await oidc.initiateDeviceAuthorization(config, { scope: this.settings.scopes });
    } catch (error) {
      throw this.#refused(error);
    }
  }

  /** One poll of a device sign-in: null while the person has not confirmed yet. */
  async pollDevice(deviceCode: string): Promise<Identity | null> {
    const config = await this.configuration();
    let tokens: Awaited<ReturnType<typeof oidc.genericGrantRequest>>;
    try {
      tokens = await oidc.genericGrantRequest(config, DEVICE_CODE_GRANT, { device_code: deviceCode });
    } catch (error) {
      if (
        error instanceof oidc.ResponseBodyError &&
        (error.error === 'authorization_pending' || error.error === 'slow_down')
      )
        return null;
      throw this.#refused(error);
    }
    return this.#identity(config, tokens);
  }

  async #identity(
    config: oidc.Configuration,
    tokens: { access_token: string; claims(): oidc.IDToken | undefined },
  ): Promise<Identity> {
    const claims = tokens.claims();
    if (claims === undefined) throw new AppError('UNAUTHORIZED', 'the identity provider sent no ID token');
    let source: Record<string, unknown> = claims;
    if (claims[this.settings.groupsClaim] === undefined || claims.email === undefined) {
      // Many providers put groups and email only in the userinfo reply.
      try {
        source = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
      } catch (error) {
        throw this.#refused(error);
      }
    }
    const groups = source[this.settings.groupsClaim];
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
    return {
      subject: claims.sub,
      email: text(source.email),
      name: text(source.name),
      groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
    };
  }

  #refused(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (error instanceof oidc.ResponseBodyError)
      return new AppError(
        'UNAUTHORIZED',
        `the identity provider refused the sign-in: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`,
      );
    if (error instanceof oidc.AuthorizationResponseError)
      return new AppError('UNAUTHORIZED', `the identity provider refused the sign-in: ${error.error}`);
    if (error instanceof TypeError || (error instanceof Error && /fetch|ECONNREFUSED/i.test(error.message)))
      return unavailable(error);
    return new AppError(
      'UNAUTHORIZED',
      `the sign-in could not be verified: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
