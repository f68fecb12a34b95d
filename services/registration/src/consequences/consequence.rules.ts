/**
 * What a change to a meeting will do before anyone confirms it: who gets a mail about it and who moves up from
 * the waitlist. The same rules the change applies (promotion in seats/seat.service.ts, the mails the
 * notification service sends on each meeting event), run on the meeting's counts without writing anything.
 */

export type MeetingChange =
  | { change: 'capacity'; capacity: number }
  | { change: 'reschedule'; startsAt: Date; endsAt: Date }
  | { change: 'cancel' }
  | { change: 'publish' }
  | { change: 'edit'; fields: readonly string[] };

export interface MeetingCounts {
  status: 'draft' | 'published' | 'cancelled';
  capacity: number;
  startsAt: Date;
  endsAt: Date;
  /** Seats held: confirmed, checked in and no-show, as the meeting's counter keeps them. */
  seatsTaken: number;
  /** Confirmed and checked in: those a change notice goes to. */
  seated: number;
  waitlisted: number;
}

export interface Consequences {
  /** Nothing would change (the same value, or a cancelled meeting): the change announces nothing. */
  unchanged: boolean;
  /** People who will get a mail about the change (a change notice, a new date or a cancellation). */
  notified: number;
  /** Registrations promoted from the waitlist, each told by mail. */
  promoted: number;
  /** People who keep a seat above a lowered capacity (nobody is unseated). */
  aboveCapacity: number;
}

/** Fields whose change reaches attendees' calendars, so they get an updated invitation. */
export const CALENDAR_FIELDS: readonly string[] = ['title', 'venue', 'onlineUrl'];

const none: Consequences = { unchanged: false, notified: 0, promoted: 0, aboveCapacity: 0 };

export function consequencesOf(change: MeetingChange, meeting: MeetingCounts, now: Date): Consequences {
  if (meeting.status === 'cancelled') return { ...none, unchanged: true };
  switch (change.change) {
    case 'capacity': {
      if (change.capacity === meeting.capacity) return { ...none, unchanged: true };
      const promotes = meeting.status === 'published' && now.getTime() < meeting.startsAt.getTime();
      const free = Math.max(0, change.capacity - meeting.seatsTaken);
      return {
        ...none,
        promoted: promotes ? Math.min(meeting.waitlisted, free) : 0,
        aboveCapacity: Math.max(0, meeting.seatsTaken - change.capacity),
      };
    }
    case 'reschedule': {
      const same =
        change.startsAt.getTime() === meeting.startsAt.getTime() &&
        change.endsAt.getTime() === meeting.endsAt.getTime();
      return same ? { ...none, unchanged: true } : { ...none, notified: meeting.seated };
    }
    case 'cancel':
      return { ...none, notified: meeting.seated + meeting.waitlisted };
    case 'publish':
      return { ...none, unchanged: meeting.status === 'published' };
    case 'edit': {
      const reachesCalendars = change.fields.some((f) => CALENDAR_FIELDS.includes(f));
      const over = meeting.endsAt.getTime() <= now.getTime();
      const tells = reachesCalendars && meeting.status === 'published' && !over;
      return { ...none, unchanged: change.fields.length === 0, notified: tells ? meeting.seated : 0 };
    }
  }
}
