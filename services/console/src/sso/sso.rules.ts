/** A login at the identity provider must come back within this; the state is single use. */
export const SSO_ATTEMPT_TTL_MS = 10 * 60_000;

export type IdentityDecision =
  | { ok: true; email: string }
  | { ok: false; why: 'no-email' | 'email-not-verified' };

/**
 * The provider's identity maps to an account by e-mail address (lower-case, as accounts store it). With
 * `requireVerified`, the provider must vouch for the address: an address anyone can set in their profile at
 * the provider would otherwise open someone else's account.
 */
export function decideIdentity(
  claims: { email?: unknown; email_verified?: unknown },
  requireVerified: boolean,
): IdentityDecision {
  if (typeof claims.email !== 'string' || !claims.email.includes('@')) return { ok: false, why: 'no-email' };
  if (requireVerified && claims.email_verified !== true) return { ok: false, why: 'email-not-verified' };
  return { ok: true, email: claims.email.trim().toLowerCase() };
}

/** Plain http to the provider only on the loopback (a provider started by a test or on the same host). */
export function mayUseHttp(issuer: URL): boolean {
  return issuer.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
}
