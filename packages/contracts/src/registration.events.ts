import { z } from 'zod';
import {
  actorSchema,
  DEFAULT_TIME_ZONE,
  httpUrlSchema,
  idSchema,
  isoDurationSchema,
  languageSchema,
  slugSchema,
  timestampSchema,
  timeZoneSchema,
  uniqueItems,
  versionSchema,
} from './common.ts';
import { defineEvent, type EventOf } from './envelope.ts';

// ---------------------------------------------------------------------------------------------------------
// Enums shared with the registration service

export const meetingStatuses = ['draft', 'published', 'cancelled'] as const;
export const meetingStatusSchema = z.enum(meetingStatuses);
export type MeetingStatus = z.infer<typeof meetingStatusSchema>;

export const registrationStatuses = [
  'confirmed',
  'waitlisted',
  'cancelled',
  'checked_in',
  'no_show',
] as const;
export const registrationStatusSchema = z.enum(registrationStatuses);
export type RegistrationStatus = z.infer<typeof registrationStatusSchema>;

/** Roles an attendee can state on the registration form (the deal roles plus outsiders). */
export const attendeeRoles = [
  'projectleider',
  'projectsecretaris',
  'dealmaker',
  'programmamanager',
  'communicatieadviseur',
  'partner',
  'other',
] as const;
export const attendeeRoleSchema = z.enum(attendeeRoles);
export type AttendeeRole = z.infer<typeof attendeeRoleSchema>;

export const cancellationActors = ['attendee', 'admin', 'system'] as const;
export const cancellationActorSchema = z.enum(cancellationActors);
export type CancellationActor = z.infer<typeof cancellationActorSchema>;

/** Meeting fields that `registration.meeting.updated` can report as changed (times change by rescheduling). */
export const meetingFields = [
  'title',
  'slug',
  'description',
  'timeZone',
  'venue',
  'onlineUrl',
  'language',
  'reminderOffsets',
  'status',
  'capacity',
  'registrationWindow',
  'agenda',
  'addressConfirmation',
  'waitlistPromotion',
] as const;
export const meetingFieldSchema = z.enum(meetingFields);
export type MeetingField = z.infer<typeof meetingFieldSchema>;

// ---------------------------------------------------------------------------------------------------------
// Meeting events carry the whole meeting as it is after the change, so the notification service can build its
// read model from whichever event arrives first and render every mail without calling back.

export const venueSchema = z.object({
  name: z.string().min(1).max(200),
  address: z.string().min(1).max(500),
});
export type Venue = z.infer<typeof venueSchema>;

const meetingShape = {
  meetingId: idSchema,
  version: versionSchema,
  title: z.string().min(1).max(200),
  slug: slugSchema,
  startsAt: timestampSchema,
  endsAt: timestampSchema,
  timeZone: timeZoneSchema.default(DEFAULT_TIME_ZONE),
  venue: venueSchema,
  onlineUrl: httpUrlSchema.nullable(),
  language: languageSchema,
  reminderOffsets: z
    .array(isoDurationSchema)
    .max(10)
    .refine(uniqueItems, 'reminder offsets must be unique')
    .describe('How long before startsAt each reminder goes out, as ISO 8601 durations (e.g. P7D, P1D).'),
  status: meetingStatusSchema,
  capacity: z.int().positive().max(100_000),
  icsSequence: z
    .int()
    .nonnegative()
    .describe(
      'SEQUENCE of the meeting in calendar files; grows with every change a calendar shows: a reschedule, ' +
        'a new title, venue or online link, and the cancellation.',
    ),
};

/** Meeting as carried by every meeting event. */
export const meetingSnapshotSchema = z.object(meetingShape).superRefine(endsAfterStart);
export type MeetingSnapshot = z.output<typeof meetingSnapshotSchema>;

function endsAfterStart(value: { startsAt: string; endsAt: string }, ctx: z.RefinementCtx): void {
  if (Date.parse(value.endsAt) <= Date.parse(value.startsAt)) {
    ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
  }
}

