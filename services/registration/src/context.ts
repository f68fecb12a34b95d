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
}

/** CloudEvents `source` of everything this service publishes. */
export const EVENT_SOURCE = '/registration';
