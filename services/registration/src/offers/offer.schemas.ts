import { languageSchema } from '@citydeals/contracts';
import { z } from 'zod';
import { MANAGE_TOKEN_PATTERN } from '../manage-links/manage-token.ts';

export const offerTokenParams = z.object({
  token: z
    .string()
    .regex(MANAGE_TOKEN_PATTERN, 'not an offer token')
    .describe('The secret from the offer link'),
});

const offerStatusSchema = z
  .enum(['open', 'accepted', 'declined', 'expired', 'withdrawn'])
  .describe('expired as soon as its time is over, even before the sweep closes it');

export const offerViewSchema = z
  .object({
    offerId: z.uuid(),
    registrationId: z.uuid(),
    status: offerStatusSchema,
    expiresAt: z.string().describe('Until when the seat is held'),
    language: languageSchema,
    meeting: z.object({
      id: z.uuid(),
      title: z.string(),
      startsAt: z.string(),
      endsAt: z.string(),
      timeZone: z.string(),
      status: z
        .enum(['draft', 'published', 'cancelled'])
        .describe('cancelled: the offer was withdrawn with the meeting and no longer stands'),
    }),
  })
  .meta({
    example: {
      offerId: '01936b40-3c4d-7e5f-8a6b-7c8d9e0f1a2b',
      registrationId: '01936b2d-7e10-7a2b-9c3d-4e5f60718293',
      status: 'open',
      expiresAt: '2027-03-09T14:00:00.000Z',
      language: 'nl',
      meeting: {
        id: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
        title: 'Community of Practice City Deals, voorjaar 2027',
        startsAt: '2027-03-11T12:00:00.000Z',
        endsAt: '2027-03-11T16:30:00.000Z',
        timeZone: 'Europe/Amsterdam',
        status: 'published',
      },
    },
  });

export const offerAnswerSchema = z
  .object({
    offerId: z.uuid(),
    registrationId: z.uuid(),
    status: z.enum(['accepted', 'declined']),
    registrationStatus: z.enum(['confirmed', 'cancelled']),
  })
  .meta({
    example: {
      offerId: '01936b40-3c4d-7e5f-8a6b-7c8d9e0f1a2b',
      registrationId: '01936b2d-7e10-7a2b-9c3d-4e5f60718293',
      status: 'accepted',
      registrationStatus: 'confirmed',
    },
  });
