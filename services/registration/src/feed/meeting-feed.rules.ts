// What the public meeting feed says next about one meeting: pure, with the clock passed in. The announcer
// (meeting-feed.service.ts) compares the meeting as it is now with what the feed last said about it and
// publishes what this file decides, one event at a time, until it decides nothing.
import type { PublicMeetingField, PublicMeetingSnapshot, SeatAvailability } from '@citydeals/contracts';

/** The public meeting without the feed's version: what the next event would carry. */
export type PublicMeetingView = Omit<PublicMeetingSnapshot, 'version'>;

export interface MeetingFacts {
  id: string;
  slug: string;
  title: string;
  status: 'draft' | 'published' | 'cancelled';
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  venueName: string;
  onlineUrl: string | null;
  language: 'nl' | 'en';
  capacity: number;
  seatsTaken: number;
  waitlistLength: number;
  registrationOpensAt: Date | null;
  registrationClosesAt: Date | null;
}

/** A fifth of the capacity, at least one seat: below that a website says "last seats". */
export function limitedThreshold(capacity: number): number {
  return Math.max(1, Math.ceil(capacity / 5));
}

export function availabilityOf(capacity: number, available: number): SeatAvailability {
  if (available <= 0) return 'full';
  return available <= limitedThreshold(capacity) ? 'limited' : 'available';
}

/** The public page's view of a meeting (see toPublicMeeting); never the online link or who registered. */
export function publicView(meeting: MeetingFacts, publicBaseUrl: string): PublicMeetingView {
  const available = Math.max(0, meeting.capacity - meeting.seatsTaken);
  return {
    meetingId: meeting.id,
    title: meeting.title,
    slug: meeting.slug,
    url: `${publicBaseUrl}/bijeenkomsten/${meeting.slug}`,
    startsAt: meeting.startsAt.toISOString(),
    endsAt: meeting.endsAt.toISOString(),
    timeZone: meeting.timeZone,
    venueName: meeting.venueName,
    online: meeting.onlineUrl !== null,
    language: meeting.language,
    status: meeting.status === 'cancelled' ? 'cancelled' : 'published',
    registrationOpensAt: meeting.registrationOpensAt?.toISOString() ?? null,
    registrationClosesAt: (meeting.registrationClosesAt ?? meeting.startsAt).toISOString(),
    seats: {
      capacity: meeting.capacity,
      available,
      waitlisted: meeting.waitlistLength,
      availability: availabilityOf(meeting.capacity, available),
    },
  };
}

const fieldReaders: Record<PublicMeetingField, (v: PublicMeetingView) => unknown> = {
  title: (v) => v.title,
  slug: (v) => v.slug,
  timeZone: (v) => v.timeZone,
  venue: (v) => v.venueName,
  online: (v) => v.online,
  language: (v) => v.language,
  registrationWindow: (v) => `${v.registrationOpensAt}/${v.registrationClosesAt}`,
  capacity: (v) => v.seats.capacity,
};

/** Public fields that differ (seat counts and times are announced by their own events). */
export function changedPublicFields(
  before: PublicMeetingView,
  after: PublicMeetingView,
): PublicMeetingField[] {
  return (Object.keys(fieldReaders) as PublicMeetingField[]).filter(
    (field) => fieldReaders[field](before) !== fieldReaders[field](after),
  );
}

export interface Counts {
  registered: number;
  attended: number;
}

export interface Attendance extends Counts {
  withoutDeal: Counts;
  deals: ({ dealId: string; dealName: string | null } & Counts)[];
}

/** Registrations of one meeting counted by deal (`dealId` null: none named); see attendanceCounts. */
export interface DealCount extends Counts {
  dealId: string | null;
  dealName: string | null;
}

/** The counts as the event carries them: totals, people without a deal, deals by id. */
export function summariseAttendance(counts: readonly DealCount[]): Attendance {
  const none = counts.find((c) => c.dealId === null);
  const deals = counts
    .filter((c): c is DealCount & { dealId: string } => c.dealId !== null && c.registered > 0)
    .map((c) => ({ dealId: c.dealId, dealName: c.dealName, registered: c.registered, attended: c.attended }))
    .sort((a, b) => (a.dealId < b.dealId ? -1 : a.dealId > b.dealId ? 1 : 0));
  const sum = (f: (c: Counts) => number) => counts.reduce((total, c) => total + f(c), 0);
  return {
    registered: sum((c) => c.registered),
    attended: sum((c) => c.attended),
    withoutDeal: { registered: none?.registered ?? 0, attended: none?.attended ?? 0 },
    deals,
  };
}

