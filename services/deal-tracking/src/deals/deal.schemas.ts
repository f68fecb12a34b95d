import {
  dateSchema,
  dealKindSchema,
  dealPhaseSchema,
  dealPhases,
  idSchema,
  slugSchema,
  uniqueItems,
} from '@citydeals/contracts';
import { z } from 'zod';

const exampleDealId = '01936a10-7081-7293-a4b5-1f2031425364';

export const dealIdParams = z.object({
  id: idSchema.describe('Id of the deal').meta({ example: exampleDealId }),
});

const name = z.string().trim().min(1).max(200).describe('Name of the deal').meta({ example: 'Slimme Stad' });
const summary = z
  .string()
  .trim()
  .min(1)
  .max(4000)
  .nullable()
  .describe('What the deal is about, in a few sentences');
const themes = z
  .array(z.string().trim().min(1).max(80))
  .max(20)
  .refine(uniqueItems, 'themes must be unique')
  .describe('Themes for filtering, e.g. mobiliteit, energie');
const tranche = z.int().min(1).max(20).nullable().describe('Current tranche, e.g. 3 for the third');

export const createDealBody = z
  .object({
    name,
    slug: slugSchema.optional().describe('URL name; made from the name when left out'),
    kind: dealKindSchema,
    summary: summary.optional(),
    themes: themes.optional(),
    signedOn: dateSchema.nullable().optional().describe('The day the deal was signed'),
    termEndsOn: dateSchema.nullable().optional().describe('End of the agreed term'),
    tranche: tranche.optional(),
  })
  .strict()
  .meta({
    example: {
      name: 'Slimme Stad',
      kind: 'city_deal',
      summary: 'Een toolbox voor democratisch en slim omgaan met digitalisering in steden.',
      themes: ['digitalisering'],
      signedOn: '2019-10-03',
      termEndsOn: '2022-10-03',
    },
  });

