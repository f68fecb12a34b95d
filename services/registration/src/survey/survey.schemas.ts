import { languageSchema } from '@citydeals/contracts';
import { z } from 'zod';
import { MANAGE_TOKEN_PATTERN } from '../manage-links/manage-token.ts';

const freeText = z.string().trim().max(500).nullable().default(null);

export const surveyAnswerBody = z
  .object({
    rating: z.int().min(1).max(5).describe('How was the meeting, from 1 (poor) to 5 (excellent)'),
    mostUseful: freeText.describe('What was most useful'),
    suggestions: freeText.describe('What could be better next time'),
    giveName: z
      .boolean()
      .default(false)
      .describe(
        'Keep my name with my answers (they are anonymous otherwise, and then stay after an erasure)',
      ),
    language: languageSchema.default('nl'),
  })
  .meta({
    example: {
      rating: 4,
      mostUseful: 'De dwarsverbanden tussen deals bij de borrel',
      suggestions: 'Meer tijd voor de ontwerpsessie',
      giveName: false,
      language: 'nl',
    },
  });

export const surveyTokenParams = z.object({
  token: z
    .string()
    .regex(MANAGE_TOKEN_PATTERN, 'not a survey token')
    .describe('The secret from the survey link'),
});

export const surveyResultsSchema = z
  .object({
    meetingId: z.uuid(),
    invited: z.int().describe('Attendees sent a link (checked in at the door)'),
    answered: z.int(),
    averageRating: z.number().nullable(),
    ratings: z.object({ '1': z.int(), '2': z.int(), '3': z.int(), '4': z.int(), '5': z.int() }),
    answers: z.array(
      z.object({
        rating: z.int(),
        mostUseful: z.string().nullable(),
        suggestions: z.string().nullable(),
        name: z.string().nullable().describe('Only when the person chose to give it'),
        language: languageSchema,
        answeredOn: z.string().describe('The day only, so an anonymous answer cannot be traced by its time'),
      }),
    ),
  })
  .meta({
    example: {
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      invited: 31,
      answered: 2,
      averageRating: 4.5,
      ratings: { '1': 0, '2': 0, '3': 0, '4': 1, '5': 1 },
      answers: [
        {
          rating: 5,
          mostUseful: 'De jaarparade',
          suggestions: null,
          name: 'Sanne de Vries',
          language: 'nl',
          answeredOn: '2027-03-12',
        },
        {
          rating: 4,
          mostUseful: 'Dwarsverbanden',
          suggestions: 'Meer tijd voor de ontwerpsessie',
          name: null,
          language: 'nl',
          answeredOn: '2027-03-13',
        },
      ],
    },
  });
