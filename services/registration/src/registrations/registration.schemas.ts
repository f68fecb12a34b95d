import { attendeeRoleSchema, languageSchema, registrationStatusSchema } from '@citydeals/contracts';
import { z } from 'zod';
import { MANAGE_TOKEN_PATTERN } from '../manage-links/manage-token.ts';
import { answersSchema } from '../questions/question.schemas.ts';

const needs = z.string().trim().max(500).nullable();

export const registerBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(254),
    organisation: z.string().trim().min(1).max(200),
    role: attendeeRoleSchema,
    dealId: z.uuid().nullable().default(null).describe('A deal known to this service (see GET /deals)'),
    dietaryNeeds: needs.default(null),
    accessibilityNeeds: needs.default(null),
    consents: z
      .object({
        photo: z.boolean().default(false).describe('May appear in photos of the meeting'),
        attendeeList: z.boolean().default(false).describe('Name may be shown on the attendee list'),
      })
      .default({ photo: false, attendeeList: false }),
    language: languageSchema.optional().describe('Language of mails; the meeting language if left out'),
    answers: answersSchema.default({}),
    sessionIds: z
      .array(z.uuid())
      .max(20)
      .default([])
      .describe(
        'Sessions of the meeting to attend (GET /meetings/{id}/sessions); a full one puts you on its waitlist',
      ),
  })
  .meta({
    example: {
      name: 'Sanne de Vries',
      email: 'sanne.devries@example.org',
      organisation: 'Gemeente Utrecht',
      role: 'projectleider',
      dealId: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
      dietaryNeeds: 'vegetarisch',
      accessibilityNeeds: null,
      consents: { photo: true, attendeeList: true },
      language: 'nl',
    },
  });
export type RegisterInput = z.output<typeof registerBody>;

export const registrationResultSchema = z
  .object({
    registrationId: z.uuid().nullable().describe('Null when the address was already registered'),
    meetingId: z.uuid(),
    status: registrationStatusSchema.nullable().describe('Null when the address was already registered'),
    position: z.int().nullable().describe('Place on the waitlist; null unless waitlisted'),
    manageUrl: z
      .string()
      .nullable()
      .describe('Secret link to view, change or cancel; only given when the registration is new'),
    existing: z
      .boolean()
      .describe(
        'True when this email was already registered for the meeting: the answer then says nothing about that ' +
          'registration, and a fresh manage link is mailed to the address',
      ),
  })
  .meta({
    example: {
      registrationId: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6',
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      status: 'waitlisted',
      position: 3,
      manageUrl: 'https://cop.citydeals.example.org/aanmelding/beheren/q3Vx9Lk2TzR8bWfN0cYhPaQ3Vx9Lk2Tz',
      existing: false,
    },
  });
export type RegistrationResult = z.output<typeof registrationResultSchema>;

export const awaitingConfirmationSchema = z
  .object({
    meetingId: z.uuid(),
    status: z.literal('awaiting_confirmation'),
    expiresAt: z.string().describe('When the confirmation link mailed to the address stops working'),
  })
  .describe(
    'The meeting asks for the address to be confirmed: a link was mailed to it, and nothing is held until it ' +
      'is followed. The same answer whether or not the address was registered already.',
  )
  .meta({
    example: {
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      status: 'awaiting_confirmation',
      expiresAt: '2027-02-02T09:15:00.000Z',
    },
  });

export const manageLinkRequestBody = z
  .object({ email: z.email().max(254).describe('The address the registrations were made with') })
  .meta({ example: { email: 'sanne.devries@example.org' } });

export const tokenParams = z.object({
  token: z
    .string()
    .regex(MANAGE_TOKEN_PATTERN, 'not a manage token')
    .describe('The secret from the manage link'),
});

export const registrationIdParams = z.object({ id: z.uuid().describe('Registration id') });

