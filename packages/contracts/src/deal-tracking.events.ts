import { z } from 'zod';
import {
  actorSchema,
  dateSchema,
  idSchema,
  slugSchema,
  timestampSchema,
  uniqueItems,
  versionSchema,
} from './common.ts';
import { defineEvent, type EventOf } from './envelope.ts';

// ---------------------------------------------------------------------------------------------------------
// Enums shared with the deal-tracking service and the read models of the others

export const dealKinds = ['city_deal', 'town_deal'] as const;
export const dealKindSchema = z.enum(dealKinds);
export type DealKind = z.infer<typeof dealKindSchema>;

/** The lifecycle, in order; `preparing` is the programme's "in verkenning" (exploration). */
export const dealPhases = [
  'preparing',
  'signed',
  'building',
  'delivering',
  'securing',
  'completed',
  'discontinued',
] as const;
export const dealPhaseSchema = z.enum(dealPhases);
export type DealPhase = z.infer<typeof dealPhaseSchema>;

export const activeDealPhases = [
  'preparing',
  'signed',
  'building',
  'delivering',
  'securing',
] as const satisfies readonly DealPhase[];
export const terminalDealPhases = ['completed', 'discontinued'] as const satisfies readonly DealPhase[];

/**
 * The legal moves of the phase machine: one step forward, or discontinued from any active phase. Kept here
 * so that the service enforcing it and every consumer validating `phase_changed` agree on it.
 */
export const dealPhaseTransitions: Readonly<Record<DealPhase, readonly DealPhase[]>> = Object.freeze({
  preparing: ['signed', 'discontinued'],
  signed: ['building', 'discontinued'],
  building: ['delivering', 'discontinued'],
  delivering: ['securing', 'discontinued'],
  securing: ['completed', 'discontinued'],
  completed: [],
  discontinued: [],
});

export function isAllowedPhaseTransition(from: DealPhase, to: DealPhase): boolean {
  return dealPhaseTransitions[from].includes(to);
}

/** Roles of the people who run a deal. */
export const dealRoles = [
  'projectleider',
  'projectsecretaris',
  'dealmaker',
  'programmamanager',
  'communicatieadviseur',
] as const;
export const dealRoleSchema = z.enum(dealRoles);
export type DealRole = z.infer<typeof dealRoleSchema>;

export const partnerTypes = [
  'municipality',
  'province',
  'ministry',
  'water_board',
  'knowledge_institution',
  'company',
  'bank',
  'police',
  'civil_society',
  'other',
] as const;
export const partnerTypeSchema = z.enum(partnerTypes);
export type PartnerType = z.infer<typeof partnerTypeSchema>;

export const lessonKinds = ['success', 'setback'] as const;
export const lessonKindSchema = z.enum(lessonKinds);
export type LessonKind = z.infer<typeof lessonKindSchema>;

/**
 * Deal fields that `deal_tracking.deal.updated` can report as changed. Phase changes, term extensions and new
 * tranches have their own events; `termEndsOn` and `tranche` appear here only in events published before
 * they did (an edit can no longer change them).
 */
export const dealFields = [
  'name',
  'slug',
  'kind',
  'summary',
  'themes',
  'signedOn',
  'termEndsOn',
  'tranche',
  'people',
] as const;
export const dealFieldSchema = z.enum(dealFields);
export type DealField = z.infer<typeof dealFieldSchema>;

// ---------------------------------------------------------------------------------------------------------
// Every deal-tracking event carries the deal's id and version (content events too: adding a partner, result,
// lesson or link is a change of the deal), plus who made the change and when, for history and evaluation.

const changeShape = {
  actor: actorSchema,
  occurredAt: timestampSchema,
};

const dealRefShape = {
  dealId: idSchema,
  version: versionSchema,
  name: z.string().min(1).max(200),
  slug: slugSchema,
  kind: dealKindSchema,
  phase: dealPhaseSchema,
};

const dealDetailsShape = {
  summary: z.string().min(1).max(4000).nullable(),
  themes: z.array(z.string().min(1).max(80)).max(20).refine(uniqueItems, 'themes must be unique'),
  signedOn: dateSchema.nullable(),
  termEndsOn: dateSchema.nullable().describe('End of the current term, including any extension.'),
  tranche: z.int().positive().max(20).nullable().describe('Current tranche, e.g. 3 for the third.'),
};

