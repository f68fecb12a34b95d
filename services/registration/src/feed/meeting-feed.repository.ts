import type { CloudEvent } from '@citydeals/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Announced, Attendance, DealCount, PublicMeetingView } from './meeting-feed.rules.ts';

/**
 * Makes this transaction the only writer of the feed until it ends, or answers false if another replica's
 * announcer holds it (it will do the work). Because every feed row is written under this lock and the
 * lock is held until commit, positions (a sequence, drawn at insert) grow in commit order: a reader that
 * has seen position n has seen every committed row before it.
 */
export async function tryLockFeed(trx: Transaction<Database>): Promise<boolean> {
  const { rows } = await sql<{ locked: boolean }>`
    select pg_try_advisory_xact_lock(hashtext(current_schema() || '.meeting-feed')) as locked`.execute(trx);
  return rows[0]!.locked;
}

/**
 * Meetings the feed may have something to say about: once published, and not finished with — a meeting
 * is finished once its cancellation was announced, or once it ended beyond the correction window and its
 * attendance was announced. An edit (a new meeting version) makes any meeting a candidate again.
 */
export function feedCandidates(trx: Transaction<Database>, correctionCutoff: Date) {
  return trx
    .selectFrom('meeting as m')
    .leftJoin('meeting_feed_state as s', 's.meeting_id', 'm.id')
    .select([
      'm.id',
      'm.version as meetingVersion',
      'm.slug',
      'm.title',
      'm.status',
      'm.starts_at as startsAt',
      'm.ends_at as endsAt',
      'm.time_zone as timeZone',
      'm.venue_name as venueName',
      'm.online_url as onlineUrl',
      'm.language',
      'm.capacity',
      'm.seats_taken as seatsTaken',
      'm.waitlist_length as waitlistLength',
      'm.registration_opens_at as registrationOpensAt',
      'm.registration_closes_at as registrationClosesAt',
      's.version as feedVersion',
      's.meeting_version as comparedVersion',
      's.view',
      's.seats_announced_at as seatsAnnouncedAt',
      's.attendance',
      's.attendance_announced_at as attendanceAnnouncedAt',
    ])
    .where('m.published_at', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('s.meeting_id', 'is', null),
        eb('s.meeting_version', '<>', eb.ref('m.version')),
        eb.and([
          eb('s.status', '<>', 'cancelled'),
          eb.or([eb('m.ends_at', '>', correctionCutoff), eb('s.attendance', 'is', null)]),
        ]),
      ]),
    )
    .orderBy('m.starts_at')
    .orderBy('m.id')
    .execute();
}

export type FeedCandidate = Awaited<ReturnType<typeof feedCandidates>>[number];

export function announcedOf(row: FeedCandidate): Announced | undefined {
  if (row.feedVersion === null) return undefined;
  return {
    version: row.feedVersion,
    view: row.view as PublicMeetingView,
    seatsAnnouncedAt: row.seatsAnnouncedAt,
    attendance: (row.attendance as Attendance | null) ?? null,
    attendanceAnnouncedAt: row.attendanceAnnouncedAt,
  };
}

/** Registrations that held a seat, and those checked in, per meeting and deal. */
export async function attendanceCounts(
  trx: Transaction<Database>,
  meetingIds: readonly string[],
): Promise<Map<string, DealCount[]>> {
  const byMeeting = new Map<string, DealCount[]>(meetingIds.map((id) => [id, []]));
  if (meetingIds.length === 0) return byMeeting;
  const rows = await trx
    .selectFrom('registration as r')
    .leftJoin('deals as d', 'd.id', 'r.deal_id')
    .select([
      'r.meeting_id as meetingId',
      'r.deal_id as dealId',
      'd.name as dealName',
      sql<number>`count(*) filter (where r.status in ('confirmed', 'checked_in', 'no_show'))::int`.as(
        'registered',
      ),
      sql<number>`count(*) filter (where r.status = 'checked_in')::int`.as('attended'),
    ])
    .where('r.meeting_id', 'in', [...meetingIds])
    .groupBy(['r.meeting_id', 'r.deal_id', 'd.name'])
    .execute();
  for (const row of rows) {
    byMeeting.get(row.meetingId)?.push({
      dealId: row.dealId,
      dealName: row.dealName,
      registered: row.registered,
      attended: row.attended,
    });
  }
  return byMeeting;
}

export async function insertFeedEntry(
  trx: Transaction<Database>,
  event: CloudEvent,
  meetingId: string,
  version: number,
) {
  await trx
    .insertInto('meeting_feed')
    .values({
      meeting_id: meetingId,
      version,
      event_id: event.id,
      event: JSON.stringify(event),
      occurred_at: new Date(event.time),
    })
    .execute();
}

export async function saveFeedState(
  trx: Transaction<Database>,
  meetingId: string,
  meetingVersion: number,
  announced: Announced,
): Promise<void> {
  const values = {
    version: announced.version,
    meeting_version: meetingVersion,
    status: announced.view.status,
    view: JSON.stringify(announced.view),
    seats_announced_at: announced.seatsAnnouncedAt,
    attendance: announced.attendance ? JSON.stringify(announced.attendance) : null,
    attendance_announced_at: announced.attendanceAnnouncedAt,
  };
  await trx
    .insertInto('meeting_feed_state')
    .values({ meeting_id: meetingId, ...values })
    .onConflict((oc) => oc.column('meeting_id').doUpdateSet(values))
    .execute();
}

/** Remembers that an edit was looked at and needed no event, so it is not looked at again. */
export async function markCompared(
  trx: Transaction<Database>,
  meetingId: string,
  meetingVersion: number,
): Promise<void> {
  await trx
    .updateTable('meeting_feed_state')
    .set({ meeting_version: meetingVersion })
    .where('meeting_id', '=', meetingId)
    .execute();
}

export interface FeedEntry {
  position: number;
  meetingId: string;
  version: number;
  event: CloudEvent<string, Record<string, unknown>>;
}

export async function feedAfter(db: Kysely<Database>, after: number, limit: number): Promise<FeedEntry[]> {
  const rows = await db
    .selectFrom('meeting_feed')
    .select(['position', 'meeting_id', 'version', 'event'])
    .where('position', '>', String(after))
    .orderBy('position')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    position: Number(row.position),
    meetingId: row.meeting_id,
    version: row.version,
    event: row.event as FeedEntry['event'],
  }));
}
