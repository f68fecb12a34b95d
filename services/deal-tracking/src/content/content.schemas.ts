import {
  dateSchema,
  dealRoleSchema,
  idSchema,
  lessonKindSchema,
  partnerTypeSchema,
} from '@citydeals/contracts';
import { z } from 'zod';
import {
  lessonSchema,
  linkSchema,
  partnerSchema,
  personSchema,
  resultSchema,
} from '../deals/deal.schemas.ts';

const dealVersion = z.int().describe('Version of the deal after this change (also the ETag)');

export const personBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    role: dealRoleSchema,
    email: z.email().max(320).describe('Contact address'),
  })
  .strict()
  .meta({ example: { name: 'Sanne Verbeek', role: 'projectleider', email: 'sanne.verbeek@example.org' } });

export const personParams = z.object({ id: idSchema, personId: idSchema });

export const partnerBody = z
  .object({
    name: z.string().trim().min(1).max(200).describe('Name of the partner organisation'),
    type: partnerTypeSchema,
    joinedOn: dateSchema,
  })
  .strict()
  .meta({ example: { name: 'Gemeente Utrecht', type: 'municipality', joinedOn: '2023-10-05' } });

export const partnerParams = z.object({ id: idSchema, partnerId: idSchema });

export const partnerLeaveBody = z
  .object({
    leftOn: dateSchema.describe('Not before the partner joined'),
    reason: z.string().trim().min(1).max(2000).nullable().optional(),
  })
  .strict()
  .meta({ example: { leftOn: '2023-12-31', reason: 'De opdracht binnen de deal is afgerond.' } });

export const resultBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    description: z.string().trim().min(1).max(4000).nullable().optional(),
    achievedOn: dateSchema.nullable().optional(),
  })
  .strict()
  .meta({
    example: {
      title: 'Gemeenten mogen de ISDE-subsidie aanvragen namens bewoners',
      description: 'Op voorspraak van de City Deal mogen gemeenten de ISDE aanvragen en bewoners ontzorgen.',
      achievedOn: '2024-01-01',
    },
  });

export const lessonBody = z
  .object({
    kind: lessonKindSchema,
    text: z.string().trim().min(1).max(4000),
    meetingId: idSchema
      .nullable()
      .optional()
      .describe('The Community of Practice meeting where it was shared'),
  })
  .strict()
  .meta({
    example: {
      kind: 'setback',
      text: 'De toegezegde looptijd van drie jaar is aan de korte kant gebleken.',
      meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
    },
  });

export const linkBody = z
  .object({
    otherDealId: idSchema.describe('The other deal; not this one'),
    note: z.string().trim().min(1).max(2000).nullable().optional(),
    meetingId: idSchema.nullable().optional(),
  })
  .strict()
  .meta({
    example: {
      otherDealId: '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20',
      note: 'De toolbox van Slimme Stad helpt bij datagedreven regie op de transformatie van binnensteden.',
    },
  });

export const personCreated = z.object({ person: personSchema, dealVersion });
export const partnerChanged = z.object({ partner: partnerSchema, dealVersion });
export const resultCreated = z.object({ result: resultSchema, dealVersion });
export const lessonCreated = z.object({ lesson: lessonSchema, dealVersion });
export const linkCreatedResponse = z.object({ link: linkSchema, dealVersion });
export const versionOnly = z.object({ dealVersion });
