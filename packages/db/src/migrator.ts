import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { Migrator } from 'kysely/migration';

export type Migrations = Record<string, Migration>;

/**
 * Migrates one service's schema. The schema, the migration bookkeeping tables and every table the
 * migrations create live inside it, so services never share a migration history. Migration names sort
 * in the order they run on a new schema; shared ones use a `0000_` prefix so they precede a service's own.
 */
export async function migrateSchema(
  db: Kysely<any>,
  schema: string,
  migrations: Migrations,
): Promise<string[]> {
  // Replicas starting together on a new database would race to create the schema and the bookkeeping
  // tables (IF NOT EXISTS does not make that safe: one of them fails on a duplicate catalog key), so one
  // migrates at a time, on one connection holding a lock named after the schema.
  return db.connection().execute(async (conn) => {
    const lock = `migrate:${schema}`;
    await sql`select pg_advisory_lock(hashtext(${lock}))`.execute(conn);
    try {
      return await migrateLocked(conn, schema, migrations);
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${lock}))`.execute(conn);
    }
  });
}

async function migrateLocked(db: Kysely<any>, schema: string, migrations: Migrations): Promise<string[]> {
  // Postgres checks CREATE on the database before IF NOT EXISTS, so a service role that owns its schema
  // but may not create schemas would fail here; look first.
  const exists = await sql<{
    found: boolean;
  }>`select exists (select 1 from pg_namespace where nspname = ${schema}) as found`.execute(db);
  if (!exists.rows[0]?.found) await sql`create schema ${sql.id(schema)}`.execute(db);
  const migrator = new Migrator({
    db: db.withSchema(schema),
    migrationTableSchema: schema,
    provider: { getMigrations: async () => migrations },
    // A shared migration added later (`0000_02_…`) sorts before a service's own that already ran; it still
    // runs, and Kysely still refuses a start when an applied migration has gone missing.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} of schema ${schema} failed`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}