const exampleMeeting = {
  meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
  version: 1 as const,
  title: 'Community of Practice City Deals, november 2023',
  slug: 'cop-city-deals-2023-11',
  startsAt: '2023-11-23T13:00:00+01:00',
  endsAt: '2023-11-23T17:30:00+01:00',
  timeZone: 'Europe/Amsterdam',
  venue: { name: 'Hangar op het voormalige PTT-terrein', address: 'Voormalig PTT-terrein, Den Haag' },
  onlineUrl: null,
  language: 'nl',
  reminderOffsets: ['P7D', 'P1D'],
  status: 'published',
  capacity: 120,
  icsSequence: 0,
} satisfies z.input<typeof meetingSnapshotSchema>;

export const meetingScheduled = defineEvent({
  subject: 'registration.meeting.scheduled',
  version: 1,
  description: 'A meeting was created (as a draft or published at once). Carries the whole meeting.',
  data: z
    .object({
      ...meetingShape,
      version: z.literal(1),
      status: z.enum(['draft', 'published']),
    })
    .superRefine(endsAfterStart),
  example: exampleMeeting,
});

export const meetingUpdated = defineEvent({
  subject: 'registration.meeting.updated',
  version: 1,
  description:
    'A meeting was edited (title, venue, capacity, reminders, publication, …) without moving it in time. ' +
    'Carries the whole meeting after the change and the names of the fields that changed.',
  data: z
    .object({
      ...meetingShape,
      status: z.enum(['draft', 'published']),
      changedFields: z
        .array(meetingFieldSchema)
        .min(1)
        .refine(uniqueItems, 'changed fields must be unique')
        .describe('Fields changed by this edit; some (description, agenda) are not carried in the event.'),
    })
    .superRefine(endsAfterStart),
  example: {
    ...exampleMeeting,
    version: 3,
    capacity: 150,
    changedFields: ['capacity'],
  },
});

export const meetingRescheduled = defineEvent({
  subject: 'registration.meeting.rescheduled',
  version: 1,
  description:
    'A meeting moved to a new start and/or end. Pending reminders must be re-timed and attendees receive a ' +
    'calendar update with the same UID and the new icsSequence.',
  data: z
    .object({
      ...meetingShape,
      status: z.enum(['draft', 'published']),
      icsSequence: meetingShape.icsSequence.min(1),
      previousStartsAt: timestampSchema,
      previousEndsAt: timestampSchema,
    })
    .superRefine(endsAfterStart),
  example: {
    ...exampleMeeting,
    version: 4,
    startsAt: '2023-11-30T13:00:00+01:00',
    endsAt: '2023-11-30T17:30:00+01:00',
    capacity: 150,
    icsSequence: 1,
    previousStartsAt: '2023-11-23T13:00:00+01:00',
    previousEndsAt: '2023-11-23T17:30:00+01:00',
  },
});

export const meetingCancelled = defineEvent({
  subject: 'registration.meeting.cancelled',
  version: 1,
  description:
    'A meeting was cancelled. Its reminders are dropped and attendees receive a calendar cancellation ' +
    '(METHOD:CANCEL) with this icsSequence.',
  data: z
    .object({
      ...meetingShape,
      status: z.literal('cancelled'),
      reason: z.string().min(1).max(1000).nullable(),
    })
    .superRefine(endsAfterStart),
  example: {
    ...exampleMeeting,
    version: 5,
    status: 'cancelled',
    icsSequence: 1,
    reason: 'De hangar is niet beschikbaar; we plannen een nieuwe datum in het voorjaar.',
  },
});

// ---------------------------------------------------------------------------------------------------------
// Attendee events carry what the notification service needs to write a mail, including the manage link.
// The first event's link holds a bearer token: consumers must not log it nor forward it (e.g. to webhooks).

const attendeeShape = {
  registrationId: idSchema,
  meetingId: idSchema,
  version: versionSchema,
  status: registrationStatusSchema,
  name: z.string().min(1).max(200),
  email: z.email().max(254),
  language: languageSchema,
  position: z
    .int()
    .positive()
    .nullable()
    .describe('Place on the waitlist (1 = next in line); null unless waitlisted.'),
  dealId: idSchema
    .nullable()
    .optional()
    .describe(
      'The deal the attendee comes for, if any (a deal known from deal-tracking). Added later: events written ' +
        'before it lack it, which reads as not known.',
    ),
  manageUrl: httpUrlSchema.describe(
    'Link to view, change or cancel the registration. In registration.attendee.registered and ' +
      '.waitlisted (the first event of a registration) it is the personal link with a secret token: never ' +
      'log or forward it. Registration keeps only the hash of the token, so later events link to the manage ' +
      'page without it: a consumer that writes to the attendee keeps the link of the first event.',
  ),
};

