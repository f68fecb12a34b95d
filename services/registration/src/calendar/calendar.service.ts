import { problems } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import { hashManageToken } from '../manage-links/manage-token.ts';
import { findMeeting, listMeetings, type MeetingRow } from '../meetings/meeting.repository.ts';
import { findPublicMeetingRow } from '../meetings/meeting.service.ts';
import { findRegistrationByTokenHash } from '../registrations/registration.repository.ts';
import { type CalendarEvent, renderCalendar } from './ics.rules.ts';

export const meetingPagePath = (slug: string) => `/bijeenkomsten/${slug}`;

/** The public calendar names the venue, not its address; attendees get the address through their link. */
function toCalendarEvent(ctx: ServiceContext, row: MeetingRow, withAddress: boolean): CalendarEvent {
  return {
    meetingId: row.id,
    sequence: row.ics_sequence,
    title: row.title,
    description: row.description,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    location: withAddress ? `${row.venue_name}, ${row.venue_address}` : row.venue_name,
    url: `${ctx.publicBaseUrl}${meetingPagePath(row.slug)}`,
    status: row.status,
    updatedAt: row.updated_at,
  };
}

export async function meetingCalendar(ctx: ServiceContext, ref: string): Promise<string> {
  const row = await findPublicMeetingRow(ctx, ref);
  return renderCalendar({
    name: row.title,
    events: [toCalendarEvent(ctx, row, false)],
    now: ctx.clock.now(),
  });
}

/** Published meetings and those cancelled after publication, so subscribed calendars drop them too. */
export async function meetingsFeed(ctx: ServiceContext): Promise<string> {
  const rows = await listMeetings(ctx.db, {
    statuses: ['published', 'cancelled'],
    endedAfter: null,
    oncePublished: true,
  });
  return renderCalendar({
    name: 'Community of Practice City Deals',
    events: rows.map((row) => toCalendarEvent(ctx, row, false)),
    now: ctx.clock.now(),
  });
}

export async function ownCalendar(ctx: ServiceContext, token: string): Promise<string> {
  const registration = await findRegistrationByTokenHash(ctx.db, hashManageToken(token));
  if (!registration) throw problems.notFound('a registration with this link');
  const row = (await findMeeting(ctx.db, registration.meeting_id))!;
  return renderCalendar({ name: row.title, events: [toCalendarEvent(ctx, row, true)], now: ctx.clock.now() });
}
