import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { Database, WaitlistOfferTable } from '../db/database.ts';

/** An open offer, and the seat it holds counted; the caller holds the meeting lock. */
export async function insertOffer(
  trx: Transaction<Database>,
  row: Insertable<WaitlistOfferTable> & { status: 'open' },
): Promise<void> {
  await trx.insertInto('waitlist_offer').values(row).execute();
  await adjustSeatsOffered(trx, row.meeting_id, 1);
}

/** Seats held by open offers; exact under the meeting lock, which every offer change holds. */
export async function countOpenOffers(trx: Transaction<Database>, meetingId: string): Promise<number> {
  const row = await trx
    .selectFrom('waitlist_offer')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  return row.n;
}

/**
 * The first `limit` waiting in serving order who hold no open offer: the next in line for a free seat.
 * Bounded by the seats there are to give: reading the whole waitlist made every cancellation slower the
 * longer people queued.
 */
export function listWaitingWithoutOffer(trx: Transaction<Database>, meetingId: string, limit: number) {
  return trx
    .selectFrom('registration as r')
    .selectAll('r')
    .where('r.meeting_id', '=', meetingId)
    .where('r.status', '=', 'waitlisted')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('waitlist_offer as o')
            .select('o.id')
            .whereRef('o.registration_id', '=', 'r.id')
            .where('o.status', '=', 'open'),
        ),
      ),
    )
    .orderBy('r.seq')
    .limit(limit)
    .execute();
}

export function findOfferByTokenHash(db: Kysely<Database>, tokenHash: string) {
  return db.selectFrom('waitlist_offer').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export function lockOffer(trx: Transaction<Database>, id: string) {
  return trx
    .selectFrom('waitlist_offer')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** Moves the meeting's count of seats held by offers with the offers; the caller holds the meeting lock. */
export async function adjustSeatsOffered(
  trx: Transaction<Database>,
  meetingId: string,
  delta: number,
): Promise<void> {
  if (delta === 0) return;
  await trx
    .updateTable('meeting')
    .set((eb) => ({ seats_offered: eb('seats_offered', '+', delta) }))
    .where('id', '=', meetingId)
    .execute();
}

/** Closes an open offer (the caller checked it is open) and frees the seat it held. */
export async function closeOffer(
  trx: Transaction<Database>,
  offer: { id: string; meeting_id: string },
  status: Exclude<WaitlistOfferTable['status'], 'open'>,
  at: Date,
): Promise<void> {
  await trx.updateTable('waitlist_offer').set({ status, closed_at: at }).where('id', '=', offer.id).execute();
  await adjustSeatsOffered(trx, offer.meeting_id, -1);
}

/**
 * The registration left the waitlist another way (cancelled, erased): its open offer, if any, no longer
 * holds a seat. The caller holds the meeting lock and passes the seat on.
 */
export async function withdrawOpenOffer(
  trx: Transaction<Database>,
  registrationId: string,
  at: Date,
): Promise<void> {
  const withdrawn = await trx
    .updateTable('waitlist_offer')
    .set({ status: 'withdrawn', closed_at: at })
    .where('registration_id', '=', registrationId)
    .where('status', '=', 'open')
    .returning('meeting_id')
    .execute();
  for (const { meeting_id } of withdrawn) await adjustSeatsOffered(trx, meeting_id, -1);
}

/**
 * The meeting was cancelled: every open offer of it is withdrawn at once, and the seats they held are no
 * longer held. The registrations stay on the waitlist, as every registration of a cancelled meeting stays
 * as it was. The caller holds the meeting lock. Returns how many were withdrawn.
 */
export async function withdrawMeetingOffers(
  trx: Transaction<Database>,
  meetingId: string,
  at: Date,
): Promise<number> {
  const withdrawn = await trx
    .updateTable('waitlist_offer')
    .set({ status: 'withdrawn', closed_at: at })
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'open')
    .returning('id')
    .execute();
  await adjustSeatsOffered(trx, meetingId, -withdrawn.length);
  return withdrawn.length;
}

/** Open offers whose time is over, oldest first. */
export function listDueOffers(db: Kysely<Database>, now: Date, limit: number) {
  return db
    .selectFrom('waitlist_offer')
    .select(['id', 'meeting_id'])
    .where('status', '=', 'open')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}