/** Registration as carried by attendee events (all but `attendee.erased`). */
export const attendeeSnapshotSchema = z.object(attendeeShape);
export type AttendeeSnapshot = z.output<typeof attendeeSnapshotSchema>;

const exampleAttendee = {
  registrationId: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6',
  meetingId: exampleMeeting.meetingId,
  version: 1,
  status: 'confirmed',
  name: 'Sanne de Vries',
  email: 'sanne.devries@example.org',
  language: 'nl',
  position: null,
  manageUrl: 'https://cop.citydeals.example.org/aanmelding/beheren/q3Vx9Lk2TzR8bWfN0cYhPa',
} satisfies z.input<typeof attendeeSnapshotSchema>;

/** What every event after a registration's first carries as manageUrl (see `manageUrl`). */
const exampleManagePage = 'https://cop.citydeals.example.org/aanmelding/beheren';

export const attendeeRegistered = defineEvent({
  subject: 'registration.attendee.registered',
  version: 1,
  personal: true,
  description:
    'Someone registered for a meeting and got a seat (status confirmed). A registration that lands on the ' +
    'waitlist is announced by registration.attendee.waitlisted instead.',
  data: z.object({ ...attendeeShape, status: z.literal('confirmed'), position: z.null() }),
  example: exampleAttendee,
});

export const attendeeWaitlisted = defineEvent({
  subject: 'registration.attendee.waitlisted',
  version: 1,
  personal: true,
  description: 'Someone registered for a full meeting and was put on the waitlist at the given position.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('waitlisted'),
    position: z.int().positive(),
  }),
  example: {
    ...exampleAttendee,
    registrationId: '01936b2d-7e10-7a2b-9c3d-4e5f60718293',
    name: 'Daan Bakker',
    email: 'd.bakker@example.org',
    language: 'en',
    status: 'waitlisted',
    position: 3,
    manageUrl: 'https://cop.citydeals.example.org/aanmelding/beheren/Hn4Rt7Wq1Zp6Ys0Bv8Kc2e',
  },
});

export const attendeePromoted = defineEvent({
  subject: 'registration.attendee.promoted',
  version: 1,
  personal: true,
  description: 'A seat came free and a waitlisted registration was confirmed.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('confirmed'),
    position: z.null(),
    previousPosition: z.int().positive().describe('Waitlist position just before the promotion.'),
  }),
  example: {
    ...exampleAttendee,
    registrationId: '01936b2d-7e10-7a2b-9c3d-4e5f60718293',
    version: 2,
    name: 'Daan Bakker',
    email: 'd.bakker@example.org',
    language: 'en',
    previousPosition: 1,
    manageUrl: exampleManagePage,
  },
});

export const attendeeSeatOffered = defineEvent({
  subject: 'registration.attendee.seat_offered',
  version: 1,
  personal: true,
  description:
    'A seat came free in a meeting that offers seats instead of promoting at once (waitlistPromotion ' +
    '"offer"): it is held for this waitlisted registration until expiresAt. The notification service mails ' +
    'the accept link; accepting is announced by registration.attendee.promoted, declining or letting the ' +
    'offer expire by registration.attendee.cancelled (the seat then goes to the next in line).',
  data: z.object({
    ...attendeeShape,
    status: z.literal('waitlisted'),
    position: z.int().positive(),
    offerId: idSchema,
    acceptUrl: httpUrlSchema.describe(
      'Link to the page that accepts (or declines) the seat; it holds a secret token: never log or forward it.',
    ),
    expiresAt: timestampSchema.describe('Until when the seat is held; shorter close to the meeting.'),
  }),
  example: {
    ...exampleAttendee,
    registrationId: '01936b2d-7e10-7a2b-9c3d-4e5f60718293',
    version: 2,
    name: 'Daan Bakker',
    email: 'd.bakker@example.org',
    language: 'en',
    status: 'waitlisted',
    position: 1,
    manageUrl: exampleManagePage,
    offerId: '01936b40-3c4d-7e5f-8a6b-7c8d9e0f1a2b',
    acceptUrl: 'https://cop.citydeals.example.org/aanmelding/plek/Vb3Nq8Lx2Tk7Wr0Zc5Hm9Df4Gj1Sp6Ya',
    expiresAt: '2023-11-20T09:30:00+01:00',
  },
});

