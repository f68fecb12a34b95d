import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database, MeetingQuestionTable } from '../db/database.ts';
import type { AnswerValue } from './question.rules.ts';

export type QuestionRow = Selectable<MeetingQuestionTable>;

/** The questions a meeting asks now, in form order. */
export function listQuestions(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('meeting_question')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('removed_at', 'is', null)
    .orderBy('position')
    .orderBy('id')
    .execute();
}

/** The questions with how many registrations answered each. */
export function listQuestionsWithCounts(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('meeting_question as q')
    .selectAll('q')
    .select((eb) =>
      eb
        .selectFrom('registration_answer as a')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('a.question_id', '=', 'q.id')
        .as('answers'),
    )
    .where('q.meeting_id', '=', meetingId)
    .where('q.removed_at', 'is', null)
    .orderBy('q.position')
    .orderBy('q.id')
    .execute();
}

export function lockQuestion(trx: Transaction<Database>, meetingId: string, questionId: string) {
  return trx
    .selectFrom('meeting_question')
    .selectAll()
    .where('id', '=', questionId)
    .where('meeting_id', '=', meetingId)
    .where('removed_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

export async function countQuestions(trx: Transaction<Database>, meetingId: string) {
  const row = await trx
    .selectFrom('meeting_question')
    .select([sql<number>`count(*)::int`.as('n'), sql<number | null>`max(position)`.as('last')])
    .where('meeting_id', '=', meetingId)
    .where('removed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return row;
}

export async function insertQuestion(
  trx: Transaction<Database>,
  row: Omit<QuestionRow, 'label' | 'choices' | 'removed_at'> & { label: string; choices: string },
): Promise<void> {
  await trx.insertInto('meeting_question').values(row).execute();
}

export function updateQuestion(
  trx: Transaction<Database>,
  id: string,
  patch: Partial<{
    position: number;
    kind: QuestionRow['kind'];
    required: boolean;
    label: string;
    choices: string;
    updated_at: Date;
    removed_at: Date;
  }>,
) {
  return trx
    .updateTable('meeting_question')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** How many answered the question and which choices they took. */
export async function answeredState(trx: Transaction<Database>, questionId: string) {
  const { rows } = await sql<{ answers: number; chosen: string[] }>`
    select count(distinct a.registration_id)::int as answers,
      coalesce(array_agg(distinct c.id) filter (where c.id is not null), '{}') as chosen
    from registration_answer a
    left join lateral jsonb_array_elements_text(case jsonb_typeof(a.value)
      when 'array' then a.value when 'string' then jsonb_build_array(a.value) else '[]'::jsonb end) as c(id)
      on true
    where a.question_id = ${questionId}`.execute(trx);
  return rows[0]!;
}

export async function deleteAnswersTo(trx: Transaction<Database>, questionId: string): Promise<number> {
  const result = await trx.deleteFrom('registration_answer').where('question_id', '=', questionId).execute();
  return Number(result[0]?.numDeletedRows ?? 0);
}

/** One registration's answers, by question id. */
export async function answersOf(
  db: Kysely<Database>,
  registrationId: string,
): Promise<Record<string, AnswerValue>> {
  const rows = await db
    .selectFrom('registration_answer')
    .select(['question_id', 'value'])
    .where('registration_id', '=', registrationId)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.question_id, r.value]));
}

/** Every answer given for a meeting, by registration and question (for the attendee export). */
export async function answersOfMeeting(db: Kysely<Database>, meetingId: string) {
  const rows = await db
    .selectFrom('registration_answer as a')
    .innerJoin('registration as r', 'r.id', 'a.registration_id')
    .select(['a.registration_id', 'a.question_id', 'a.value'])
    .where('r.meeting_id', '=', meetingId)
    .execute();
  const byRegistration = new Map<string, Record<string, AnswerValue>>();
  for (const r of rows) {
    const answers = byRegistration.get(r.registration_id) ?? {};
    answers[r.question_id] = r.value;
    byRegistration.set(r.registration_id, answers);
  }
  return byRegistration;
}

/** Replaces a registration's answers with these. */
export async function replaceAnswers(
  trx: Transaction<Database>,
  registrationId: string,
  answers: Record<string, AnswerValue>,
): Promise<void> {
  await trx.deleteFrom('registration_answer').where('registration_id', '=', registrationId).execute();
  const rows = Object.entries(answers).map(([question_id, value]) => ({
    registration_id: registrationId,
    question_id,
    value: JSON.stringify(value),
  }));
  if (rows.length > 0) await trx.insertInto('registration_answer').values(rows).execute();
}

/** Erasure: the person's answers go with the rest of their data. */
export async function eraseAnswersOf(trx: Transaction<Database>, registrationId: string): Promise<void> {
  await trx.deleteFrom('registration_answer').where('registration_id', '=', registrationId).execute();
}

/**
 * Moves the meeting's questions version, locking the meeting row: a registration checked against the
 * questions before is then not written (seat.repository.ts) and reads them again. Taken before any question
 * row, in the order a registration takes them (the meeting, then its answers' questions).
 */
export async function bumpQuestionsVersion(trx: Transaction<Database>, meetingId: string): Promise<boolean> {
  const row = await trx
    .updateTable('meeting')
    .set((eb) => ({ questions_version: eb('questions_version', '+', 1) }))
    .where('id', '=', meetingId)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
