import type { MeetingSnapshot } from '@citydeals/contracts';
import type { Kysely, Selectable, Transaction } from 'kysely';
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

/** Reads the meeting and holds it against concurrent changes until the transaction ends. */
export async function lockMeeting(
  trx: Transaction<Database>,
  meetingId: string,
): Promise<MeetingRow | undefined> {
  return trx.selectFrom('meeting').selectAll().where('id', '=', meetingId).forShare().executeTakeFirst();
}

export async function findMeetings(db: Kysely<Database>, ids: readonly string[]): Promise<MeetingRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('meeting').selectAll().where('id', 'in', ids).execute();
}
