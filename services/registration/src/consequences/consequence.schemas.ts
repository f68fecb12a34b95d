import { httpUrlSchema } from '@citydeals/contracts';
import { z } from 'zod';
import { capacityBody, rescheduleBody } from '../meetings/meeting.schemas.ts';

export const consequenceBody = z
  .discriminatedUnion('change', [
    z.object({ change: z.literal('capacity'), ...capacityBody.shape }),
    z.object({ change: z.literal('reschedule'), ...rescheduleBody.shape }),
    z.object({ change: z.literal('cancel') }),
    z.object({ change: z.literal('publish') }),
    z.object({
      change: z.literal('edit'),
      title: z.string().trim().min(1).max(200).optional(),
      venue: z
        .object({ name: z.string().trim().min(1).max(200), address: z.string().trim().min(1).max(500) })
        .optional(),
      onlineUrl: httpUrlSchema.nullable().optional(),
      description: z.string().trim().max(5000).nullable().optional(),
    }),
  ])
  .describe('The change to preview, with the same fields as the call that would make it')
  .meta({ example: { change: 'capacity', capacity: 60 } });
export type ConsequenceInput = z.output<typeof consequenceBody>;

export const consequencesSchema = z
  .object({
    unchanged: z.boolean().describe('The change would change nothing and announce nothing'),
    notified: z.int().describe('People who would get a mail about the change'),
    promoted: z.int().describe('Registrations that would be promoted from the waitlist'),
    aboveCapacity: z.int().describe('People who keep a seat above a lowered capacity'),
    seatsTaken: z.int(),
    waitlisted: z.int(),
  })
  .meta({
    example: { unchanged: false, notified: 0, promoted: 4, aboveCapacity: 0, seatsTaken: 40, waitlisted: 6 },
  });
