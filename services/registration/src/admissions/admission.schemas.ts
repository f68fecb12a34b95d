import { attendeeRoleSchema, languageSchema } from '@citydeals/contracts';
import { z } from 'zod';

export const admitBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().max(254),
    organisation: z.string().trim().min(1).max(200).nullable().default(null),
    role: attendeeRoleSchema.default('other'),
    dealId: z.uuid().nullable().default(null),
    dietaryNeeds: z.string().trim().max(500).nullable().default(null),
    accessibilityNeeds: z.string().trim().max(500).nullable().default(null),
    language: languageSchema.optional().describe('Language of mails; the meeting language if left out'),
    overCapacity: z
      .boolean()
      .default(false)
      .describe(
        'Seat them even when the meeting is full (speakers, guests); nobody waiting is passed over otherwise',
      ),
  })
  .meta({
    example: {
      name: 'Jan Spreker',
      email: 'jan@example.org',
      organisation: 'Ministerie van BZK',
      role: 'other',
      dealId: null,
      overCapacity: true,
    },
  });
export type AdmitInput = z.output<typeof admitBody>;
