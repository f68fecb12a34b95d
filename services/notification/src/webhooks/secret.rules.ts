/** Signing secrets of endpoints, in the Standard Webhooks format. Pure: random bytes are passed in. */

export const SECRET_PREFIX = 'whsec_';
/** The spec asks for 24 to 64 bytes; 32 matches the HMAC-SHA256 block's strength. */
export const SECRET_BYTES = 32;

export function formatSecret(random: Uint8Array): string {
  if (random.length < 24 || random.length > 64) throw new Error('a signing secret has 24 to 64 bytes');
  return `${SECRET_PREFIX}${Buffer.from(random).toString('base64')}`;
}

export interface EndpointSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/**
 * The secrets a message is signed with at `now`: the current one, and during the grace period after a
 * rotation the previous one too, so a receiver still configured with the old secret keeps verifying.
 */
export function signingSecrets(endpoint: EndpointSecrets, now: Date): string[] {
  const graceOpen =
    endpoint.previousSecret !== null &&
    endpoint.previousSecretExpiresAt !== null &&
    endpoint.previousSecretExpiresAt.getTime() > now.getTime();
  return graceOpen ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}
