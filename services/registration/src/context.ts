import type { Clock } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import type { Database } from './db/database.ts';
import { OpenMeetings } from './registrations/open-meetings.ts';
import { SeatQueue } from './seats/seat-queue.ts';

/**
 * What the service functions need from the outside, injected so tests can fix the clock and ids, and the
 * state the service keeps in memory between requests (one of each per service, never per module).
 */
export interface ServiceContext {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  /** Base of the links put in events and pages (no trailing slash). */
  publicBaseUrl: string;
  /** Brakes on public registration and link mails; absent, nothing is limited (seeding, some tests). */
  limits?: RegistrationLimits;
  /** Lets registrations that arrive together share one seat statement. */
  seatQueue: SeatQueue;
  /** Meetings last seen open for registration. */
  openMeetings: OpenMeetings;
}

/** Per-hour budgets (0: none) and the longest waitlist (0: unbounded); see src/abuse. */
export interface RegistrationLimits {
  registrationsPerClientPerHour: number;
  registrationsPerAddressPerHour: number;
  linkMailsPerAddressPerHour: number;
  linkRequestsPerClientPerHour: number;
  waitlistLimit: number;
}

/** A context with fresh in-memory state: one per running service. */
export function createServiceContext(
  options: Omit<ServiceContext, 'seatQueue' | 'openMeetings'>,
): ServiceContext {
  return { ...options, seatQueue: new SeatQueue(options.db), openMeetings: new OpenMeetings() };
}

/** CloudEvents `source` of everything this service publishes. */
export const EVENT_SOURCE = '/registration';
