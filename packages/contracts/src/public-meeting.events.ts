import { z } from 'zod';
import {
  httpUrlSchema,
  idSchema,
  languageSchema,
  slugSchema,
  timestampSchema,
  timeZoneSchema,
  uniqueItems,
  versionSchema,
} from './common.ts';
import { defineEvent, type EventOf } from './envelope.ts';

// ---------------------------------------------------------------------------------------------------------
// The public side of meetings, for other systems (the programme website, dashboards, the evaluation): what
// the public meeting page shows, seats as a level, and attendance as counts per deal. Nothing here names a
// person, and every payload is a strict object, so a publisher that passes anything more along is refused
// instead of silently trimmed. Sent as webhooks by notification and kept in registration's change feed
// (GET /changes). `version` counts this feed's events about one meeting, not the meeting's internal edits.

/** Public meeting fields a `registration.public_meeting.changed` (or `.rescheduled`) can name as changed. */
export const publicMeetingFields = [
  'title',
  'slug',
  'timeZone',
  'venue',
  'online',
  'language',
  'registrationWindow',
  'capacity',
] as const;
export const publicMeetingFieldSchema = z.enum(publicMeetingFields);
export type PublicMeetingField = z.infer<typeof publicMeetingFieldSchema>;

/**
 * Free seats as a level, the thresholds a website shows: `full` no seat left (new registrations join the
 * waitlist), `limited` at most a fifth of the capacity left (at least one seat), `available` more.
 */
export const seatAvailabilities = ['available', 'limited', 'full'] as const;
export const seatAvailabilitySchema = z.enum(seatAvailabilities);
export type SeatAvailability = z.infer<typeof seatAvailabilitySchema>;

const seatsSchema = z
  .strictObject({
    capacity: z.int().positive(),
    available: z.int().nonnegative().describe('Free seats when this event was made.'),
    waitlisted: z.int().nonnegative(),
    availability: seatAvailabilitySchema,
  })
  .describe(
    'Seats when this event was made. Seat changes alone are announced only when the level changes, at most ' +
      'once per meeting per throttle interval; GET /meetings/{ref} has the live numbers.',
  );

const publicMeetingShape = {
  meetingId: idSchema,
  version: versionSchema.describe(
    'Version of the meeting in this feed: 1 for its first event, one more for each later one (of any type).',
  ),
  title: z.string().min(1).max(200),
  slug: slugSchema,
  url: httpUrlSchema.describe('The public page of the meeting, with its registration form.'),
  startsAt: timestampSchema,
  endsAt: timestampSchema,
  timeZone: timeZoneSchema,
  venueName: z.string().min(1).max(200),
  online: z
    .boolean()
    .describe('Whether the meeting can be followed online (the link goes to attendees only).'),
  language: languageSchema,
  status: z.enum(['published', 'cancelled']),
  registrationOpensAt: timestampSchema.nullable().describe('null: open since publication.'),
  registrationClosesAt: timestampSchema,
  seats: seatsSchema,
};

/** The public meeting as every public meeting event carries it. */
export const publicMeetingSnapshotSchema = z.strictObject(publicMeetingShape);
export type PublicMeetingSnapshot = z.output<typeof publicMeetingSnapshotSchema>;

const changedFieldsSchema = z
  .array(publicMeetingFieldSchema)
  .refine(uniqueItems, 'changed fields must be unique');

const example = {
  meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
  version: 1,
  title: 'Community of Practice City Deals, november 2023',
  slug: 'cop-city-deals-2023-11',
  url: 'https://cop.citydeals.example.org/bijeenkomsten/cop-city-deals-2023-11',
  startsAt: '2023-11-23T12:00:00.000Z',
  endsAt: '2023-11-23T16:30:00.000Z',
  timeZone: 'Europe/Amsterdam',
  venueName: 'Hangar op het voormalige PTT-terrein',
  online: false,
  language: 'nl',
  status: 'published',
  registrationOpensAt: null,
  registrationClosesAt: '2023-11-23T12:00:00.000Z',
  seats: { capacity: 120, available: 120, waitlisted: 0, availability: 'available' },
} satisfies PublicMeetingSnapshot;

export const publicMeetingScheduled = defineEvent({
  subject: 'registration.public_meeting.scheduled',
  version: 1,
  description:
    'A meeting became public: published for the first time (drafts never appear). Carries the public meeting.',
  data: z.strictObject({ ...publicMeetingShape, status: z.literal('published') }),
  example,
});

export const publicMeetingChanged = defineEvent({
  subject: 'registration.public_meeting.changed',
  version: 1,
  description:
    'Something the public sees about a meeting changed, other than its time (title, venue, capacity, ' +
    'registration window, …). Carries the public meeting after the change and which fields changed.',
  data: z.strictObject({
    ...publicMeetingShape,
    status: z.literal('published'),
    changedFields: changedFieldsSchema.min(1),
  }),
  example: {
    ...example,
    version: 2,
    seats: { capacity: 150, available: 150, waitlisted: 0, availability: 'available' },
    changedFields: ['capacity'],
  },
});

