import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What moved in the deals, for the news in a meeting's last reminder, and the deal an attendee comes for.
 * Frozen: a change is a new migration.
 */
export const dealNewsMigrations: Record<string, Migration> = {
  '2026_12_06_500_deal_news': {
    async up(db: Kysely<any>) {
      // Deal names as deal-tracking last announced them: content events (results, lessons) carry only the id.
      await db.schema
        .createTable('news_deal')
        .addColumn('deal_id', 'uuid', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .execute();
      // One row per change worth telling attendees, keyed by the event that announced it.
      await db.schema
        .createTable('deal_news')
        .addColumn('event_id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addColumn('detail', 'jsonb', (c) => c.notNull())
        .execute();
      await sql`create index deal_news_occurred_idx on deal_news (occurred_at)`.execute(db);
      await db.schema.alterTable('recipient').addColumn('deal_id', 'uuid').execute();
    },
  },
};
