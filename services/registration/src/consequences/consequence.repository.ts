import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

/** The meeting's own counters and how many of its registrations are seated or waiting. */
export function meetingCounts(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('meeting as m')
    .select((eb) => [
      'm.status',
      'm.capacity',
      'm.starts_at',
      'm.ends_at',
      'm.time_zone',
      'm.seats_taken',
      'm.waitlist_length',
      eb
        .selectFrom('registration as r')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('r.meeting_id', '=', 'm.id')
        .where('r.status', 'in', ['confirmed', 'checked_in'])
        .as('seated'),
    ])
    .where('m.id', '=', meetingId)
    .executeTakeFirst();
}
