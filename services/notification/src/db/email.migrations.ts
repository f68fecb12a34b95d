import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Email part of the notification service: read models fed by registration events, the reminder schedule,
 * the outgoing mail queue (which doubles as the delivery log) and the suppression list. Frozen in time.
 */
export const emailMigrations: Record<string, Migration> = {
  '2026_11_28_100_01_email': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('meeting')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
        .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('venue_name', 'text', (c) => c.notNull())
        .addColumn('venue_address', 'text', (c) => c.notNull())
        .addColumn('online_url', 'text')
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('reminder_offsets', sql`text[]`, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('ics_sequence', 'integer', (c) => c.notNull())
        .addColumn('cancel_reason', 'text')
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();

      // Personal fields are null once the attendee is erased; the row stays as a tombstone so that a late
      // event about the same registration (with a lower version) cannot bring the data back.
      await db.schema
        .createTable('recipient')
        .addColumn('registration_id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('email', 'text')
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('position', 'integer')
        .addColumn('manage_url', 'text')
        .addColumn('erased', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('recipient_meeting_idx').on('recipient').column('meeting_id').execute();

      await db.schema
        .createTable('reminder')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('registration_id', 'uuid', (c) => c.notNull())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull())
        .addColumn('reminder_offset', 'text', (c) => c.notNull())
        .addColumn('due_at', 'timestamptz', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('email_id', 'uuid')
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('reminder_registration_offset_key', ['registration_id', 'reminder_offset'])
        .execute();
      await db.schema.createIndex('reminder_meeting_idx').on('reminder').column('meeting_id').execute();
      await sql`create index reminder_due_idx on reminder (due_at) where status = 'pending'`.execute(db);

      await db.schema
        .createTable('email')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('meeting_id', 'uuid')
        .addColumn('registration_id', 'uuid')
        .addColumn('reminder_offset', 'text')
        .addColumn('recipient', 'text')
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text')
        .addColumn('html_body', 'text')
        .addColumn('ics', 'text')
        .addColumn('ics_method', 'text')
        .addColumn('unsubscribe_url', 'text')
        .addColumn('message_id', 'text', (c) => c.notNull().unique())
        .addColumn('dedupe_key', 'text', (c) => c.unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('expires_at', 'timestamptz')
        .addColumn('last_error', 'text')
        .addColumn('smtp_code', 'integer')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('sent_at', 'timestamptz')
        .addColumn('failed_at', 'timestamptz')
        .execute();
      await sql`create index email_queued_idx on email (next_attempt_at) where status = 'queued'`.execute(db);
      await db.schema
        .createIndex('email_meeting_idx')
        .on('email')
        .columns(['meeting_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('email_registration_idx')
        .on('email')
        .columns(['registration_id', 'created_at'])
        .execute();
      await db.schema.createIndex('email_created_idx').on('email').column('created_at').execute();

      // Keyed by an HMAC of the lower-cased address, so the list itself holds no readable address.
      await db.schema
        .createTable('suppression')
        .addColumn('address_hash', 'text', (c) => c.primaryKey())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();

      await db.schema
        .createTable('email_setting')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // Senders lease a batch of mails, send them outside any transaction and record the outcomes together. The
  // lease end is also written to next_attempt_at, so the queue index alone finds what is claimable; this
  // column tells a leased mail (on the wire, not withdrawable) from one waiting for a retry.
  '2026_11_28_100_02_email_lease': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('email').addColumn('leased_until', 'timestamptz').execute();
    },
  },
  // The trace a mail was queued in (tracing on), so its SMTP send shows in the same trace; null otherwise.
  '2026_12_06_400_01_email_traceparent': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('email').addColumn('traceparent', 'text').execute();
    },
  },
};
