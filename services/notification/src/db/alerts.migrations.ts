import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Operational alerts: the state of each cause and the log of alerts raised. Frozen: a change is a new migration. */
export const alertMigrations: Record<string, Migration> = {
  '2026_12_06_400_alerts': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('alert_cause')
        .addColumn('cause', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('last_raised_at', 'timestamptz')
        .addColumn('held_back', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('alert')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('cause', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('raised_at', 'timestamptz', (c) => c.notNull())
        .addColumn('occurrences', 'integer', (c) => c.notNull())
        .addColumn('payload', 'jsonb', (c) => c.notNull())
        .addColumn('email_id', 'uuid')
        .addColumn('webhook_messages', 'integer', (c) => c.notNull())
        .execute();
      await sql`create index alert_raised_idx on alert (raised_at)`.execute(db);
    },
  },
};