function termAfterSigning(
  value: { signedOn: string | null; termEndsOn: string | null },
  ctx: z.RefinementCtx,
) {
  // ISO dates compare correctly as strings.
  if (value.signedOn !== null && value.termEndsOn !== null && value.termEndsOn <= value.signedOn) {
    ctx.addIssue({ code: 'custom', path: ['termEndsOn'], message: 'termEndsOn must be after signedOn' });
  }
}

/** Deal as carried by `deal.created` and `deal.updated`. */
export const dealSnapshotSchema = z
  .object({ ...dealRefShape, ...dealDetailsShape, ...changeShape })
  .superRefine(termAfterSigning);
export type DealSnapshot = z.output<typeof dealSnapshotSchema>;

const programmeOffice = {
  type: 'api_key',
  id: 'key_programmabureau',
  name: 'Programmabureau Agenda Stad',
} as const;

// Ids of the demo deals, shared by the examples so they tell one consistent story.
const exampleDealIds = {
  energiekeWijken: '01936a10-5e6f-7071-8283-9d0e1f203142',
  openbareRuimte: '01936a10-6f70-7182-9394-0e1f20314253',
  slimmeStad: '01936a10-7081-7293-a4b5-1f2031425364',
} as const;
const exampleMeetingId = '01936b2a-4f00-7c3e-9a1b-2d4e6f708192';

const fietsenVoorIedereen = {
  dealId: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
  name: 'Fietsen voor Iedereen',
  slug: 'fietsen-voor-iedereen',
  kind: 'city_deal',
} as const;

const dynamischeBinnensteden = {
  dealId: '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20',
  name: 'Dynamische Binnensteden',
  slug: 'dynamische-binnensteden',
  kind: 'city_deal',
} as const;

export const dealCreated = defineEvent({
  subject: 'deal_tracking.deal.created',
  version: 1,
  description: 'A deal (City Deal or Town Deal) was added. Carries the whole deal.',
  data: z
    .object({ ...dealRefShape, ...dealDetailsShape, ...changeShape, version: z.literal(1) })
    .superRefine(termAfterSigning),
  example: {
    ...fietsenVoorIedereen,
    version: 1,
    phase: 'preparing',
    summary:
      'Steden, ministeries en partners zorgen samen dat iedereen kan fietsen, ook wie dat nu niet kan of durft.',
    themes: ['mobiliteit', 'inclusie'],
    signedOn: null,
    termEndsOn: null,
    tranche: null,
    actor: programmeOffice,
    occurredAt: '2023-03-14T10:12:00+01:00',
  },
});

export const dealUpdated = defineEvent({
  subject: 'deal_tracking.deal.updated',
  version: 1,
  description:
    'A deal was edited (name, summary, themes, signing date, tranche, people in roles, …). Carries the whole ' +
    'deal after the change and the names of the fields that changed.',
  data: z
    .object({
      ...dealRefShape,
      ...dealDetailsShape,
      ...changeShape,
      changedFields: z.array(dealFieldSchema).min(1).refine(uniqueItems, 'changed fields must be unique'),
    })
    .superRefine(termAfterSigning),
  example: {
    ...fietsenVoorIedereen,
    version: 3,
    phase: 'signed',
    summary:
      'Steden, ministeries en partners zorgen samen dat iedereen kan fietsen, ook wie dat nu niet kan of durft.',
    themes: ['mobiliteit', 'inclusie', 'gezondheid'],
    signedOn: '2023-10-05',
    termEndsOn: '2026-10-05',
    tranche: 1,
    changedFields: ['themes', 'signedOn'],
    actor: programmeOffice,
    occurredAt: '2023-10-09T09:30:00+02:00',
  },
});

export const dealPhaseChanged = defineEvent({
  subject: 'deal_tracking.deal.phase_changed',
  version: 1,
  description:
    'A deal moved to another phase of its lifecycle (see dealPhaseTransitions), with who, when and why. ' +
    '`phase` equals `to`.',
  data: z
    .object({
      ...dealRefShape,
      ...changeShape,
      from: dealPhaseSchema,
      to: dealPhaseSchema,
      reason: z.string().min(1).max(2000),
    })
    .superRefine((value, ctx) => {
      if (value.phase !== value.to) {
        ctx.addIssue({ code: 'custom', path: ['phase'], message: 'phase must equal to' });
      }
      if (!isAllowedPhaseTransition(value.from, value.to)) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `illegal transition ${value.from} → ${value.to}; allowed: ${dealPhaseTransitions[value.from].join(', ') || 'none'}`,
        });
      }
    }),
  example: {
    ...dynamischeBinnensteden,
    version: 4,
    phase: 'building',
    from: 'signed',
    to: 'building',
    reason: 'Na de ondertekening op 14 juni 2023 is de coalitie van steden en partners in opbouw.',
    actor: programmeOffice,
    occurredAt: '2023-09-01T11:00:00+02:00',
  },
});

