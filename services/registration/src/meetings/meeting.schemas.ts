import {
  DEFAULT_TIME_ZONE,
  httpUrlSchema,
  isoDurationSchema,
  languageSchema,
  meetingStatusSchema,
  slugSchema,
  timeZoneSchema,
  uniqueItems,
} from '@citydeals/contracts';
import { z } from 'zod';

export const agendaKinds = ['plenary', 'presentation', 'workshop', 'break', 'drinks', 'other'] as const;

export const agendaItemSchema = z
  .object({
    time: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM')
      .describe('Local time in the meeting time zone'),
    title: z.string().trim().min(1).max(200),
    kind: z.enum(agendaKinds),
  })
  .meta({
    example: { time: '13:30', title: 'Jaarparade: resultaten van de City Deals', kind: 'presentation' },
  });

/** Accepts an instant with offset, or a wall-clock time read in the meeting's time zone. */
const dateTimeInput = z.iso
  .datetime({ offset: true, local: true })
  .describe('ISO 8601 date-time; without an offset it is read in the meeting time zone');

const venueInput = z.object({
  name: z.string().trim().min(1).max(200),
  address: z.string().trim().min(1).max(500),
});

const exampleCreate = {
  title: 'Community of Practice City Deals, voorjaar 2027',
  slug: 'cop-city-deals-voorjaar-2027',
  description: 'Jaarparade van resultaten, een ontwerpsessie over de CoP zelf en een borrel.',
  startsAt: '2027-03-11T13:00',
  endsAt: '2027-03-11T17:30',
  timeZone: 'Europe/Amsterdam',
  venue: { name: 'Hangar op het voormalige PTT-terrein', address: 'Binckhorstlaan 36, 2516 BE Den Haag' },
  onlineUrl: null,
  capacity: 40,
  registrationOpensAt: null,
  registrationClosesAt: '2027-03-09T17:00',
  language: 'nl',
  agenda: [
    { time: '13:00', title: 'Inloop en welkom door Agenda Stad', kind: 'plenary' },
    { time: '13:30', title: 'Jaarparade: opbouwen, resultaten, borgen en opschalen', kind: 'presentation' },
    { time: '15:30', title: 'Ontwerpsessie: wat is je ideale CoP?', kind: 'workshop' },
    { time: '17:00', title: 'Borrel: dwarsverbanden beklinken', kind: 'drinks' },
  ],
  reminderOffsets: ['P7D', 'P1D'],
  status: 'draft',
};

const reminderOffsetsInput = z
  .array(isoDurationSchema)
  .max(10)
  .refine(uniqueItems, 'reminder offsets must be unique')
  .describe('How long before the start each reminder goes out (ISO 8601 durations)');

const addressConfirmationInput = z
  .boolean()
  .describe(
    'Public registrations first wait for the address to be confirmed by a link mailed to it; only then is ' +
      'the seat decided (seat or waitlist). Off by default.',
  );

const waitlistPromotionInput = z
  .enum(['automatic', 'offer'])
  .describe(
    'How a free seat reaches the waitlist: at once (automatic), or as an offer mailed to the next in line, ' +
      'held for them until they accept or it expires (docs/waitlist-offers.md).',
  );

const offerHoursInput = z
  .int()
  .min(1)
  .max(336)
  .describe('How long an offer stays open at most, in hours; shorter close to the meeting');

export const createMeetingBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    slug: slugSchema,
    description: z.string().trim().max(5000).nullable().default(null),
    startsAt: dateTimeInput,
    endsAt: dateTimeInput,
    timeZone: timeZoneSchema.default(DEFAULT_TIME_ZONE),
    venue: venueInput,
    onlineUrl: httpUrlSchema.nullable().default(null),
    capacity: z.int().positive().max(100_000),
    registrationOpensAt: dateTimeInput.nullable().default(null),
    registrationClosesAt: dateTimeInput.nullable().default(null),
    language: languageSchema.default('nl'),
    agenda: z.array(agendaItemSchema).max(50).default([]),
    reminderOffsets: reminderOffsetsInput.default(['P7D', 'P1D']),
    status: z.enum(['draft', 'published']).default('draft').describe('Publish at once, or keep as a draft'),
    addressConfirmation: addressConfirmationInput.default(false),
    waitlistPromotion: waitlistPromotionInput.default('automatic'),
    offerHours: offerHoursInput.default(48),
  })
  .meta({ example: exampleCreate });
export type CreateMeetingInput = z.output<typeof createMeetingBody>;

