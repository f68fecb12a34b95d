import type { Migrations } from '@citydeals/db';

/** The service's own migrations, frozen in time: each takes Kysely<any> and never imports app types. */
export const migrations: Migrations = {};