export const publicMeetingRescheduled = defineEvent({
  subject: 'registration.public_meeting.rescheduled',
  version: 1,
  description:
    'A public meeting moved to a new start and/or end. `changedFields` names other public fields that ' +
    'changed since the previous event (empty when only the time moved).',
  data: z.strictObject({
    ...publicMeetingShape,
    status: z.literal('published'),
    previousStartsAt: timestampSchema,
    previousEndsAt: timestampSchema,
    changedFields: changedFieldsSchema,
  }),
  example: {
    ...example,
    version: 3,
    startsAt: '2023-11-30T12:00:00.000Z',
    endsAt: '2023-11-30T16:30:00.000Z',
    registrationClosesAt: '2023-11-30T12:00:00.000Z',
    previousStartsAt: example.startsAt,
    previousEndsAt: example.endsAt,
    changedFields: ['registrationWindow'],
  },
});

export const publicMeetingCancelled = defineEvent({
  subject: 'registration.public_meeting.cancelled',
  version: 1,
  description:
    "A public meeting was cancelled; it is the meeting's last event. The office's reason is not carried: it " +
    'is free text meant for attendees.',
  data: z.strictObject({ ...publicMeetingShape, status: z.literal('cancelled') }),
  example: { ...example, version: 4, status: 'cancelled' },
});

export const publicMeetingSeatsChanged = defineEvent({
  subject: 'registration.public_meeting.seats_changed',
  version: 1,
  description:
    'The level of free seats of an upcoming public meeting changed (available, limited, full). Throttled: ' +
    'at most one per meeting per interval (15 minutes by default); when the interval is over, the level as ' +
    'it is then is announced if it still differs. Not sent once the meeting has started.',
  data: z.strictObject({
    ...publicMeetingShape,
    status: z.literal('published'),
    previousAvailability: seatAvailabilitySchema,
  }),
  example: {
    ...example,
    version: 2,
    seats: { capacity: 120, available: 18, waitlisted: 0, availability: 'limited' },
    previousAvailability: 'available',
  },
});

const countsSchema = z.strictObject({
  registered: z
    .int()
    .nonnegative()
    .describe('People who held a seat: confirmed, checked in or marked as no-show.'),
  attended: z.int().nonnegative().describe('People checked in at the door.'),
});

export const publicMeetingAttendanceRecorded = defineEvent({
  subject: 'registration.public_meeting.attendance_recorded',
  version: 1,
  description:
    'A public meeting has ended: how many people held a seat and came, per deal (counts, never people). ' +
    'Corrections at the door after the end are announced again (`correction: true`, throttled like seats) ' +
    'for 30 days after the meeting; the newest version holds.',
  data: z.strictObject({
    ...publicMeetingShape,
    status: z.literal('published'),
    attendance: z.strictObject({
      ...countsSchema.shape,
      withoutDeal: countsSchema.describe('People who named no deal (partners from outside, guests).'),
      deals: z
        .array(
          z.strictObject({
            dealId: idSchema,
            dealName: z.string().min(1).max(300).nullable().describe('null when the deal is not known here.'),
            ...countsSchema.shape,
          }),
        )
        .describe('Every deal with at least one seat held, by deal id.'),
    }),
    correction: z.boolean().describe('true when it replaces counts announced before.'),
  }),
  example: {
    ...example,
    version: 5,
    attendance: {
      registered: 96,
      attended: 88,
      withoutDeal: { registered: 6, attended: 5 },
      deals: [
        {
          dealId: '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20',
          dealName: 'Fietsen voor Iedereen',
          registered: 4,
          attended: 4,
        },
      ],
    },
    correction: false,
  },
});

/** The meeting events other systems may receive (webhooks, the change feed); none carries personal data. */
export const publicMeetingEvents = Object.freeze({
  publicMeetingScheduled,
  publicMeetingChanged,
  publicMeetingRescheduled,
  publicMeetingCancelled,
  publicMeetingSeatsChanged,
  publicMeetingAttendanceRecorded,
});

export type PublicMeetingScheduledEvent = EventOf<typeof publicMeetingScheduled>;
export type PublicMeetingChangedEvent = EventOf<typeof publicMeetingChanged>;
export type PublicMeetingRescheduledEvent = EventOf<typeof publicMeetingRescheduled>;
export type PublicMeetingCancelledEvent = EventOf<typeof publicMeetingCancelled>;
export type PublicMeetingSeatsChangedEvent = EventOf<typeof publicMeetingSeatsChanged>;
export type PublicMeetingAttendanceRecordedEvent = EventOf<typeof publicMeetingAttendanceRecorded>;
