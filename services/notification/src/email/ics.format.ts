import { writeCalendar } from '@citydeals/calendar';

/** One attendee's calendar entry for a meeting: an invitation (or its update) or a cancellation. */
export interface IcsInput {
  method: 'REQUEST' | 'CANCEL';
  uid: string;
  sequence: number;
  stamp: Date;
  startsAt: Date;
  endsAt: Date;
  title: string;
  location: string;
  description: string;
  url: string | null;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
}

export function buildIcs(input: IcsInput): string {
  const cancelled = input.method === 'CANCEL';
  return writeCalendar({
    method: input.method,
    events: [
      {
        uid: input.uid,
        sequence: input.sequence,
        stamp: input.stamp,
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        summary: input.title,
        location: input.location,
        description: input.description,
        url: input.url,
        organizer: input.organizer,
        attendee: { ...input.attendee, participation: cancelled ? 'DECLINED' : 'ACCEPTED' },
        status: cancelled ? 'CANCELLED' : 'CONFIRMED',
        transparency: 'OPAQUE',
      },
    ],
  });
}