export const attendeeCancelled = defineEvent({
  subject: 'registration.attendee.cancelled',
  version: 1,
  personal: true,
  description:
    'A registration was cancelled (by the attendee through the manage link, by an admin, or by the system). ' +
    'Pending reminders for it must be dropped.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('cancelled'),
    position: z.null(),
    previousStatus: z.enum(['confirmed', 'waitlisted']),
    cancelledBy: cancellationActorSchema,
  }),
  example: {
    ...exampleAttendee,
    version: 2,
    status: 'cancelled',
    previousStatus: 'confirmed',
    cancelledBy: 'attendee',
    manageUrl: exampleManagePage,
  },
});

export const attendeeCheckedIn = defineEvent({
  subject: 'registration.attendee.checked_in',
  version: 1,
  personal: true,
  description: 'A confirmed attendee was checked in at the door.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('checked_in'),
    position: z.null(),
    checkedInAt: timestampSchema,
  }),
  example: {
    ...exampleAttendee,
    version: 2,
    status: 'checked_in',
    checkedInAt: '2023-11-23T12:52:10+01:00',
    manageUrl: exampleManagePage,
  },
});

export const attendeeCheckInUndone = defineEvent({
  subject: 'registration.attendee.check_in_undone',
  version: 1,
  personal: true,
  description:
    'A check-in at the door was a mistake (the wrong name tapped) and was taken back: the registration is ' +
    'confirmed again, holding its seat. Names who undid it.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('confirmed'),
    position: z.null(),
    previousCheckedInAt: timestampSchema.describe('When the check-in that was undone happened.'),
    undoneAt: timestampSchema,
    undoneBy: actorSchema.describe('The person (through the console) or API key that undid the check-in.'),
  }),
  example: {
    ...exampleAttendee,
    version: 3,
    previousCheckedInAt: '2023-11-23T12:52:10+01:00',
    undoneAt: '2023-11-23T12:53:02+01:00',
    undoneBy: {
      type: 'user',
      id: 'staff:01936c10-0a1b-7c2d-8e3f-405162738495',
      name: 'Eva Jansen <eva@example.org>',
    },
    manageUrl: exampleManagePage,
  },
});

export const attendeeDetailsFields = ['name', 'email', 'organisation', 'role', 'dealId'] as const;

export const attendeeDetailsChanged = defineEvent({
  subject: 'registration.attendee.details_changed',
  version: 1,
  personal: true,
  description:
    "The office corrected a registration's details (a misspelt name, a new address of the same person). " +
    'Carries the registration after the change and which fields changed; the manage link stays the same.',
  data: z.object({
    ...attendeeShape,
    status: z.enum(['confirmed', 'waitlisted', 'checked_in', 'no_show']),
    changedFields: z
      .array(z.enum(attendeeDetailsFields))
      .min(1)
      .refine(uniqueItems, 'changed fields must be unique'),
    changedBy: actorSchema,
  }),
  example: {
    ...exampleAttendee,
    version: 2,
    name: 'Sanne de Vries-Bakker',
    changedFields: ['name'],
    changedBy: {
      type: 'user',
      id: 'staff:01936c10-0a1b-7c2d-8e3f-405162738495',
      name: 'Rik Jansen <rik@example.org>',
    },
    manageUrl: exampleManagePage,
  },
});

export const attendeeSubstituted = defineEvent({
  subject: 'registration.attendee.substituted',
  version: 1,
  personal: true,
  description:
    "Someone else takes over a registration's seat (or waitlist place): the office put the new person in. " +
    'Carries the new person and their own new manage link (a secret, as in attendee.registered); the previous ' +
    'link stopped working. The notification service sends the new person a confirmation.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('confirmed'),
    position: z.null(),
    changedBy: actorSchema,
  }),
  example: {
    ...exampleAttendee,
    version: 3,
    name: 'Femke Jansen',
    email: 'femke.jansen@example.org',
    changedBy: {
      type: 'user',
      id: 'staff:01936c10-0a1b-7c2d-8e3f-405162738495',
      name: 'Rik Jansen <rik@example.org>',
    },
    manageUrl: 'https://cop.citydeals.example.org/aanmelding/beheren/Pq2Wx7Lm4Zt9Kc1Vb8Nr3Ya5',
  },
});

