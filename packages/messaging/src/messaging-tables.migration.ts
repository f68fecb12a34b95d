import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Name of the LISTEN/NOTIFY channel the first migration's trigger announced outbox rows on (since dropped). */
export const outboxChannel = (schema: string): string => `${schema}_outbox`;

/**
 * The tables every service gets for reliable messaging. Frozen: a change is a new migration.
 * `db` arrives already scoped to the service schema; raw SQL names the schema explicitly.
 */
export function messagingMigrations(schema: string): Record<string, Migration> {
  const s = (name: string) => sql.id(schema, name);
  return {
    '0000_00_outbox_inbox_dead_letter': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('outbox')
          .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
          .addColumn('event_id', 'uuid', (c) => c.notNull().unique())
          .addColumn('subject', 'text', (c) => c.notNull())
          // json, not jsonb: the relay sends the text as written, with no parse on insert or re-serialisation on read.
          .addColumn('payload', 'json', (c) => c.notNull())
          .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
          .addColumn('published_at', 'timestamptz')
          .execute();
        // The relay only ever looks at unpublished rows; keep that lookup small however long the table grows.
        await sql`create index outbox_unpublished_idx on ${s('outbox')} (id) where published_at is null`.execute(
          db,
        );
        // NOTIFY is delivered at commit, so a woken relay always finds the row visible.
        await sql`
          create function ${s('notify_outbox')}() returns trigger language plpgsql as $$
          begin
            perform pg_notify(${sql.lit(outboxChannel(schema))}, '');
            return null;
          end $$`.execute(db);
        await sql`
          create trigger outbox_notify after insert on ${s('outbox')}
          for each statement execute function ${s('notify_outbox')}()`.execute(db);

        await db.schema
          .createTable('inbox')
          .addColumn('consumer', 'text', (c) => c.notNull())
          .addColumn('event_id', 'uuid', (c) => c.notNull())
          .addColumn('event_type', 'text', (c) => c.notNull())
          .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
          .addPrimaryKeyConstraint('inbox_pk', ['consumer', 'event_id'])
          .execute();

        await db.schema
          .createTable('dead_letter')
          .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
          .addColumn('consumer', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('stream_sequence', 'bigint')
          .addColumn('event_id', 'text')
          .addColumn('event_type', 'text')
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('error', 'text', (c) => c.notNull())
          .addColumn('deliveries', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
          .addColumn('resolved_at', 'timestamptz')
          .addColumn('resolution', 'text')
          .execute();
        await sql`create index dead_letter_open_idx on ${s('dead_letter')} (consumer, id) where resolved_at is null`.execute(
          db,
        );
      },
    },
    '0000_02_outbox_without_notify': {
      // pg_notify takes a database-wide lock at commit, serialising every writer's commits. The relay is
      // woken in-process after its own service's commits and polls for those of other replicas instead.
      async up(db: Kysely<any>) {
        await sql`drop trigger if exists outbox_notify on ${s('outbox')}`.execute(db);
        await sql`drop function if exists ${s('notify_outbox')}()`.execute(db);
      },
    },
    '0000_03_retention_indexes': {
      // Retention prunes the oldest rows in small batches, each found by index from the old end; without
      // these, every batch would read the whole table to find them.
      async up(db: Kysely<any>) {
        await sql`create index inbox_processed_at_idx on ${s('inbox')} (processed_at)`.execute(db);
        await sql`create index dead_letter_resolved_idx on ${s('dead_letter')} (resolved_at)
          where resolved_at is not null`.execute(db);
      },
    },
    '0000_20_outbox_trace_context': {
      // Taken from the event's CloudEvents extensions by Postgres itself, so every writer of outbox rows
      // (enqueueEvent as well as hand-written statements) stores them without naming them; null when tracing
      // is off. The relay sends them as NATS headers without parsing payloads. The text search comes first:
      // parsing the JSON of every row on insert, tracing on or not, cost far more than looking for the key; a
      // key found only inside the data (quotes in strings are escaped) just gives null.
      async up(db: Kysely<any>) {
        await sql`alter table ${s('outbox')}
          add column traceparent text generated always as (case when strpos(payload::text, '"traceparent":') > 0
            then payload ->> 'traceparent' end) stored,
          add column request_id text generated always as (case when strpos(payload::text, '"requestid":') > 0
            then payload ->> 'requestid' end) stored`.execute(db);
      },
    },
  };
}
