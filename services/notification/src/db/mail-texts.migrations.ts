import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The office's own texts in the standard mails of a meeting, one row per meeting and language. Frozen: a
 * change is a new migration.
 */
export const mailTextMigrations: Record<string, Migration> = {
  '2026_12_06_600_mail_texts': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mail_text')
        .addColumn('meeting_id', 'uuid', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('introduction', 'text', (c) => c.notNull())
        .addColumn('practical', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .addColumn('updated_by_id', 'text', (c) => c.notNull())
        .addColumn('updated_by_name', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mail_text_pkey', ['meeting_id', 'language'])
        .execute();
    },
  },
};