export const dealTermExtended = defineEvent({
  subject: 'deal_tracking.deal.term_extended',
  version: 1,
  description: "A deal's term was extended to a later end date.",
  data: z
    .object({
      ...dealRefShape,
      ...changeShape,
      previousTermEndsOn: dateSchema.nullable(),
      termEndsOn: dateSchema,
      reason: z.string().min(1).max(2000),
    })
    .superRefine((value, ctx) => {
      if (value.previousTermEndsOn !== null && value.termEndsOn <= value.previousTermEndsOn) {
        ctx.addIssue({
          code: 'custom',
          path: ['termEndsOn'],
          message: 'an extension must end after the previous term',
        });
      }
    }),
  example: {
    dealId: '01936a10-4d5e-7f60-b172-8c9d0e1f2031',
    version: 12,
    name: 'Impact Ondernemen',
    slug: 'impact-ondernemen',
    kind: 'city_deal',
    phase: 'delivering',
    previousTermEndsOn: '2024-03-31',
    termEndsOn: '2026-03-31',
    reason: 'Met 100 partners is twee jaar extra nodig om de resultaten te borgen en op te schalen.',
    actor: programmeOffice,
    occurredAt: '2023-12-05T14:20:00+01:00',
  },
});

export const dealTrancheStarted = defineEvent({
  subject: 'deal_tracking.deal.tranche_started',
  version: 1,
  description:
    'A deal started its next tranche (e.g. implement → innovate → secure) on the given date. `tranche` is ' +
    "the deal's current tranche from now on.",
  data: z
    .object({
      ...dealRefShape,
      ...changeShape,
      tranche: z.int().positive().max(20),
      previousTranche: z.int().positive().max(20).nullable(),
      startsOn: dateSchema.describe('The day the tranche starts.'),
      note: z.string().min(1).max(2000).nullable(),
    })
    .superRefine((value, ctx) => {
      if (value.previousTranche !== null && value.tranche <= value.previousTranche) {
        ctx.addIssue({
          code: 'custom',
          path: ['tranche'],
          message: 'a new tranche must come after the previous one',
        });
      }
    }),
  example: {
    dealId: '01936a10-8192-73a4-b5c6-203142536475',
    version: 9,
    name: 'Lokale Weerbaarheid Cybercrime',
    slug: 'lokale-weerbaarheid-cybercrime',
    kind: 'city_deal',
    phase: 'securing',
    tranche: 3,
    previousTranche: 2,
    startsOn: '2023-07-01',
    note: 'Derde tranche: borgen en opschalen.',
    actor: programmeOffice,
    occurredAt: '2023-07-03T09:00:00+02:00',
  },
});

// ---------------------------------------------------------------------------------------------------------
// Deal content

const dealContentShape = {
  dealId: idSchema,
  version: versionSchema.describe('Version of the deal after this change (content is part of the deal).'),
  ...changeShape,
};

const partnerShape = {
  partnerId: idSchema,
  name: z.string().min(1).max(200).describe('Name of the partner organisation.'),
  type: partnerTypeSchema,
};

export const partnerJoined = defineEvent({
  subject: 'deal_tracking.partner.joined',
  version: 1,
  description: 'An organisation joined a deal as a partner.',
  data: z.object({ ...dealContentShape, ...partnerShape, joinedOn: dateSchema }),
  example: {
    dealId: exampleDealIds.energiekeWijken,
    version: 7,
    partnerId: '01936a20-0a1b-7c2d-9e3f-405162738495',
    name: 'Woningcorporatie Thuis in de Wijk',
    type: 'civil_society',
    joinedOn: '2023-11-01',
    actor: programmeOffice,
    occurredAt: '2023-11-02T09:05:00+01:00',
  },
});

export const partnerLeft = defineEvent({
  subject: 'deal_tracking.partner.left',
  version: 1,
  description: 'A partner organisation left a deal.',
  data: z.object({
    ...dealContentShape,
    ...partnerShape,
    leftOn: dateSchema,
    reason: z.string().min(1).max(2000).nullable(),
  }),
  example: {
    dealId: exampleDealIds.openbareRuimte,
    version: 19,
    partnerId: '01936a20-1b2c-7d3e-8f40-5162738495a6',
    name: 'Adviesbureau Stadsruimte',
    type: 'company',
    leftOn: '2023-12-31',
    reason: 'De opdracht binnen de deal is afgerond.',
    actor: programmeOffice,
    occurredAt: '2024-01-03T10:00:00+01:00',
  },
});

