import {
  type PublicMeetingSnapshot,
  publicMeetingAttendanceRecorded,
  publicMeetingCancelled,
  publicMeetingChanged,
  publicMeetingRescheduled,
  publicMeetingScheduled,
  publicMeetingSeatsChanged,
} from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import type { Transaction } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import {
  announcedOf,
  attendanceCounts,
  type FeedCandidate,
  type FeedEntry,
  feedAfter,
  feedCandidates,
  insertFeedEntry,
  markCompared,
  saveFeedState,
  tryLockFeed,
} from './meeting-feed.repository.ts';
import {
  type Announced,
  type Announcement,
  attendanceWanted,
  decideAnnouncement,
  type FeedPolicy,
  publicView,
  summariseAttendance,
} from './meeting-feed.rules.ts';

export type FeedContext = Pick<ServiceContext, 'db' | 'clock' | 'newId' | 'publicBaseUrl'>;

/** More events than one meeting can need in a row (e.g. scheduled, then its attendance): a safety bound. */
const MAX_EVENTS_PER_MEETING = 4;

/**
 * One round of the announcer: for every meeting the feed may have news about, publishes what
 * decideAnnouncement says, each event in the outbox and the feed in one transaction with the state it
 * moves the feed to. Returns how many events it wrote (0 also when another replica holds the feed).
 */
export async function announceMeetings(ctx: FeedContext, policy: FeedPolicy): Promise<number> {
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await tryLockFeed(trx))) return 0;
    const now = ctx.clock.now();
    const candidates = await feedCandidates(trx, new Date(now.getTime() - policy.correctionWindowMs));
    const views = candidates.map((row) => ({ row, view: publicView(row, ctx.publicBaseUrl) }));
    const counted = views.filter(({ row, view }) => attendanceWanted(announcedOf(row), view, now, policy));
    const counts = await attendanceCounts(
      trx,
      counted.map(({ row }) => row.id),
    );
    let written = 0;
    for (const { row, view } of views) {
      const meetingCounts = counts.get(row.id);
      const attendance = meetingCounts ? summariseAttendance(meetingCounts) : null;
      let announced = announcedOf(row);
      let events = 0;
      for (; events < MAX_EVENTS_PER_MEETING; events++) {
        const next = decideAnnouncement(announced, view, attendance, now, policy);
        if (next.kind === 'none') break;
        announced = await announce(trx, ctx, now, row, announced, next);
      }
      written += events;
      if (events === 0 && announced && row.comparedVersion !== row.meetingVersion) {
        await markCompared(trx, row.id, row.meetingVersion);
      }
    }
    return written;
  });
}

async function announce(
  trx: Transaction<Database>,
  ctx: FeedContext,
  now: Date,
  row: FeedCandidate,
  announced: Announced | undefined,
  next: Exclude<Announcement, { kind: 'none' }>,
): Promise<Announced> {
  const version = (announced?.version ?? 0) + 1;
  const view = publicView(row, ctx.publicBaseUrl);
  const snapshot: PublicMeetingSnapshot = { ...view, version };
  const meta = { id: ctx.newId(), time: now, source: EVENT_SOURCE, subject: row.id };
  const published = { ...snapshot, status: 'published' as const };
  let event: Awaited<ReturnType<typeof enqueueEvent>>;
  switch (next.kind) {
    case 'scheduled':
      event = await enqueueEvent(trx, publicMeetingScheduled, { ...meta, data: published });
      break;
    case 'cancelled':
      event = await enqueueEvent(trx, publicMeetingCancelled, {
        ...meta,
        data: { ...snapshot, status: 'cancelled' },
      });
      break;
    case 'rescheduled': {
      const { kind: _, ...extra } = next;
      event = await enqueueEvent(trx, publicMeetingRescheduled, {
        ...meta,
        data: { ...published, ...extra },
      });
      break;
    }
    case 'changed':
      event = await enqueueEvent(trx, publicMeetingChanged, {
        ...meta,
        data: { ...published, changedFields: next.changedFields },
      });
      break;
    case 'seats_changed':
      event = await enqueueEvent(trx, publicMeetingSeatsChanged, {
        ...meta,
        data: { ...published, previousAvailability: next.previousAvailability },
      });
      break;
    case 'attendance_recorded':
      event = await enqueueEvent(trx, publicMeetingAttendanceRecorded, {
        ...meta,
        data: { ...published, attendance: next.attendance, correction: next.correction },
      });
      break;
  }
  await insertFeedEntry(trx, event, row.id, version);
  const after: Announced = {
    version,
    view,
    seatsAnnouncedAt: next.kind === 'seats_changed' ? now : (announced?.seatsAnnouncedAt ?? null),
    attendance: next.kind === 'attendance_recorded' ? next.attendance : (announced?.attendance ?? null),
    attendanceAnnouncedAt:
      next.kind === 'attendance_recorded' ? now : (announced?.attendanceAnnouncedAt ?? null),
  };
  await saveFeedState(trx, row.id, row.meetingVersion, after);
  return after;
}

/** One page of the feed; `next` is the cursor for the following page (the same `after` when caught up). */
export async function meetingFeedPage(
  ctx: Pick<ServiceContext, 'db'>,
  after: number,
  limit: number,
): Promise<{ items: FeedEntry[]; next: number; hasMore: boolean }> {
  const rows = await feedAfter(ctx.db, after, limit + 1);
  const items = rows.slice(0, limit);
  return { items, next: items.at(-1)?.position ?? after, hasMore: rows.length > limit };
}