export const attendeeMarkedNoShow = defineEvent({
  subject: 'registration.attendee.marked_no_show',
  version: 1,
  personal: true,
  description:
    'A confirmed attendee did not come: marked as a no-show at the door once the meeting had started. ' +
    'A later check-in (registration.attendee.checked_in) undoes it.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('no_show'),
    position: z.null(),
    markedAt: timestampSchema,
  }),
  example: {
    ...exampleAttendee,
    version: 2,
    status: 'no_show',
    markedAt: '2023-11-23T14:05:00+01:00',
  },
});

/** What an attendee may change about themselves through the manage link. */
export const attendeeNeedsFields = ['dietaryNeeds', 'accessibilityNeeds', 'consents'] as const;

export const attendeeNeedsChanged = defineEvent({
  subject: 'registration.attendee.needs_changed',
  version: 1,
  personal: true,
  description:
    'An attendee changed their dietary or accessibility needs or their consents (photos, attendee list) ' +
    'through the manage link. Carries the needs and consents after the change and which of them changed.',
  data: z.object({
    ...attendeeShape,
    status: z.enum(['confirmed', 'waitlisted', 'checked_in', 'no_show']),
    dietaryNeeds: z.string().min(1).max(500).nullable(),
    accessibilityNeeds: z.string().min(1).max(500).nullable(),
    consents: z.object({ photo: z.boolean(), attendeeList: z.boolean() }),
    changedFields: z
      .array(z.enum(attendeeNeedsFields))
      .min(1)
      .refine(uniqueItems, 'changed fields must be unique'),
  }),
  example: {
    ...exampleAttendee,
    version: 2,
    dietaryNeeds: 'vegetarisch',
    accessibilityNeeds: null,
    consents: { photo: false, attendeeList: true },
    changedFields: ['dietaryNeeds'],
  },
});

export const attendeeErased = defineEvent({
  subject: 'registration.attendee.erased',
  version: 1,
  description:
    'A registration was anonymised (on request or by retention). Every service removes the personal data it ' +
    'holds for this registration. Also announces the end of a request awaiting address confirmation ' +
    '(registration.attendee.confirmation_requested) that expired or whose person was erased: its id is ' +
    'the registrationId. Deliberately carries no personal data.',
  // Strict, so a publisher that passes a name or address along is refused instead of silently trimmed.
  data: z.strictObject({
    registrationId: idSchema,
    meetingId: idSchema,
    version: versionSchema,
  }),
  example: {
    registrationId: exampleAttendee.registrationId,
    meetingId: exampleAttendee.meetingId,
    version: 3,
  },
});

export const attendeeSessionPlaceGranted = defineEvent({
  subject: 'registration.attendee.session_place_granted',
  version: 1,
  description:
    'A place in a session (a workshop within a meeting) came free, or the attendee got a meeting seat, and ' +
    'the attendee who chose the session and waited longest got the place. Carries no personal data: the ' +
    'registration is named by its id.',
  data: z.object({
    registrationId: idSchema,
    version: z
      .literal(1)
      .describe(
        'Each place granted is a fact of its own: a later grant for the same choice does not supersede it.',
      ),
    meetingId: idSchema,
    sessionId: idSchema,
    sessionTitle: z.string().min(1).max(200),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    previousPosition: z
      .int()
      .positive()
      .nullable()
      .describe(
        "Place on the session's waitlist just before; null when the choice waited for the meeting seat.",
      ),
  }),
  example: {
    registrationId: '01936b2d-7e10-7a2b-9c3d-4e5f60718293',
    version: 1,
    meetingId: exampleMeeting.meetingId,
    sessionId: '01936b30-5a6b-7c8d-9e0f-a1b2c3d4e5f6',
    sessionTitle: 'Ontwerpsessie: wat is je ideale CoP?',
    startsAt: '2027-03-11T14:30:00.000Z',
    endsAt: '2027-03-11T15:30:00.000Z',
    previousPosition: 1,
  },
});

export const linkReissueReasons = ['requested', 'registered_again'] as const;