export const editMeetingBody = z
  .strictObject({
    title: z.string().trim().min(1).max(200),
    slug: slugSchema,
    description: z.string().trim().max(5000).nullable(),
    timeZone: timeZoneSchema,
    venue: venueInput,
    onlineUrl: httpUrlSchema.nullable(),
    registrationOpensAt: dateTimeInput.nullable(),
    registrationClosesAt: dateTimeInput.nullable(),
    language: languageSchema,
    agenda: z.array(agendaItemSchema).max(50),
    reminderOffsets: reminderOffsetsInput,
    addressConfirmation: addressConfirmationInput,
    waitlistPromotion: waitlistPromotionInput,
    offerHours: offerHoursInput,
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .describe('Fields to change. Times move with reschedule, capacity with its own call.')
  .meta({
    example: { title: 'Community of Practice City Deals, maart 2027', reminderOffsets: ['P14D', 'P1D'] },
  });
export type EditMeetingInput = z.output<typeof editMeetingBody>;

export const rescheduleBody = z
  .object({ startsAt: dateTimeInput, endsAt: dateTimeInput })
  .meta({ example: { startsAt: '2027-03-18T13:00', endsAt: '2027-03-18T17:30' } });

export const capacityBody = z
  .object({ capacity: z.int().positive().max(100_000) })
  .meta({ example: { capacity: 60 } });

export const cancelMeetingBody = z
  .object({ reason: z.string().trim().min(1).max(1000).nullable().default(null) })
  .meta({ example: { reason: 'De hangar is niet beschikbaar; we plannen een nieuwe datum.' } });

export const meetingIdParams = z.object({ id: z.uuid().describe('Meeting id') });
export const meetingRefParams = z.object({
  ref: z.string().min(1).max(120).describe('Meeting id or slug'),
});

const seatsSchema = z.object({
  capacity: z.int(),
  confirmed: z.int().describe('Seats taken (confirmed, checked in, no-show)'),
  available: z.int(),
  waitlisted: z.int(),
});

const registrationStateSchema = z.object({
  state: z.enum(['open', 'not_published', 'cancelled', 'not_yet_open', 'closed']),
  opensAt: z.string().nullable(),
  closesAt: z.string().nullable(),
});

const exampleMeetingId = '01936b2a-4f00-7c3e-9a1b-2d4e6f708192';

export const publicMeetingSchema = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    startsAt: z.string(),
    endsAt: z.string(),
    timeZone: z.string(),
    venueName: z.string().describe('The address is only sent to registered attendees'),
    online: z.boolean().describe('Whether the meeting can be followed online (link sent to attendees)'),
    addressConfirmation: z
      .boolean()
      .describe('Whether a registration waits for the address to be confirmed by mail before a seat is held'),
    language: languageSchema,
    agenda: z.array(agendaItemSchema),
    status: meetingStatusSchema,
    registration: registrationStateSchema,
    seats: seatsSchema,
  })
  .meta({
    example: {
      id: exampleMeetingId,
      slug: 'cop-city-deals-voorjaar-2027',
      title: 'Community of Practice City Deals, voorjaar 2027',
      description: 'Jaarparade van resultaten, een ontwerpsessie en een borrel.',
      startsAt: '2027-03-11T12:00:00.000Z',
      endsAt: '2027-03-11T16:30:00.000Z',
      timeZone: 'Europe/Amsterdam',
      venueName: 'Hangar op het voormalige PTT-terrein',
      online: false,
      addressConfirmation: false,
      language: 'nl',
      agenda: exampleCreate.agenda,
      status: 'published',
      registration: { state: 'open', opensAt: null, closesAt: '2027-03-09T16:00:00.000Z' },
      seats: { capacity: 40, confirmed: 12, available: 28, waitlisted: 0 },
    },
  });
export type PublicMeeting = z.output<typeof publicMeetingSchema>;

export const adminMeetingSchema = z
  .object({
    id: z.uuid(),
    version: z.int(),
    slug: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    startsAt: z.string(),
    endsAt: z.string(),
    timeZone: z.string(),
    venue: z.object({ name: z.string(), address: z.string() }),
    onlineUrl: z.string().nullable(),
    capacity: z.int(),
    registrationOpensAt: z.string().nullable(),
    registrationClosesAt: z.string().nullable(),
    language: languageSchema,
    agenda: z.array(agendaItemSchema),
    reminderOffsets: z.array(z.string()),
    addressConfirmation: z.boolean().describe('Whether public registrations wait for a confirmed address'),
    waitlistPromotion: z.enum(['automatic', 'offer']),
    offerHours: z.int(),
    status: meetingStatusSchema,
    icsSequence: z.int(),
    cancelReason: z.string().nullable(),
    registration: registrationStateSchema,
    seats: seatsSchema,
  })
  .meta({
    example: {
      id: exampleMeetingId,
      version: 2,
      slug: 'cop-city-deals-voorjaar-2027',
      title: 'Community of Practice City Deals, voorjaar 2027',
      description: 'Jaarparade van resultaten, een ontwerpsessie en een borrel.',
      startsAt: '2027-03-11T12:00:00.000Z',
      endsAt: '2027-03-11T16:30:00.000Z',
      timeZone: 'Europe/Amsterdam',
      venue: exampleCreate.venue,
      onlineUrl: null,
      capacity: 40,
      registrationOpensAt: null,
      registrationClosesAt: '2027-03-09T16:00:00.000Z',
      language: 'nl',
      agenda: exampleCreate.agenda,
      reminderOffsets: ['P7D', 'P1D'],
      addressConfirmation: false,
      waitlistPromotion: 'offer',
      offerHours: 48,
      status: 'published',
      icsSequence: 0,
      cancelReason: null,
      registration: { state: 'open', opensAt: null, closesAt: '2027-03-09T16:00:00.000Z' },
      seats: { capacity: 40, confirmed: 12, available: 28, waitlisted: 0 },
    },
  });
export type AdminMeeting = z.output<typeof adminMeetingSchema>;

export const promotedSchema = z.object({
  registrationId: z.uuid(),
  previousPosition: z.int(),
});

export const capacityResultSchema = z
  .object({ meeting: adminMeetingSchema, promoted: z.array(promotedSchema) })
  .describe('The meeting after the change and the registrations promoted from the waitlist, in order');

export const listMeetingsQuery = z.object({
  includePast: z.stringbool().default(false).describe('Also list meetings that have ended'),
});
export const adminListMeetingsQuery = z.object({
  status: meetingStatusSchema.optional(),
  includePast: z.stringbool().default(true),
});
