import { attendeeRoleSchema } from '@citydeals/contracts';
import { z } from 'zod';
import { messageStatuses } from './message.rules.ts';

const messageTextSchema = z.object({
  subject: z.string().trim().min(1).max(200).meta({ example: 'Praktische informatie voor donderdag' }),
  body: z
    .string()
    .trim()
    .min(1)
    .max(20_000)
    .describe('Plain text; a blank line starts a new paragraph.')
    .meta({ example: 'Beste deelnemers,\n\nDe zaal is open vanaf 12:30.' }),
});

const textsSchema = z
  .object({ nl: messageTextSchema.optional(), en: messageTextSchema.optional() })
  .refine((texts) => texts.nl !== undefined || texts.en !== undefined, {
    message: 'write the message in Dutch (nl), English (en) or both',
  })
  .describe(
    'The message per language. Each attendee gets it in the language they chose; when only one is written, ' +
      'everyone gets that one.',
  );

export const messageBody = z.object({
  id: z
    .uuid()
    .optional()
    .describe('Optional id chosen by the caller: repeating a request with the same id sends nothing again.'),
  statuses: z
    .array(z.enum(messageStatuses))
    .min(1)
    .describe('Who gets it: attendees with a seat (confirmed), on the waitlist, checked in.'),
  dealIds: z.array(z.uuid()).min(1).max(200).optional().describe('Only attendees of these deals.'),
  roles: z.array(attendeeRoleSchema).min(1).optional().describe('Only attendees with these roles.'),
  texts: textsSchema,
  sendAt: z.iso
    .datetime({ offset: true })
    .transform((value) => new Date(value))
    .optional()
    .describe('When to send it; absent or past: at once.'),
});

export const messageSchema = z
  .object({
    id: z.uuid(),
    meetingId: z.uuid(),
    statuses: z.array(z.enum(messageStatuses)),
    dealIds: z.array(z.uuid()).nullable(),
    roles: z.array(z.string()).nullable(),
    texts: z.object({ nl: messageTextSchema.optional(), en: messageTextSchema.optional() }),
    sendAt: z.iso.datetime(),
    createdBy: z.string().describe('Who wrote it (staff member or API key).'),
    createdAt: z.iso.datetime(),
    sentAt: z.iso.datetime().nullable().describe('When it went out; null while scheduled.'),
    recipients: z
      .int()
      .nonnegative()
      .nullable()
      .describe('How many attendees it went to; null while scheduled.'),
  })
  .meta({
    example: {
      id: '01936c10-2b3c-7d4e-8f50-617283940a1b',
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      statuses: ['confirmed'],
      dealIds: null,
      roles: null,
      texts: { nl: { subject: 'Praktische informatie', body: 'De zaal is open vanaf 12:30.' } },
      sendAt: '2023-11-21T09:00:00.000Z',
      createdBy: 'staff:sanne@citydeals.example.org',
      createdAt: '2023-11-20T15:00:00.000Z',
      sentAt: '2023-11-21T09:00:00.000Z',
      recipients: 148,
    },
  });
