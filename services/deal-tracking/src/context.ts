import type { Clock } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import type { Database } from './db/database.ts';

/** What the service functions need from the outside, injected so tests and the seed can fix clock and ids. */
export interface DealContext {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
}

/** CloudEvents `source` of everything this service publishes. */
export const EVENT_SOURCE = '/deal-tracking';