/** Compared field by field: the stored copy comes back from jsonb with its keys in another order. */
function sameAttendance(a: Attendance, b: Attendance): boolean {
  const same = (x: Counts, y: Counts) => x.registered === y.registered && x.attended === y.attended;
  return (
    same(a, b) &&
    same(a.withoutDeal, b.withoutDeal) &&
    a.deals.length === b.deals.length &&
    a.deals.every((deal, i) => {
      const other = b.deals[i]!;
      return deal.dealId === other.dealId && deal.dealName === other.dealName && same(deal, other);
    })
  );
}

/** What the feed last said about a meeting; absent before its first event. */
export interface Announced {
  version: number;
  view: PublicMeetingView;
  /** When the last seats_changed event went out; the throttle counts from here. */
  seatsAnnouncedAt: Date | null;
  attendance: Attendance | null;
  attendanceAnnouncedAt: Date | null;
}

export interface FeedPolicy {
  /** At most one seats_changed (and one attendance correction) per meeting per this many ms. */
  throttleMs: number;
  /** Attendance corrections are announced for this long after the meeting ends. */
  correctionWindowMs: number;
}

export const CORRECTION_WINDOW_MS = 30 * 86_400_000;

export type Announcement =
  | { kind: 'none' }
  | { kind: 'scheduled' }
  | { kind: 'cancelled' }
  | {
      kind: 'rescheduled';
      previousStartsAt: string;
      previousEndsAt: string;
      changedFields: PublicMeetingField[];
    }
  | { kind: 'changed'; changedFields: PublicMeetingField[] }
  | { kind: 'seats_changed'; previousAvailability: SeatAvailability }
  | { kind: 'attendance_recorded'; attendance: Attendance; correction: boolean };

/** Whether the announcer should count this meeting's registrations (it has ended, corrections still count). */
export function attendanceWanted(
  announced: Announced | undefined,
  current: PublicMeetingView,
  now: Date,
  policy: FeedPolicy,
): boolean {
  if (current.status === 'cancelled' || announced?.view.status === 'cancelled') return false;
  const endsAt = Date.parse(current.endsAt);
  if (now.getTime() < endsAt) return false;
  return !announced?.attendance || now.getTime() < endsAt + policy.correctionWindowMs;
}

/**
 * The next event about a meeting, in priority order: its first appearance, its cancellation (the last
 * word), a move in time, other public changes, then seat levels before the start and attendance after
 * the end. `attendance` is null when it was not counted (see attendanceWanted).
 */
export function decideAnnouncement(
  announced: Announced | undefined,
  current: PublicMeetingView,
  attendance: Attendance | null,
  now: Date,
  policy: FeedPolicy,
): Announcement {
  if (!announced) return { kind: current.status === 'cancelled' ? 'cancelled' : 'scheduled' };
  const before = announced.view;
  if (before.status === 'cancelled') return { kind: 'none' };
  if (current.status === 'cancelled') return { kind: 'cancelled' };
  const changedFields = changedPublicFields(before, current);
  if (before.startsAt !== current.startsAt || before.endsAt !== current.endsAt) {
    return {
      kind: 'rescheduled',
      previousStartsAt: before.startsAt,
      previousEndsAt: before.endsAt,
      changedFields,
    };
  }
  if (changedFields.length > 0) return { kind: 'changed', changedFields };
  const throttled = (since: Date | null) =>
    since !== null && now.getTime() - since.getTime() < policy.throttleMs;
  const started = now.getTime() >= Date.parse(current.startsAt);
  if (
    !started &&
    current.seats.availability !== before.seats.availability &&
    !throttled(announced.seatsAnnouncedAt)
  ) {
    return { kind: 'seats_changed', previousAvailability: before.seats.availability };
  }
  if (attendance && attendanceWanted(announced, current, now, policy)) {
    if (!announced.attendance) return { kind: 'attendance_recorded', attendance, correction: false };
    if (!sameAttendance(announced.attendance, attendance) && !throttled(announced.attendanceAnnouncedAt)) {
      return { kind: 'attendance_recorded', attendance, correction: true };
    }
  }
  return { kind: 'none' };
}
