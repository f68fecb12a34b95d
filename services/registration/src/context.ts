import type { Clock } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import type { Database } from './db/database.ts';

/** What the service functions need from the outside, injected so tests can fix the clock and ids. */
export interface ServiceContext {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  /** Base of the links put in events and pages (no trailing slash). */
  publicBaseUrl: string;
  /** Brakes on public registration and link mails; absent, nothing is limited (seeding, some tests). */
  limits?: RegistrationLimits;
}

/** Per-hour budgets (0: none) and the longest waitlist (0: unbounded); see src/abuse. */
export interface RegistrationLimits {
  registrationsPerClientPerHour: number;
  registrationsPerAddressPerHour: number;
  linkMailsPerAddressPerHour: number;
  linkRequestsPerClientPerHour: number;
  waitlistLimit: number;
}

/** CloudEvents `source` of everything this service publishes. */
export const EVENT_SOURCE = '/registration';
