import type {
  FeatureOptions,
  ServiceContext as KitServiceContext,
  ServicePlugin,
} from '@citydeals/service-kit';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { OpenMeetings } from './registrations/open-meetings.ts';
import { SeatQueue } from './seats/seat-queue.ts';

/**
 * The service's one context: what its routes, consumers, workers and functions need from outside, injected
 * so tests can fix the clock and ids, and the state the service keeps in memory between requests (one of each
 * per service, never per module).
 */
export interface ServiceContext extends KitServiceContext<Database> {
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

/** The routes of a feature: a fastify plugin given the context and the config. */
export type Routes = ServicePlugin<FeatureOptions<ServiceContext, Config>>;

/** CloudEvents `source` of everything this service publishes. */
export const EVENT_SOURCE = '/registration';