export const editDealBody = z
  .object({
    name: name.optional(),
    slug: slugSchema.optional(),
    kind: dealKindSchema.optional(),
    summary: summary.optional(),
    themes: themes.optional(),
    signedOn: dateSchema.nullable().optional(),
    termEndsOn: dateSchema
      .nullable()
      .optional()
      .describe(
        'Only the current value is accepted: the end of term changes by an extension (POST /deals/{id}/extensions)',
      ),
    tranche: tranche
      .optional()
      .describe('Only the current value is accepted: a new tranche starts by POST /deals/{id}/tranches'),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'give at least one field to change')
  .meta({
    example: { themes: ['digitalisering', 'data'], summary: 'De toolbox heeft een thuis gevonden bij DMI.' },
  });

export const transitionBody = z
  .object({
    to: dealPhaseSchema.describe('The phase to move to'),
    reason: z.string().trim().min(1).max(2000).describe('Why; shown in the history'),
  })
  .strict()
  .meta({
    example: {
      to: 'securing',
      reason:
        'Het nationaal masterplan wordt met de partners breed gedragen afgerond: nu borgen en opschalen.',
    },
  });

export const extensionBody = z
  .object({
    termEndsOn: dateSchema.describe('The new end of the term; later than the current one'),
    reason: z.string().trim().min(1).max(2000),
  })
  .strict()
  .meta({
    example: {
      termEndsOn: '2026-03-31',
      reason: 'Met 100 partners is twee jaar extra nodig om de resultaten te borgen en op te schalen.',
    },
  });

export const trancheBody = z
  .object({
    tranche: z.int().min(1).max(20).describe('Number of the new tranche; after the current one'),
    startsOn: dateSchema,
    note: z.string().trim().min(1).max(2000).nullable().optional().describe('e.g. what the tranche is about'),
  })
  .strict()
  .meta({ example: { tranche: 3, startsOn: '2023-01-01', note: 'Na implementeren en innoveren: borgen.' } });

export const listDealsQuery = z.object({
  phase: z
    .union([dealPhaseSchema, z.array(dealPhaseSchema)])
    .optional()
    .describe(`Only deals in this phase; repeat for several (${dealPhases.join(', ')})`),
  kind: dealKindSchema.optional(),
  theme: z.string().min(1).max(80).optional().describe('Only deals with this theme (exact)'),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('Text search: case-insensitive part of the name, slug, summary or a theme')
    .meta({ example: 'fiets' }),
  overdue: z.stringbool().optional().describe('true: only deals whose term has passed while still active'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const timestamp = z.iso.datetime({ offset: true });

export const dealSchema = z
  .object({
    id: idSchema,
    slug: slugSchema,
    name: z.string(),
    kind: dealKindSchema,
    phase: dealPhaseSchema,
    phaseSince: timestamp,
    summary: z.string().nullable(),
    themes: z.array(z.string()),
    signedOn: dateSchema.nullable(),
    termEndsOn: dateSchema.nullable(),
    tranche: z.int().nullable(),
    overdue: z.boolean().describe('The term has passed without completion or extension'),
    version: z.int().describe('Grows by one with every change; also the ETag'),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({
    example: {
      id: exampleDealId,
      slug: 'slimme-stad',
      name: 'Slimme Stad',
      kind: 'city_deal',
      phase: 'securing',
      phaseSince: '2023-11-23T15:00:00.000Z',
      summary: 'Een toolbox voor democratisch en slim omgaan met digitalisering in steden.',
      themes: ['digitalisering'],
      signedOn: null,
      termEndsOn: null,
      tranche: null,
      overdue: false,
      version: 7,
      createdAt: '2023-11-23T15:00:00.000Z',
      updatedAt: '2023-11-23T15:00:00.000Z',
    },
  });

export const dealListSchema = z.object({
  items: z.array(dealSchema),
  total: z.int().describe('Deals matching the filters, before limit and offset'),
});

export const personSchema = z.object({
  id: idSchema,
  name: z.string(),
  role: z.string(),
  email: z.string(),
  addedAt: timestamp,
});
export const partnerSchema = z.object({
  id: idSchema,
  name: z.string(),
  type: z.string(),
  joinedOn: dateSchema,
  leftOn: dateSchema.nullable(),
  leftReason: z.string().nullable(),
});
export const resultSchema = z.object({
  id: idSchema,
  title: z.string(),
  description: z.string().nullable(),
  achievedOn: dateSchema.nullable(),
  recordedAt: timestamp,
});
export const lessonSchema = z.object({
  id: idSchema,
  kind: z.enum(['success', 'setback']),
  text: z.string(),
  meetingId: idSchema.nullable(),
  recordedAt: timestamp,
});
export const linkSchema = z.object({
  id: idSchema,
  otherDealId: idSchema,
  otherDealName: z.string(),
  otherDealSlug: z.string(),
  recordedOnDealId: idSchema.describe('The deal the link was recorded on (its version counted the change)'),
  note: z.string().nullable(),
  meetingId: idSchema.nullable(),
  recordedAt: timestamp,
});
export const extensionSchema = z.object({
  id: idSchema,
  previousTermEndsOn: dateSchema.nullable(),
  termEndsOn: dateSchema,
  reason: z.string(),
  recordedAt: timestamp,
});
export const trancheSchema = z.object({
  id: idSchema,
  tranche: z.int(),
  startsOn: dateSchema,
  note: z.string().nullable(),
  recordedAt: timestamp,
});

export const dealDetailSchema = dealSchema.extend({
  people: z.array(personSchema),
  partners: z.array(partnerSchema).describe('Current and former partners; former ones have leftOn'),
  results: z.array(resultSchema),
  lessons: z.array(lessonSchema),
  links: z.array(linkSchema).describe('Cross-links, whichever of the two deals they were recorded on'),
  extensions: z.array(extensionSchema),
  tranches: z.array(trancheSchema),
});