export const attendeeLinkReissued = defineEvent({
  subject: 'registration.attendee.link_reissued',
  version: 1,
  personal: true,
  description:
    'The registration got a new manage link and the previous one stopped working: the attendee asked for ' +
    'their link again, or someone registered their address for this meeting a second time. The notification ' +
    'service mails the new link to the address (only there, so whoever asked learns nothing).',
  data: z.object({
    ...attendeeShape,
    status: z.enum(['confirmed', 'waitlisted', 'checked_in']),
    reason: z.enum(linkReissueReasons).describe('What made the service issue the link again.'),
  }),
  example: {
    ...exampleAttendee,
    version: 2,
    reason: 'requested',
    manageUrl: 'https://cop.citydeals.example.org/aanmelding/beheren/Zt5Kq8Lm3Xc0Vb7Nw2Ra9Hj6Gf1Ds4Pe',
  },
});

export const attendeeConfirmationRequested = defineEvent({
  subject: 'registration.attendee.confirmation_requested',
  version: 1,
  personal: true,
  description:
    'Someone asked to register for a meeting that wants the address confirmed first: nothing is held yet ' +
    '(no seat, no waitlist place). The notification service mails the confirmation link to the address; ' +
    'only when it is followed does the seat decision run, and the registration that results takes this ' +
    "request's id (so registration.attendee.registered or .waitlisted follows with the same registrationId). " +
    'A request that is not confirmed in time, or whose person is erased, is announced by ' +
    'registration.attendee.erased with its id.',
  data: z.object({
    registrationId: idSchema.describe(
      'The id of the request, which the registration takes once the address is confirmed.',
    ),
    meetingId: idSchema,
    version: versionSchema.describe(
      'Version of the request: a new request for the same address and meeting replaces the link and ' +
        'counts up. The registration that results starts its own versions at 1.',
    ),
    name: z.string().min(1).max(200),
    email: z.email().max(254),
    language: languageSchema,
    confirmUrl: httpUrlSchema.describe(
      'Single-use link that confirms the address; it holds a secret token: never log or forward it.',
    ),
    expiresAt: timestampSchema.describe('When the link stops working and the request is forgotten.'),
  }),
  example: {
    registrationId: '01936b2e-0c1d-7e2f-8a3b-4c5d6e7f8091',
    meetingId: exampleMeeting.meetingId,
    version: 1,
    name: 'Sanne de Vries',
    email: 'sanne.devries@example.org',
    language: 'nl',
    confirmUrl: 'https://cop.citydeals.example.org/aanmelding/bevestigen/Lq2Wd8Rz5Tn0Yx3Kc7Vb1Mh4Gp9Fs6Ja',
    expiresAt: '2023-11-02T10:15:00+01:00',
  },
});

export const attendeeSurveyRequested = defineEvent({
  subject: 'registration.attendee.survey_requested',
  version: 1,
  personal: true,
  description:
    'A meeting is over and this attendee was checked in: they are asked for feedback. The notification ' +
    'service mails the survey link to the attendee. Answers are anonymous unless the attendee gives their ' +
    'name; they stay in the registration service and are never sent as events.',
  data: z.object({
    ...attendeeShape,
    status: z.literal('checked_in'),
    position: z.null(),
    surveyUrl: httpUrlSchema.describe(
      'Single-use link to the survey; it holds a secret token: never log or forward it.',
    ),
    expiresAt: timestampSchema.describe('When the survey closes for this attendee.'),
  }),
  example: {
    ...exampleAttendee,
    version: 3,
    status: 'checked_in',
    manageUrl: exampleManagePage,
    surveyUrl: 'https://cop.citydeals.example.org/evaluatie/Pz4Nc8Xw2Lm6Qr0Tb5Hk9Dv3Jf7Sg1Ya',
    expiresAt: '2023-12-07T17:30:00+01:00',
  },
});

export const attendeeMessageRequested = defineEvent({
  subject: 'registration.attendee.message_requested',
  version: 1,
  description:
    'The office sent a message to the attendees of a meeting (POST /admin/meetings/{id}/messages): one event ' +
    'per recipient, in the language the attendee chose (or the only one the office wrote). The notification ' +
    'service mails it through its queue, once per message and registration, to the address it knows for the ' +
    'registration; none to an erased registration or a suppressed address. Carries no personal data: the ' +
    "text is the office's, the same for every recipient.",
  data: z.strictObject({
    messageId: idSchema.describe('The message; the same for all its recipients.'),
    version: z.literal(1).describe('A message goes to each recipient once.'),
    registrationId: idSchema,
    meetingId: idSchema,
    language: languageSchema,
    subject: z.string().min(1).max(200),
    body: z.string().min(1).max(20_000).describe('Plain text; blank lines separate paragraphs.'),
  }),
  example: {
    messageId: '01936c10-2b3c-7d4e-8f50-617283940a1b',
    version: 1,
    registrationId: exampleAttendee.registrationId,
    meetingId: exampleMeeting.meetingId,
    language: 'nl',
    subject: 'Praktische informatie voor donderdag',
    body: 'Beste deelnemers,\n\nDe zaal is open vanaf 12:30. Parkeren kan bij het station.',
  },
});

