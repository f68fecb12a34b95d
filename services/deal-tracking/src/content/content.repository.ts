import type { DealRole, LessonKind, PartnerType } from '@citydeals/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { isoDate } from '../deals/deal.repository.ts';

export interface PersonRecord {
  id: string;
  name: string;
  role: DealRole;
  email: string;
  addedAt: Date;
}
export interface PartnerRecord {
  id: string;
  name: string;
  type: PartnerType;
  joinedOn: string;
  leftOn: string | null;
  leftReason: string | null;
}
export interface ResultRecord {
  id: string;
  title: string;
  description: string | null;
  achievedOn: string | null;
  recordedAt: Date;
}
export interface LessonRecord {
  id: string;
  kind: LessonKind;
  text: string;
  meetingId: string | null;
  recordedAt: Date;
}
export interface LinkRecord {
  id: string;
  /** The deal at the other end, seen from the deal being read (links show on both deals). */
  otherDealId: string;
  otherDealName: string;
  otherDealSlug: string;
  recordedOnDealId: string;
  note: string | null;
  meetingId: string | null;
  recordedAt: Date;
}
export interface ExtensionRecord {
  id: string;
  previousTermEndsOn: string | null;
  termEndsOn: string;
  reason: string;
  recordedAt: Date;
}
export interface TrancheRecord {
  id: string;
  tranche: number;
  startsOn: string;
  note: string | null;
  recordedAt: Date;
}

export async function insertPerson(trx: Transaction<Database>, dealId: string, person: PersonRecord) {
  await trx
    .insertInto('deal_person')
    .values({
      id: person.id,
      deal_id: dealId,
      name: person.name,
      role: person.role,
      email: person.email,
      added_at: person.addedAt,
    })
    .execute();
}

