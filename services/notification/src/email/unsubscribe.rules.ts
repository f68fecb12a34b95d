import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The token in an unsubscribe link: the registration id and an HMAC over it. Nothing is stored per link;
 * without the secret a token cannot be made, and a changed secret invalidates every link at once.
 */
export function unsubscribeToken(secret: string, registrationId: string): string {
  return `${registrationId}.${mac(secret, `unsubscribe:${registrationId}`)}`;
}

/** The registration id a token was made for, or null for a forged or damaged token. */
export function verifyUnsubscribeToken(secret: string, token: string): string | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const registrationId = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(secret, `unsubscribe:${registrationId}`));
  return given.length === expected.length && timingSafeEqual(given, expected) ? registrationId : null;
}

/** How the suppression list names an address without holding it. */
export function addressHash(secret: string, address: string): string {
  return mac(secret, `address:${address.trim().toLowerCase()}`);
}

function mac(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}