export const personErased = defineEvent({
  subject: 'registration.person.erased',
  version: 1,
  description:
    'A person asked to be forgotten (POST /admin/erasures). Announced once per request, even when they had no ' +
    'registration, so that every service erases what it holds about the address (deal-tracking: the person ' +
    'as a deal contact). Carries no address, only its keyed digest (see emailDigest); registrations of the ' +
    'person are announced by registration.attendee.erased as well.',
  data: z.strictObject({
    erasureId: idSchema,
    version: z.literal(1).describe('An erasure happens once.'),
    emailDigest: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/)
      .describe('HMAC-SHA256 of the trimmed, lower-cased address under the installation key, base64url.'),
    registrationIds: z.array(idSchema).describe('Registrations erased by this request.'),
  }),
  example: {
    erasureId: '01936c00-0a1b-7c2d-8e3f-405162738495',
    version: 1,
    emailDigest: 'mB2o5V7Jd3o1h6Zp0nq2Ue1F3S8vK4yXwYq9rT5uA0c',
    registrationIds: [exampleAttendee.registrationId],
  },
});

export const registrationEvents = Object.freeze({
  meetingScheduled,
  meetingUpdated,
  meetingRescheduled,
  meetingCancelled,
  attendeeRegistered,
  attendeeWaitlisted,
  attendeePromoted,
  attendeeSeatOffered,
  attendeeCancelled,
  attendeeCheckedIn,
  attendeeCheckInUndone,
  attendeeDetailsChanged,
  attendeeSubstituted,
  attendeeMarkedNoShow,
  attendeeNeedsChanged,
  attendeeErased,
  attendeeSessionPlaceGranted,
  attendeeLinkReissued,
  attendeeConfirmationRequested,
  attendeeSurveyRequested,
  attendeeMessageRequested,
  personErased,
});

export type MeetingScheduledEvent = EventOf<typeof meetingScheduled>;
export type MeetingUpdatedEvent = EventOf<typeof meetingUpdated>;
export type MeetingRescheduledEvent = EventOf<typeof meetingRescheduled>;
export type MeetingCancelledEvent = EventOf<typeof meetingCancelled>;
export type AttendeeRegisteredEvent = EventOf<typeof attendeeRegistered>;
export type AttendeeWaitlistedEvent = EventOf<typeof attendeeWaitlisted>;
export type AttendeePromotedEvent = EventOf<typeof attendeePromoted>;
export type AttendeeSeatOfferedEvent = EventOf<typeof attendeeSeatOffered>;
export type AttendeeCancelledEvent = EventOf<typeof attendeeCancelled>;
export type AttendeeCheckedInEvent = EventOf<typeof attendeeCheckedIn>;
export type AttendeeCheckInUndoneEvent = EventOf<typeof attendeeCheckInUndone>;
export type AttendeeDetailsChangedEvent = EventOf<typeof attendeeDetailsChanged>;
export type AttendeeSubstitutedEvent = EventOf<typeof attendeeSubstituted>;
export type AttendeeMarkedNoShowEvent = EventOf<typeof attendeeMarkedNoShow>;
export type AttendeeNeedsChangedEvent = EventOf<typeof attendeeNeedsChanged>;
export type AttendeeErasedEvent = EventOf<typeof attendeeErased>;
export type AttendeeSessionPlaceGrantedEvent = EventOf<typeof attendeeSessionPlaceGranted>;
export type AttendeeLinkReissuedEvent = EventOf<typeof attendeeLinkReissued>;
export type AttendeeConfirmationRequestedEvent = EventOf<typeof attendeeConfirmationRequested>;
export type AttendeeSurveyRequestedEvent = EventOf<typeof attendeeSurveyRequested>;
export type AttendeeMessageRequestedEvent = EventOf<typeof attendeeMessageRequested>;
export type PersonErasedEvent = EventOf<typeof personErased>;