export async function deletePerson(
  trx: Transaction<Database>,
  dealId: string,
  personId: string,
): Promise<boolean> {
  const result = await trx
    .deleteFrom('deal_person')
    .where('deal_id', '=', dealId)
    .where('id', '=', personId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function insertPartner(trx: Transaction<Database>, dealId: string, partner: PartnerRecord) {
  await trx
    .insertInto('deal_partner')
    .values({
      id: partner.id,
      deal_id: dealId,
      name: partner.name,
      type: partner.type,
      joined_on: partner.joinedOn,
      left_on: null,
      left_reason: null,
    })
    .execute();
}

export async function findPartner(
  trx: Transaction<Database>,
  dealId: string,
  partnerId: string,
): Promise<PartnerRecord | undefined> {
  return partnerQuery(trx).where('deal_id', '=', dealId).where('id', '=', partnerId).executeTakeFirst();
}

export async function markPartnerLeft(
  trx: Transaction<Database>,
  partnerId: string,
  leftOn: string,
  reason: string | null,
) {
  await trx
    .updateTable('deal_partner')
    .set({ left_on: leftOn, left_reason: reason })
    .where('id', '=', partnerId)
    .execute();
}

export async function insertResult(trx: Transaction<Database>, dealId: string, result: ResultRecord) {
  await trx
    .insertInto('deal_result')
    .values({
      id: result.id,
      deal_id: dealId,
      title: result.title,
      description: result.description,
      achieved_on: result.achievedOn,
      recorded_at: result.recordedAt,
    })
    .execute();
}

export async function insertLesson(trx: Transaction<Database>, dealId: string, lesson: LessonRecord) {
  await trx
    .insertInto('deal_lesson')
    .values({
      id: lesson.id,
      deal_id: dealId,
      kind: lesson.kind,
      text: lesson.text,
      meeting_id: lesson.meetingId,
      recorded_at: lesson.recordedAt,
    })
    .execute();
}

export async function insertLink(
  trx: Transaction<Database>,
  link: {
    id: string;
    dealId: string;
    otherDealId: string;
    note: string | null;
    meetingId: string | null;
    recordedAt: Date;
  },
) {
  await trx
    .insertInto('deal_link')
    .values({
      id: link.id,
      deal_id: link.dealId,
      other_deal_id: link.otherDealId,
      note: link.note,
      meeting_id: link.meetingId,
      recorded_at: link.recordedAt,
    })
    .execute();
}

export async function linkExists(trx: Transaction<Database>, a: string, b: string): Promise<boolean> {
  const row = await trx
    .selectFrom('deal_link')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('deal_id', '=', a), eb('other_deal_id', '=', b)]),
        eb.and([eb('deal_id', '=', b), eb('other_deal_id', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return row !== undefined;
}

function partnerQuery(db: Kysely<Database>) {
  return db
    .selectFrom('deal_partner')
    .select([
      'id',
      'name',
      'type',
      isoDate('joined_on').as('joinedOn'),
      isoDate('left_on').$castTo<string | null>().as('leftOn'),
      'left_reason as leftReason',
    ]);
}

export interface DealContent {
  people: PersonRecord[];
  partners: PartnerRecord[];
  results: ResultRecord[];
  lessons: LessonRecord[];
  links: LinkRecord[];
  extensions: ExtensionRecord[];
  tranches: TrancheRecord[];
}

/** Everything recorded on a deal, for its detail page; several small queries beat one wide join here. */
export async function dealContent(db: Kysely<Database>, dealId: string): Promise<DealContent> {
  const [people, partners, results, lessons, links, extensions, tranches] = await Promise.all([
    db
      .selectFrom('deal_person')
      .select(['id', 'name', 'role', 'email', 'added_at as addedAt'])
      .where('deal_id', '=', dealId)
      .orderBy('added_at')
      .orderBy('id')
      .execute(),
    partnerQuery(db).where('deal_id', '=', dealId).orderBy('joined_on').orderBy('name').execute(),
    db
      .selectFrom('deal_result')
      .select([
        'id',
        'title',
        'description',
        isoDate('achieved_on').$castTo<string | null>().as('achievedOn'),
        'recorded_at as recordedAt',
      ])
      .where('deal_id', '=', dealId)
      .orderBy('recorded_at')
      .orderBy('id')
      .execute(),
    db
      .selectFrom('deal_lesson')
      .select(['id', 'kind', 'text', 'meeting_id as meetingId', 'recorded_at as recordedAt'])
      .where('deal_id', '=', dealId)
      .orderBy('recorded_at')
      .orderBy('id')
      .execute(),
    db
      .selectFrom('deal_link as l')
      .innerJoin('deal as o', (j) =>
        j.on((eb) =>
          eb(
            'o.id',
            '=',
            eb
              .case()
              .when('l.deal_id', '=', dealId)
              .then(eb.ref('l.other_deal_id'))
              .else(eb.ref('l.deal_id'))
              .end(),
          ),
        ),
      )
      .select([
        'l.id',
        'o.id as otherDealId',
        'o.name as otherDealName',
        'o.slug as otherDealSlug',
        'l.deal_id as recordedOnDealId',
        'l.note',
        'l.meeting_id as meetingId',
        'l.recorded_at as recordedAt',
      ])
      .where((eb) => eb.or([eb('l.deal_id', '=', dealId), eb('l.other_deal_id', '=', dealId)]))
      .orderBy('l.recorded_at')
      .execute(),
    db
      .selectFrom('deal_extension')
      .select([
        'id',
        isoDate('previous_term_ends_on').$castTo<string | null>().as('previousTermEndsOn'),
        isoDate('term_ends_on').as('termEndsOn'),
        'reason',
        'recorded_at as recordedAt',
      ])
      .where('deal_id', '=', dealId)
      .orderBy('recorded_at')
      .execute(),
    db
      .selectFrom('deal_tranche')
      .select(['id', 'tranche', isoDate('starts_on').as('startsOn'), 'note', 'recorded_at as recordedAt'])
      .where('deal_id', '=', dealId)
      .orderBy('tranche')
      .execute(),
  ]);
  return { people, partners, results, lessons, links, extensions, tranches };
}
