/**
 * Pure rules of the address confirmation that a meeting may ask for before a seat is held: how long a link
 * lives, what a followed link finds, and which requests the sweep may forget. The clock is passed in.
 */

/** How long a confirmation link works: a day, so a person who registers at night can confirm in the morning. */
export const CONFIRMATION_TTL_MS = 24 * 3600 * 1000;

/**
 * How long after expiry a request is swept. A confirmation that started just before the link expired must
 * have finished by then, so the sweep never announces the end of a request that is becoming a registration.
 */
export const CONFIRMATION_SWEEP_GRACE_MS = 10 * 60 * 1000;

export type LinkState = 'open' | 'used' | 'expired';

/** What a followed confirmation link finds; a used link stays "used" (kinder than "expired") until swept. */
export function confirmationLinkState(
  request: { confirmedAt: Date | null; expiresAt: Date },
  now: Date,
): LinkState {
  if (request.confirmedAt) return 'used';
  return now.getTime() < request.expiresAt.getTime() ? 'open' : 'expired';
}

export function confirmationExpiry(now: Date): Date {
  return new Date(now.getTime() + CONFIRMATION_TTL_MS);
}

/** Requests expired before this instant are forgotten by the sweep. */
export function sweepCutoff(now: Date): Date {
  return new Date(now.getTime() - CONFIRMATION_SWEEP_GRACE_MS);
}
