import { writeCalendar } from '@citydeals/calendar';

/** A meeting as the public calendar files show it; written by the project's one ICS writer. */
export interface CalendarEvent {
  meetingId: string;
  sequence: number;
  title: string;
  description: string | null;
  startsAt: Date;
  endsAt: Date;
  location: string | null;
  url: string | null;
  status: 'published' | 'cancelled' | 'draft';
  updatedAt: Date;
}

/** Stable per meeting, so every file about a meeting updates the same calendar entry. */
export const UID_DOMAIN = 'cop.citydeals.example.org';
export const meetingUid = (meetingId: string) => `${meetingId}@${UID_DOMAIN}`;

export function renderCalendar(input: { name: string; events: readonly CalendarEvent[]; now: Date }): string {
  return writeCalendar({
    method: 'PUBLISH',
    name: input.name,
    events: input.events.map((event) => ({
      uid: meetingUid(event.meetingId),
      sequence: event.sequence,
      stamp: input.now,
      lastModified: event.updatedAt,
      startsAt: event.startsAt,
      endsAt: event.endsAt,
      summary: event.title,
      description: event.description,
      location: event.location,
      url: event.url,
      status: event.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED',
    })),
  });
}
