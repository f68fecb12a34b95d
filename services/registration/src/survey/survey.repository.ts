import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { AnswerRow } from './survey.rules.ts';

/** Records the round; false when the meeting's survey was sent already (by the sweep or the office). */
export async function startRound(trx: Transaction<Database>, meetingId: string, now: Date): Promise<boolean> {
  const row = await trx
    .insertInto('survey_round')
    .values({ meeting_id: meetingId, sent_at: now })
    .onConflict((oc) => oc.column('meeting_id').doNothing())
    .returning('meeting_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** The meeting's registrations, locked, with what deciding on the survey needs. */
export function lockRegistrationsOf(trx: Transaction<Database>, meetingId: string) {
  return trx
    .selectFrom('registration')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'checked_in')
    .orderBy('seq')
    .forUpdate()
    .execute();
}

export async function insertInvitation(
  trx: Transaction<Database>,
  row: { registration_id: string; meeting_id: string; token_hash: string; expires_at: Date },
): Promise<void> {
  await trx.insertInto('survey_invitation').values(row).execute();
}

/** Meetings whose survey is due and not sent: ended within the window, published. */
export function meetingsWithSurveyDue(db: Kysely<Database>, now: Date, since: Date) {
  return db
    .selectFrom('meeting as m')
    .leftJoin('survey_round as s', 's.meeting_id', 'm.id')
    .select('m.id')
    .where('m.status', '=', 'published')
    .where('m.ends_at', '<=', now)
    .where('m.ends_at', '>', since)
    .where('s.meeting_id', 'is', null)
    .execute();
}

export function findInvitation(db: Kysely<Database>, tokenHash: string) {
  return db
    .selectFrom('survey_invitation as i')
    .innerJoin('meeting as m', 'm.id', 'i.meeting_id')
    .select(['i.registration_id', 'i.meeting_id', 'i.expires_at', 'i.answered', 'm.title', 'm.language'])
    .where('i.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Uses the link once: true when it was open and is now answered. */
export async function useInvitation(
  trx: Transaction<Database>,
  tokenHash: string,
  now: Date,
): Promise<{ registration_id: string; meeting_id: string } | undefined> {
  return trx
    .updateTable('survey_invitation')
    .set({ answered: true })
    .where('token_hash', '=', tokenHash)
    .where('answered', '=', false)
    .where('expires_at', '>', now)
    .returning(['registration_id', 'meeting_id'])
    .executeTakeFirst();
}

export async function insertAnswer(trx: Transaction<Database>, row: AnswerRow): Promise<void> {
  await trx.insertInto('survey_answer').values(row).execute();
}

export async function invitationCounts(db: Kysely<Database>, meetingId: string) {
  const row = await db
    .selectFrom('survey_invitation')
    .select([
      sql<number>`count(*)::int`.as('invited'),
      sql<number>`count(*) filter (where answered)::int`.as('answered'),
    ])
    .where('meeting_id', '=', meetingId)
    .executeTakeFirstOrThrow();
  return row;
}

export function listAnswers(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('survey_answer')
    .select([
      'respondent_name',
      'language',
      'rating',
      'most_useful',
      'suggestions',
      sql<string>`answered_on::text`.as('answered_on'),
    ])
    .where('meeting_id', '=', meetingId)
    .orderBy('answered_on')
    .orderBy('rating', 'desc')
    .orderBy('id')
    .execute();
}

/** Erasure: the person's named answers and their survey link go. */
export async function eraseSurveyOf(trx: Transaction<Database>, registrationId: string): Promise<void> {
  await trx.deleteFrom('survey_answer').where('registration_id', '=', registrationId).execute();
  await trx.deleteFrom('survey_invitation').where('registration_id', '=', registrationId).execute();
}
