import { z } from 'zod';

const dateTime = z.iso
  .datetime({ offset: true, local: true })
  .describe('ISO 8601 date-time; without an offset it is read in the meeting time zone');

export const sessionParams = z.object({
  id: z.uuid().describe('Meeting id'),
  sessionId: z.uuid().describe('Session id'),
});

export const createSessionBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    description: z.string().trim().max(2000).nullable().default(null),
    startsAt: dateTime,
    endsAt: dateTime,
    capacity: z.int().min(1).max(100_000),
  })
  .meta({
    example: {
      title: 'Ontwerpsessie: wat is je ideale CoP?',
      description: 'In kleine groepen ontwerpen we de Community of Practice van 2027.',
      startsAt: '2027-03-11T15:30',
      endsAt: '2027-03-11T16:30',
      capacity: 20,
    },
  });
export type CreateSessionInput = z.output<typeof createSessionBody>;

export const changeSessionBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    description: z.string().trim().max(2000).nullable(),
    startsAt: dateTime,
    endsAt: dateTime,
    capacity: z.int().min(1).max(100_000),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .meta({ example: { capacity: 24 } });
export type ChangeSessionInput = z.output<typeof changeSessionBody>;

export const chooseSessionsBody = z
  .object({
    sessionIds: z
      .array(z.uuid())
      .max(20)
      .describe('Every session you want to attend; those left out are given up'),
  })
  .meta({ example: { sessionIds: ['01936b30-5a6b-7c8d-9e0f-a1b2c3d4e5f6'] } });

export const publicSessionSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  startsAt: z.string(),
  endsAt: z.string(),
  capacity: z.int(),
  placesAvailable: z.int().describe('Free places; 0 means choosing it puts you on its waitlist'),
  waitlistLength: z.int(),
});
export type PublicSession = z.output<typeof publicSessionSchema>;

export const adminSessionSchema = publicSessionSchema
  .extend({ meetingId: z.uuid(), placesTaken: z.int() })
  .meta({
    example: {
      id: '01936b30-5a6b-7c8d-9e0f-a1b2c3d4e5f6',
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      title: 'Ontwerpsessie: wat is je ideale CoP?',
      description: null,
      startsAt: '2027-03-11T14:30:00.000Z',
      endsAt: '2027-03-11T15:30:00.000Z',
      capacity: 20,
      placesTaken: 18,
      placesAvailable: 2,
      waitlistLength: 0,
    },
  });
export type AdminSession = z.output<typeof adminSessionSchema>;

export const sessionChangeResultSchema = z.object({
  session: adminSessionSchema,
  promoted: z
    .array(z.object({ registrationId: z.uuid(), previousPosition: z.int() }))
    .describe('Registrations that got a place because of this change, longest-waiting first'),
});

export const ownSessionSchema = publicSessionSchema.extend({
  choice: z
    .enum(['placed', 'waitlisted', 'pending'])
    .nullable()
    .describe('pending: chosen while you wait for a seat at the meeting; it counts once you have one'),
  position: z.int().nullable().describe("Place on the session's waitlist; null unless waitlisted"),
});
export type OwnSession = z.output<typeof ownSessionSchema>;

export const ownSessionsSchema = z.object({ sessions: z.array(ownSessionSchema) }).meta({
  example: {
    sessions: [
      {
        id: '01936b30-5a6b-7c8d-9e0f-a1b2c3d4e5f6',
        title: 'Ontwerpsessie: wat is je ideale CoP?',
        description: null,
        startsAt: '2027-03-11T14:30:00.000Z',
        endsAt: '2027-03-11T15:30:00.000Z',
        capacity: 20,
        placesAvailable: 0,
        waitlistLength: 2,
        choice: 'waitlisted',
        position: 2,
      },
    ],
  },
});
export type OwnSessions = z.output<typeof ownSessionsSchema>;