export const ownRegistrationSchema = z
  .object({
    registrationId: z.uuid(),
    status: registrationStatusSchema,
    position: z.int().nullable(),
    name: z.string(),
    email: z.string(),
    organisation: z.string().nullable(),
    role: attendeeRoleSchema,
    dealId: z.uuid().nullable(),
    dietaryNeeds: z.string().nullable(),
    accessibilityNeeds: z.string().nullable(),
    consents: z.object({ photo: z.boolean(), attendeeList: z.boolean() }),
    language: languageSchema,
    meeting: z.object({
      id: z.uuid(),
      slug: z.string(),
      title: z.string(),
      startsAt: z.string(),
      endsAt: z.string(),
      timeZone: z.string(),
      venue: z.object({ name: z.string(), address: z.string() }),
      onlineUrl: z.string().nullable(),
      status: z.string(),
    }),
  })
  .meta({
    example: {
      registrationId: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6',
      status: 'confirmed',
      position: null,
      name: 'Sanne de Vries',
      email: 'sanne.devries@example.org',
      organisation: 'Gemeente Utrecht',
      role: 'projectleider',
      dealId: null,
      dietaryNeeds: 'vegetarisch',
      accessibilityNeeds: null,
      consents: { photo: true, attendeeList: true },
      language: 'nl',
      meeting: {
        id: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
        slug: 'cop-city-deals-voorjaar-2027',
        title: 'Community of Practice City Deals, voorjaar 2027',
        startsAt: '2027-03-11T12:00:00.000Z',
        endsAt: '2027-03-11T16:30:00.000Z',
        timeZone: 'Europe/Amsterdam',
        venue: {
          name: 'Hangar op het voormalige PTT-terrein',
          address: 'Binckhorstlaan 36, 2516 BE Den Haag',
        },
        onlineUrl: null,
        status: 'published',
      },
    },
  });
export type OwnRegistration = z.output<typeof ownRegistrationSchema>;

export const updateNeedsBody = z
  .object({
    dietaryNeeds: needs,
    accessibilityNeeds: needs,
    consents: z.object({ photo: z.boolean(), attendeeList: z.boolean() }).partial(),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .meta({
    example: { dietaryNeeds: 'veganistisch, geen noten', accessibilityNeeds: 'rolstoeltoegankelijke plek' },
  });
export type UpdateNeedsInput = z.output<typeof updateNeedsBody>;

export const adminRegistrationSchema = z
  .object({
    registrationId: z.uuid(),
    version: z.int(),
    status: registrationStatusSchema,
    position: z.int().nullable(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    organisation: z.string().nullable(),
    role: attendeeRoleSchema,
    dealId: z.uuid().nullable(),
    dealName: z.string().nullable(),
    dietaryNeeds: z.string().nullable(),
    accessibilityNeeds: z.string().nullable(),
    consents: z.object({ photo: z.boolean(), attendeeList: z.boolean() }),
    language: languageSchema,
    registeredAt: z.string(),
    checkedInAt: z.string().nullable(),
    noShowAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
    cancelledBy: z.string().nullable(),
    erased: z.boolean(),
  })
  .meta({
    example: {
      registrationId: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6',
      version: 2,
      status: 'checked_in',
      position: null,
      name: 'Sanne de Vries',
      email: 'sanne.devries@example.org',
      organisation: 'Gemeente Utrecht',
      role: 'projectleider',
      dealId: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
      dealName: 'Fietsen voor Iedereen',
      dietaryNeeds: 'vegetarisch',
      accessibilityNeeds: null,
      consents: { photo: true, attendeeList: true },
      language: 'nl',
      registeredAt: '2027-02-01T09:12:00.000Z',
      checkedInAt: '2027-03-11T11:52:10.000Z',
      noShowAt: null,
      cancelledAt: null,
      cancelledBy: null,
      erased: false,
    },
  });
export type AdminRegistration = z.output<typeof adminRegistrationSchema>;

export const adminListQuery = z.object({
  status: registrationStatusSchema.optional(),
  role: attendeeRoleSchema.optional(),
  dealId: z.uuid().optional(),
  q: z.string().trim().min(1).max(100).optional().describe('Search in name, email and organisation'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  offset: z.coerce.number().int().min(0).default(0),
});
