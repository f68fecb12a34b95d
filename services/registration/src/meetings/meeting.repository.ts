import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database, MeetingTable } from '../db/database.ts';
import type { SeatCounters } from '../registrations/seat.rules.ts';

export type MeetingRow = Awaited<ReturnType<typeof findMeeting>> & {};

export async function insertMeeting(
  trx: Transaction<Database>,
  row: Insertable<MeetingTable>,
): Promise<void> {
  await trx.insertInto('meeting').values(row).execute();
}

export function findMeeting(db: Kysely<Database>, id: string) {
  return db.selectFrom('meeting').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findMeetingBySlug(db: Kysely<Database>, slug: string) {
  return db.selectFrom('meeting').selectAll().where('slug', '=', slug).executeTakeFirst();
}

/** Serialises every seat decision of one meeting; callers lock the meeting before any of its registrations. */
export function lockMeeting(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('meeting').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateMeeting(
  trx: Transaction<Database>,
  id: string,
  patch: Updateable<MeetingTable>,
): Promise<void> {
  await trx.updateTable('meeting').set(patch).where('id', '=', id).execute();
}

/** Reads the counters inside the transaction that holds the meeting lock, so its own changes count. */
export async function lockedSeatCounters(trx: Transaction<Database>, id: string): Promise<SeatCounters> {
  const row = await trx
    .selectFrom('meeting')
    .select(['seats_taken', 'waitlist_length'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { seatsTaken: row.seats_taken, waitlistLength: row.waitlist_length };
}

/** The counters as committed, without a lock: good for a limit checked before the seat decision. */
export function meetingSeatCounters(db: Kysely<Database>, id: string) {
  return db
    .selectFrom('meeting')
    .select(['capacity', 'seats_taken', 'waitlist_length'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Callers hold the meeting lock and change the registrations the delta describes in the same transaction. */
export async function adjustSeatCounters(
  trx: Transaction<Database>,
  id: string,
  delta: SeatCounters,
): Promise<void> {
  if (delta.seatsTaken === 0 && delta.waitlistLength === 0) return;
  await trx
    .updateTable('meeting')
    .set((eb) => ({
      seats_taken: eb('seats_taken', '+', delta.seatsTaken),
      waitlist_length: eb('waitlist_length', '+', delta.waitlistLength),
    }))
    .where('id', '=', id)
    .execute();
}

export function listMeetings(
  db: Kysely<Database>,
  filter: { statuses: MeetingTable['status'][]; endedAfter: Date | null; oncePublished?: boolean },
) {
  let query = db.selectFrom('meeting').selectAll().where('status', 'in', filter.statuses);
  if (filter.endedAfter) query = query.where('ends_at', '>', filter.endedAfter);
  if (filter.oncePublished) query = query.where('published_at', 'is not', null);
  return query.orderBy('starts_at').orderBy('id').execute();
}
