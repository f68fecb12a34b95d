import type { Migrations } from '@citydeals/db';
import { type Kysely, sql } from 'kysely';

/** The service's own migrations, frozen in time: each takes Kysely<any> and never imports app types. */
export const migrations: Migrations = {
  '0001_deals': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('deal')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('city_deal', 'town_deal')`))
        .addColumn('summary', 'text')
        .addColumn('themes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
        .addColumn('signed_on', 'date')
        .addColumn('term_ends_on', 'date')
        .addColumn('tranche', 'integer')
        .addColumn('phase', 'text', (c) =>
          c
            .notNull()
            .check(
              sql`phase in ('preparing', 'signed', 'building', 'delivering', 'securing', 'completed', 'discontinued')`,
            ),
        )
        .addColumn('phase_since', 'timestamptz', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().check(sql`version > 0`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('deal_person')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('added_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deal_person_deal_idx').on('deal_person').column('deal_id').execute();

      await db.schema
        .createTable('deal_partner')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('joined_on', 'date', (c) => c.notNull())
        .addColumn('left_on', 'date')
        .addColumn('left_reason', 'text')
        .execute();
      await db.schema.createIndex('deal_partner_deal_idx').on('deal_partner').column('deal_id').execute();

      await db.schema
        .createTable('deal_result')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('achieved_on', 'date')
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deal_result_deal_idx').on('deal_result').column('deal_id').execute();

      await db.schema
        .createTable('deal_lesson')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('success', 'setback')`))
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('meeting_id', 'uuid')
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deal_lesson_deal_idx').on('deal_lesson').column('deal_id').execute();

      await db.schema
        .createTable('deal_link')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('other_deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('note', 'text')
        .addColumn('meeting_id', 'uuid')
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
        .addCheckConstraint('deal_link_not_self', sql`deal_id <> other_deal_id`)
        .execute();
      // One link per pair, whichever deal it was recorded on.
      await sql`create unique index deal_link_pair_idx on deal_link (least(deal_id, other_deal_id), greatest(deal_id, other_deal_id))`.execute(
        db,
      );
      await db.schema.createIndex('deal_link_other_idx').on('deal_link').column('other_deal_id').execute();

      await db.schema
        .createTable('deal_extension')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('previous_term_ends_on', 'date')
        .addColumn('term_ends_on', 'date', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deal_extension_deal_idx').on('deal_extension').column('deal_id').execute();

      await db.schema
        .createTable('deal_tranche')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('tranche', 'integer', (c) => c.notNull())
        .addColumn('starts_on', 'date', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
        .addUniqueConstraint('deal_tranche_unique', ['deal_id', 'tranche'])
        .execute();

      await db.schema
        .createTable('deal_change')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('position', 'bigint', (c) => c.unique())
        .addColumn('deal_id', 'uuid', (c) => c.notNull().references('deal.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('event_id', 'uuid', (c) => c.notNull().unique())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('event', 'jsonb', (c) => c.notNull())
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addUniqueConstraint('deal_change_version_unique', ['deal_id', 'version'])
        .execute();
      // The sequencer only looks at rows without a position; keep that lookup small.
      await sql`create index deal_change_unsequenced_idx on deal_change (id) where position is null`.execute(
        db,
      );

      await db.schema
        .createTable('seed_run')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('completed_at', 'timestamptz', (c) => c.notNull())
        .execute();
    },
  },
};
