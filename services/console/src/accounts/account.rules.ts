import type { StaffRole } from '@citydeals/service-kit';

/** What a person may do in the console; the services check the same through the staff token's scopes. */
/** `session`: what anyone logged in may do (log out). */
/** `meetings`: meetings and their attendees (personal data, so not the read-only role). */
/** `messages`: compose and send messages to a meeting's attendees (the read-only role sees the list). */
/**
 * `deliveries`: read the mail and webhook logs, send a test, replay, retry; `manage-webhooks`: create, disable
 * and rotate the secrets of endpoints (integration settings, like keys); `manage-accounts`: people and keys.
 */
export type ConsoleAction =
  | 'session'
  | 'view'
  | 'door'
  | 'edit-deals'
  | 'meetings'
  | 'messages'
  | 'deliveries'
  | 'manage-webhooks'
  | 'manage-accounts';

const allowed: Readonly<Record<StaffRole, readonly ConsoleAction[]>> = Object.freeze({
  beheerder: [
    'session',
    'view',
    'door',
    'edit-deals',
    'meetings',
    'messages',
    'deliveries',
    'manage-webhooks',
    'manage-accounts',
  ],
  redacteur: ['session', 'view', 'door', 'edit-deals', 'meetings', 'messages', 'deliveries'],
  // The door sees today's meeting only; no overview, no deals.
  deur: ['session', 'door'],
  lezer: ['session', 'view'],
});

export function may(role: StaffRole, action: ConsoleAction): boolean {
  return allowed[role].includes(action);
}

export interface LoginPolicy {
  maxFailures: number;
  lockoutMs: number;
}

export interface LoginState {
  failedLogins: number;
  lockedUntil: Date | null;
  disabled: boolean;
}

export type LoginDecision =
  | { kind: 'accepted' }
  | { kind: 'locked'; until: Date }
  | { kind: 'refused'; failedLogins: number; lockedUntil: Date | null };

/**
 * A locked account refuses even the right password until the lock ends, so guessing on during a lockout
 * learns nothing. The `maxFailures`-th wrong password in a row locks it; a right one resets the count.
 */
export function decideLogin(
  state: LoginState,
  passwordMatches: boolean,
  now: Date,
  policy: LoginPolicy,
): LoginDecision {
  if (state.lockedUntil && state.lockedUntil > now) return { kind: 'locked', until: state.lockedUntil };
  if (passwordMatches && !state.disabled) return { kind: 'accepted' };
  const failedLogins = (state.lockedUntil ? 0 : state.failedLogins) + 1;
  const lockedUntil = failedLogins >= policy.maxFailures ? new Date(now.getTime() + policy.lockoutMs) : null;
  return { kind: 'refused', failedLogins: lockedUntil ? 0 : failedLogins, lockedUntil };
}

/** A session lives until it has been idle too long or has reached its maximum age, whichever comes first. */
export function sessionExpiry(createdAt: Date, now: Date, idleMs: number, maxMs: number): Date {
  return new Date(Math.min(now.getTime() + idleMs, createdAt.getTime() + maxMs));
}

export const MIN_PASSWORD_LENGTH = 12;
