import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database, MeetingTable } from '../db/database.ts';

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

/**
 * Serialises every change of the meeting and of its seats (seats/); callers lock the meeting before any of
 * its registrations.
 */
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

export function listMeetings(
  db: Kysely<Database>,
  filter: { statuses: MeetingTable['status'][]; endedAfter: Date | null; oncePublished?: boolean },
) {
  let query = db.selectFrom('meeting').selectAll().where('status', 'in', filter.statuses);
  if (filter.endedAfter) query = query.where('ends_at', '>', filter.endedAfter);
  if (filter.oncePublished) query = query.where('published_at', 'is not', null);
  return query.orderBy('starts_at').orderBy('id').execute();
}
