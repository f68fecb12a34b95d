import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export async function insertMachineKey(
  db: Kysely<Database>,
  row: { id: string; system: string; label: string; scopes: string[]; createdAt: Date; createdBy: string },
) {
  await db
    .insertInto('machine_key')
    .values({
      id: row.id,
      system: row.system,
      label: row.label,
      scopes: row.scopes,
      created_at: row.createdAt,
      created_by: row.createdBy,
      revoked_at: null,
      revoked_by: null,
    })
    .execute();
}

export async function setServiceKeys(db: Kysely<Database>, id: string, serviceKeys: Record<string, number>) {
  await db
    .updateTable('machine_key')
    // node-postgres sends a plain object as JSON, which the jsonb column takes.
    .set({ service_keys: serviceKeys })
    .where('id', '=', id)
    .execute();
}

export async function markRevoked(db: Kysely<Database>, id: string, at: Date, by: string) {
  await db
    .updateTable('machine_key')
    .set({ revoked_at: at, revoked_by: by })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function listMachineKeys(db: Kysely<Database>) {
  return db.selectFrom('machine_key').selectAll().orderBy('created_at', 'desc').execute();
}

export async function findMachineKey(db: Kysely<Database>, id: string) {
  return db.selectFrom('machine_key').selectAll().where('id', '=', id).executeTakeFirst();
}
