import { attendeeRoleSchema } from '@citydeals/contracts';
import { z } from 'zod';

export const attendeeChangeBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    email: z.email().max(254).optional(),
    organisation: z.string().trim().min(1).max(200).nullable().optional(),
    role: attendeeRoleSchema.optional(),
    dealId: z.uuid().nullable().optional(),
    substitute: z
      .boolean()
      .default(false)
      .describe(
        'Someone else takes over the seat: name and email of the new person are required, they get their own ' +
          'manage link and a confirmation; the previous link stops working',
      ),
  })
  .refine((v) => Object.keys(v).some((k) => k !== 'substitute'), 'name at least one field to change')
  .meta({ example: { name: 'Femke Jansen', email: 'femke.jansen@example.org', substitute: true } });
export type AttendeeChangeBody = z.output<typeof attendeeChangeBody>;
