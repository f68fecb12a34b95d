import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF protection for the HTML forms without sessions: a signed double-submit token. The browser holds a
 * random value in a cookie that only this site can set (SameSite=Strict, HttpOnly); every form carries the
 * HMAC of that value under the service's secret. A third-party page can make the browser post, but it can
 * neither read the cookie nor compute the field, and a cookie planted by a sibling domain fails the HMAC.
 */
export const CSRF_COOKIE = 'cdcop_csrf';
export const CSRF_FIELD = 'csrf';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{22}$/;

export function newCsrfCookieValue(): string {
  return randomBytes(16).toString('base64url');
}

export function csrfFieldFor(secret: string, cookieValue: string): string {
  return createHmac('sha256', secret).update(`csrf:${cookieValue}`).digest('base64url');
}

/** The cookie's value when it is one we could have set, else null (a new one is then issued). */
export function csrfCookieOf(cookieHeader: string | undefined): string | null {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === CSRF_COOKIE && value && COOKIE_VALUE.test(value)) return value;
  }
  return null;
}

export function csrfValid(secret: string, cookieValue: string | null, field: unknown): boolean {
  if (!cookieValue || typeof field !== 'string') return false;
  const expected = Buffer.from(csrfFieldFor(secret, cookieValue));
  const given = Buffer.from(field);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function csrfCookieHeader(value: string, secure: boolean): string {
  return `${CSRF_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
