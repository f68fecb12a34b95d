import type { Migrations } from '@citydeals/db';
import { type Kysely, sql } from 'kysely';

/** Webhook endpoints, one message per (endpoint, event), and the log of attempts. Frozen in time. */
export const webhookMigrations: Migrations = {
  '2026_11_28_200_webhooks': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('webhook_endpoint')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('event_types', sql`text[]`, (c) => c.notNull())
        .addColumn('deal_ids', sql`uuid[]`)
        .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
        .addColumn('disabled_reason', 'text', (c) =>
          c.check(sql`disabled_reason in ('manual', 'gone', 'failing')`),
        )
        .addColumn('disabled_at', 'timestamptz')
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('previous_secret', 'text')
        .addColumn('previous_secret_expires_at', 'timestamptz')
        .addColumn('failing_since', 'timestamptz')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();

      await db.schema
        .createTable('webhook_message')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('endpoint_id', 'uuid', (c) =>
          c.notNull().references('webhook_endpoint.id').onDelete('cascade'),
        )
        .addColumn('webhook_id', 'text', (c) => c.notNull().unique())
        .addColumn('event_id', 'uuid', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('deal_id', 'uuid')
        .addColumn('deal_version', 'integer')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivered', 'failed')`),
        )
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('round_start', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
        .addColumn('lease_token', 'uuid')
        .addColumn('lease_until', 'timestamptz')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('failure_reason', 'text')
        .addColumn('delivered_at', 'timestamptz')
        .addColumn('failed_at', 'timestamptz')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('webhook_message_endpoint_event', ['endpoint_id', 'event_id'])
        .execute();
      await sql`create index webhook_message_due on webhook_message (next_attempt_at, id) where status = 'pending'`.execute(
        db,
      );
      await sql`create index webhook_message_deal_order on webhook_message (endpoint_id, deal_id, deal_version) where status = 'pending'`.execute(
        db,
      );
      await db.schema
        .createIndex('webhook_message_endpoint_created')
        .on('webhook_message')
        .columns(['endpoint_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('webhook_attempt')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('message_id', 'uuid', (c) =>
          c.notNull().references('webhook_message.id').onDelete('cascade'),
        )
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'timestamptz', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('webhook_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('response_body', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webhook_attempt_message')
        .on('webhook_attempt')
        .columns(['message_id', 'attempt'])
        .execute();
    },
  },
  '2026_11_28_201_webhook_message_deal_versions': {
    async up(db: Kysely<any>) {
      // Answers "has this endpoint already been given this version of the deal, or a newer one?" for
      // replayed events, which arrive with fresh event ids.
      await sql`create index webhook_message_endpoint_deal_version on webhook_message (endpoint_id, deal_id, deal_version desc)`.execute(
        db,
      );
    },
  },
  '2026_11_29_202_webhook_message_fillfactor': {
    async up(db: Kysely<any>) {
      // A claim changes no indexed column, so it can update the row in place (HOT) if its page has room;
      // packed full, 90 % of claims wrote a new row version with an entry in each of the seven indexes.
      await sql`alter table webhook_message set (fillfactor = 50)`.execute(db);
    },
  },
  // The trace a message was queued in (tracing on), so its delivery shows in the same trace; null otherwise.
  '2026_12_06_400_02_webhook_message_traceparent': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('webhook_message').addColumn('traceparent', 'text').execute();
    },
  },
};
