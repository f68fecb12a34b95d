import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { findAccountByEmail } from '../accounts/account.repository.ts';
import type { StaffAccount } from '../accounts/account.service.ts';
import type { ServiceContext } from '../context.ts';
import { decideIdentity, mayUseHttp, SSO_ATTEMPT_TTL_MS } from './sso.rules.ts';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface SsoSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string | undefined;
  redirectUri: string;
  requireVerifiedEmail: boolean;
}

export type SsoResult =
  | { kind: 'accepted'; account: StaffAccount; subject: string }
  | { kind: 'refused'; why: string; email?: string | undefined };

/**
 * The OpenID Connect client (openid-client): discovery once, then per login an authorization URL with PKCE
 * (S256), state and nonce, whose verifier and nonce wait in the console's table until the provider sends the
 * person back; the code is then exchanged and the ID token checked by the library.
 */
export class SsoClient {
  #configuration: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly ctx: ServiceContext,
    readonly settings: SsoSettings,
  ) {}

  #config(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    this.#configuration ??= oidc
      .discovery(
        issuer,
        clientId,
        clientSecret ? { client_secret: clientSecret } : undefined,
        clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(),
        {
          execute: issuer.protocol === 'http:' && mayUseHttp(issuer) ? [oidc.allowInsecureRequests] : [],
          timeout: 10,
        },
      )
      .catch((err) => {
        // Tried again at the next login, not cached as broken.
        this.#configuration = undefined;
        throw err;
      });
    return this.#configuration;
  }

  /** Where to send the person, and the state for the cookie that must come back with them. */
  async start(next: string | undefined): Promise<{ url: string; state: string }> {
    const config = await this.#config();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const now = this.ctx.clock.now();
    await this.ctx.db
      .deleteFrom('sso_attempt')
      .where('created_at', '<', new Date(now.getTime() - SSO_ATTEMPT_TTL_MS))
      .execute();
    await this.ctx.db
      .insertInto('sso_attempt')
      .values({
        state_hash: sha256(state),
        code_verifier: verifier,
        nonce,
        next: next ?? null,
        created_at: now,
      })
      .execute();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * The provider's answer: the state (from the cookie) must name a fresh attempt, which is used up; the code
   * is exchanged with the PKCE verifier; the identity must map to an enabled account.
   */
  async finish(callbackUrl: URL, state: string | undefined): Promise<SsoResult & { next?: string | null }> {
    if (!state) return { kind: 'refused', why: 'no state cookie' };
    const attempt = await this.ctx.db
      .deleteFrom('sso_attempt')
      .where('state_hash', '=', sha256(state))
      .returningAll()
      .executeTakeFirst();
    const now = this.ctx.clock.now();
    if (!attempt || attempt.created_at.getTime() < now.getTime() - SSO_ATTEMPT_TTL_MS) {
      return { kind: 'refused', why: 'unknown or expired login attempt' };
    }
    const config = await this.#config();
    let claims: Record<string, unknown>;
    let subject: string;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: attempt.code_verifier,
        expectedState: state,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) return { kind: 'refused', why: 'no ID token' };
      subject = idClaims.sub;
      claims = { ...idClaims };
      if (claims.email === undefined) {
        // Providers may keep the profile claims for the userinfo endpoint.
        claims = { ...claims, ...(await oidc.fetchUserInfo(config, tokens.access_token, subject)) };
      }
    } catch (err) {
      return { kind: 'refused', why: `the provider's answer was not accepted: ${(err as Error).message}` };
    }
    const identity = decideIdentity(claims, this.settings.requireVerifiedEmail);
    if (!identity.ok) return { kind: 'refused', why: identity.why };
    const account = await findAccountByEmail(this.ctx.db, identity.email);
    if (!account)
      return { kind: 'refused', why: 'no account with this e-mail address', email: identity.email };
    if (account.disabled_at) return { kind: 'refused', why: 'account disabled', email: identity.email };
    return {
      kind: 'accepted',
      subject,
      next: attempt.next,
      account: { id: account.id, email: account.email, name: account.name, role: account.role },
    };
  }
}
