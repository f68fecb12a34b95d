import type { Migrations } from '@citydeals/db';
import { type Kysely, sql } from 'kysely';

/** The console's own migrations, frozen in time: each takes Kysely<any> and never imports app types. */
export const migrations: Migrations = {
  '0001_staff': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('staff_account')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) =>
          c.notNull().check(sql`role in ('beheerder', 'redacteur', 'deur', 'lezer')`),
        )
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('disabled_at', 'timestamptz')
        .execute();
      await db.schema
        .createTable('staff_session')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'uuid', (c) =>
          c.notNull().references('staff_account.id').onDelete('cascade'),
        )
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('ip', 'text')
        .execute();
      await db.schema.createIndex('staff_session_account').on('staff_session').column('account_id').execute();
      await db.schema
        .createTable('audit_entry')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('account_id', 'uuid')
        .addColumn('who', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'jsonb')
        .addColumn('ip', 'text')
        .execute();
      await db.schema.createIndex('audit_entry_at').on('audit_entry').column('at').execute();
    },
  },
  // Machine keys: one key per consuming system, registered at each service through its public API; the
  // console keeps which service key ids make up one machine key (never the key). Single sign-on: the state of
  // a login underway at the identity provider.
  '0002_machine_keys_and_sso': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('machine_key')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('system', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('scopes', sql`text[]`, (c) => c.notNull())
        .addColumn('service_keys', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'timestamptz')
        .addColumn('revoked_by', 'text')
        .execute();
      await db.schema
        .createTable('sso_attempt')
        .addColumn('state_hash', 'text', (c) => c.primaryKey())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('next', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .execute();
    },
  },
};
