import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Indexes the retention job finds its batches by. Frozen: a change is a new migration. */
export const retentionMigrations: Record<string, Migration> = {
  '2026_12_06_300_retention_indexes': {
    async up(db: Kysely<any>) {
      // Only mails that still carry a body: the job takes the oldest of them, never walking past the many
      // already reduced to their log line.
      await sql`create index email_body_kept_idx on email (created_at)
        where text_body is not null or html_body is not null or ics is not null`.execute(db);
    },
  },
};
