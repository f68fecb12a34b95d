import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface NewSession {
  idHash: string;
  accountId: string;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
  ip: string | null;
}

export async function insertSession(db: Kysely<Database>, s: NewSession) {
  await db
    .insertInto('staff_session')
    .values({
      id_hash: s.idHash,
      account_id: s.accountId,
      csrf_token: s.csrfToken,
      created_at: s.createdAt,
      last_seen_at: s.createdAt,
      expires_at: s.expiresAt,
      ip: s.ip,
    })
    .execute();
}

/** The live session with its account; expired sessions and disabled accounts are not found. */
export async function findLiveSession(db: Kysely<Database>, idHash: string, now: Date) {
  return db
    .selectFrom('staff_session as s')
    .innerJoin('staff_account as a', 'a.id', 's.account_id')
    .select([
      's.id_hash',
      's.csrf_token',
      's.created_at',
      's.last_seen_at',
      'a.id as account_id',
      'a.email',
      'a.name',
      'a.role',
    ])
    .where('s.id_hash', '=', idHash)
    .where('s.expires_at', '>', now)
    .where('a.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function extendSession(db: Kysely<Database>, idHash: string, now: Date, expiresAt: Date) {
  await db
    .updateTable('staff_session')
    .set({ last_seen_at: now, expires_at: expiresAt })
    .where('id_hash', '=', idHash)
    .execute();
}

export async function deleteSession(db: Kysely<Database>, idHash: string) {
  await db.deleteFrom('staff_session').where('id_hash', '=', idHash).execute();
}