export const resultRecorded = defineEvent({
  subject: 'deal_tracking.result.recorded',
  version: 1,
  description:
    'A concrete result of a deal was recorded: a change in rules, a plan, a fund, a toolbox adopted elsewhere.',
  data: z.object({
    ...dealContentShape,
    resultId: idSchema,
    title: z.string().min(1).max(200),
    description: z.string().min(1).max(4000).nullable(),
    achievedOn: dateSchema.nullable(),
  }),
  example: {
    dealId: exampleDealIds.energiekeWijken,
    version: 8,
    resultId: '01936a30-2c3d-7e4f-a051-62738495a6b7',
    title: 'Gemeenten mogen de ISDE-subsidie aanvragen namens bewoners',
    description:
      'Vanaf 1 januari kunnen gemeenten de ISDE-subsidie aanvragen namens bewoners, zodat wijkaanpakken ' +
      'niet stranden op de aanvraag door individuele huishoudens.',
    achievedOn: '2024-01-01',
    actor: programmeOffice,
    occurredAt: '2023-11-23T16:05:00+01:00',
  },
});

export const lessonRecorded = defineEvent({
  subject: 'deal_tracking.lesson.recorded',
  version: 1,
  description:
    'A lesson (a success or a setback) of a deal was recorded, optionally linked to the meeting where it was shared.',
  data: z.object({
    ...dealContentShape,
    lessonId: idSchema,
    kind: lessonKindSchema,
    text: z.string().min(1).max(4000),
    meetingId: idSchema.nullable().describe('The Community of Practice meeting where it was shared.'),
  }),
  example: {
    dealId: exampleDealIds.openbareRuimte,
    version: 20,
    lessonId: '01936a40-3d4e-7f50-8162-738495a6b7c8',
    kind: 'setback',
    text: 'Beloven dat je in drie jaar klaar bent is te kort gebleken: het opbouwen van de coalitie kostte al ruim een jaar.',
    meetingId: exampleMeetingId,
    actor: programmeOffice,
    occurredAt: '2023-11-23T16:40:00+01:00',
  },
});

export const linkCreated = defineEvent({
  subject: 'deal_tracking.link.created',
  version: 1,
  description: 'A cross-link (dwarsverband) between two deals was recorded, often found at a meeting.',
  data: z
    .object({
      ...dealContentShape,
      linkId: idSchema,
      otherDealId: idSchema,
      note: z.string().min(1).max(2000).nullable(),
      meetingId: idSchema.nullable(),
    })
    .superRefine((value, ctx) => {
      if (value.otherDealId === value.dealId) {
        ctx.addIssue({ code: 'custom', path: ['otherDealId'], message: 'a deal cannot be linked to itself' });
      }
    }),
  example: {
    dealId: exampleDealIds.slimmeStad,
    version: 15,
    linkId: '01936a50-4e5f-7061-9273-8495a6b7c8d9',
    otherDealId: dynamischeBinnensteden.dealId,
    note: 'De toolbox van Slimme Stad helpt bij datagedreven regie op de transformatie van binnensteden.',
    meetingId: exampleMeetingId,
    actor: programmeOffice,
    occurredAt: '2023-11-23T16:55:00+01:00',
  },
});

export const dealTrackingEvents = Object.freeze({
  dealCreated,
  dealUpdated,
  dealPhaseChanged,
  dealTermExtended,
  dealTrancheStarted,
  partnerJoined,
  partnerLeft,
  resultRecorded,
  lessonRecorded,
  linkCreated,
});

export type DealCreatedEvent = EventOf<typeof dealCreated>;
export type DealUpdatedEvent = EventOf<typeof dealUpdated>;
export type DealPhaseChangedEvent = EventOf<typeof dealPhaseChanged>;
export type DealTermExtendedEvent = EventOf<typeof dealTermExtended>;
export type DealTrancheStartedEvent = EventOf<typeof dealTrancheStarted>;
export type PartnerJoinedEvent = EventOf<typeof partnerJoined>;
export type PartnerLeftEvent = EventOf<typeof partnerLeft>;
export type ResultRecordedEvent = EventOf<typeof resultRecorded>;
export type LessonRecordedEvent = EventOf<typeof lessonRecorded>;
export type LinkCreatedEvent = EventOf<typeof linkCreated>;
