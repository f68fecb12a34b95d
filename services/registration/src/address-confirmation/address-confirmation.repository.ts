import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AddressConfirmationTable, Database } from '../db/database.ts';

export type ConfirmationRow = Selectable<AddressConfirmationTable>;

export function findOpenRequest(trx: Transaction<Database>, meetingId: string, emailKey: string) {
  return trx
    .selectFrom('address_confirmation')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('email_key', '=', emailKey)
    .where('confirmed_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

export async function insertRequest(
  trx: Transaction<Database>,
  row: Omit<ConfirmationRow, 'input' | 'confirmed_at'> & { input: string },
): Promise<void> {
  await trx
    .insertInto('address_confirmation')
    .values({ ...row, confirmed_at: null })
    .execute();
}

/** A renewed request: new token, new data, new expiry; the old link stops working. */
export async function renewRequest(
  trx: Transaction<Database>,
  id: string,
  patch: { version: number; token_hash: string; input: string; created_at: Date; expires_at: Date },
): Promise<void> {
  await trx.updateTable('address_confirmation').set(patch).where('id', '=', id).execute();
}

export function findRequestByTokenHash(db: Kysely<Database>, tokenHash: string) {
  return db
    .selectFrom('address_confirmation')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/**
 * Takes an open, unexpired request for confirmation, once: the row keeps no personal data afterwards. The
 * input is returned from the row as it was (a CTE reads it before the update clears it).
 */
export async function claimRequest(
  db: Kysely<Database>,
  tokenHash: string,
  now: Date,
): Promise<ConfirmationRow | undefined> {
  return db
    .with('before', (qb) =>
      qb
        .selectFrom('address_confirmation')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .where('confirmed_at', 'is', null)
        .where('expires_at', '>', now)
        .forUpdate(),
    )
    .updateTable('address_confirmation as a')
    .from('before as b')
    .set({ confirmed_at: now, input: null, email_key: null })
    .whereRef('a.id', '=', 'b.id')
    .returning([
      'b.id',
      'b.meeting_id',
      'b.version',
      'b.token_hash',
      'b.email_key',
      'b.input',
      'b.created_at',
      'b.expires_at',
      'b.confirmed_at',
    ])
    .executeTakeFirst();
}

/** Gives a claimed request back when its seat decision failed for a reason that is not the request's. */
export async function releaseClaim(db: Kysely<Database>, row: ConfirmationRow): Promise<void> {
  await db
    .updateTable('address_confirmation')
    .set({ confirmed_at: null, input: JSON.stringify(row.input), email_key: row.email_key })
    .where('id', '=', row.id)
    .execute();
}

/** Requests whose link expired before `cutoff`, oldest first, locked for the sweep (others skip them). */
export function lockExpiredRequests(trx: Transaction<Database>, cutoff: Date, limit: number) {
  return trx
    .selectFrom('address_confirmation as a')
    .leftJoin('registration as r', 'r.id', 'a.id')
    .select(['a.id', 'a.meeting_id', 'a.version', 'r.id as registration_id'])
    .where('a.expires_at', '<', cutoff)
    .orderBy('a.expires_at')
    .limit(limit)
    .forUpdate('a')
    .skipLocked()
    .execute();
}

export function lockOpenRequestsOf(trx: Transaction<Database>, emailKey: string) {
  return trx
    .selectFrom('address_confirmation')
    .select(['id', 'meeting_id', 'version'])
    .where('email_key', '=', emailKey)
    .forUpdate()
    .execute();
}

export async function deleteRequests(trx: Transaction<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.deleteFrom('address_confirmation').where('id', 'in', ids).execute();
}
