import { createHash } from 'node:crypto';
import { randomBytesFromPool } from '@citydeals/service-kit';

/** 192 random bits: well above the 128 asked for, and 32 URL-safe characters. */
export function newManageToken(): string {
  return randomBytesFromPool(24).toString('base64url');
}

/** The token has full entropy, so a plain SHA-256 is enough: there is nothing to brute-force. */
export function hashManageToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const MANAGE_PATH = '/aanmelding/beheren';

/** The emailed link; it holds the secret, so it is only ever built from a token just created. */
export function manageUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}${MANAGE_PATH}/${token}`;
}

/**
 * Events after the first cannot carry the secret (only its hash is kept), so they link to the manage page
 * without it; consumers keep the link from the registered or waitlisted event.
 */
export function manageUrlWithoutToken(publicBaseUrl: string): string {
  return `${publicBaseUrl}${MANAGE_PATH}`;
}

/** Shape check before any lookup, so a malformed token is answered without touching the database. */
export const MANAGE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;
