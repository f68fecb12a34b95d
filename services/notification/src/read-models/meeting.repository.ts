import type { MeetingSnapshot } from '@citydeals/contracts';
import { prepared } from '@citydeals/db';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export type MeetingRow = Selectable<Database['meeting']>;

/**
 * Applies a meeting snapshot if it is newer than what is stored. Returns the stored row when it was
 * applied, undefined when the event was older or a repeat, so callers skip its side effects too.
 */
export async function applyMeetingSnapshot(
  trx: Transaction<Database>,
  snapshot: MeetingSnapshot,
  cancelReason: string | null = null,
): Promise<MeetingRow | undefined> {
  const values = {
    id: snapshot.meetingId,
    version: snapshot.version,
    title: snapshot.title,
    starts_at: snapshot.startsAt,
    ends_at: snapshot.endsAt,
    time_zone: snapshot.timeZone,
    venue_name: snapshot.venue.name,
    venue_address: snapshot.venue.address,
    online_url: snapshot.onlineUrl,
    language: snapshot.language,
    reminder_offsets: snapshot.reminderOffsets,
    status: snapshot.status,
    ics_sequence: snapshot.icsSequence,
    cancel_reason: cancelReason,
  };
  const { id: _id, ...update } = values;
  return trx
    .insertInto('meeting')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ ...update, updated_at: new Date() })
        .where('meeting.version', '<', snapshot.version),
    )
    .returningAll()
    .executeTakeFirst();
}

/**
 * Reads meetings and holds them against concurrent changes until the transaction ends; locked in id order,
 * so two transactions locking overlapping sets never wait on each other in a cycle.
 */
export async function lockMeetings(
  trx: Transaction<Database>,
  meetingIds: readonly string[],
): Promise<Map<string, MeetingRow>> {
  if (meetingIds.length === 0) return new Map();
  // Every consumer batch of attendee events runs this: one prepared text for any number of meetings.
  const { rows } = await sql<MeetingRow>`${prepared('lock-meetings')}
    select * from meeting where id = any(${[...new Set(meetingIds)]}::uuid[]) order by id for share`.execute(
    trx,
  );
  return new Map(rows.map((row) => [row.id, row]));
}

export async function findMeetings(db: Kysely<Database>, ids: readonly string[]): Promise<MeetingRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('meeting').selectAll().where('id', 'in', ids).execute();
}
