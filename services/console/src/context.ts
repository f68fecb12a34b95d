import type { Clock } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import type { ServicesClient } from './backends/services.client.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';

/** The one context of the console: what routes and services need, injected so tests can fix clock and ids. */
export interface ConsoleContext {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly config: Config;
  readonly services: ServicesClient;
}
