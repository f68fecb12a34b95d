import { HttpProblem, problems } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import type { ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { hashManageToken } from '../manage-links/manage-token.ts';
import { findMeeting } from '../meetings/meeting.repository.ts';
import { findRegistrationByTokenHash, lockRegistration } from '../registrations/registration.repository.ts';
import {
  answeredState,
  answersOf,
  answersOfMeeting,
  bumpQuestionsVersion,
  countQuestions,
  deleteAnswersTo,
  insertQuestion,
  listQuestions,
  listQuestionsWithCounts,
  lockQuestion,
  type QuestionRow,
  replaceAnswers,
  updateQuestion,
} from './question.repository.ts';
import {
  type AnswerValue,
  answerText,
  checkAnswers,
  decideChange,
  definitionIssues,
  type Issue,
  MAX_QUESTIONS,
  type Question,
} from './question.rules.ts';
import type { ChangeQuestionInput, NewQuestionInput } from './question.schemas.ts';

export interface QuestionView extends Question {
  position: number;
}

export function toQuestion(row: QuestionRow): QuestionView {
  return {
    id: row.id,
    position: row.position,
    kind: row.kind,
    required: row.required,
    label: row.label,
    choices: row.choices,
  };
}

const invalid = (prefix: string, issues: Issue[]) =>
  problems.validation(issues.map((i) => ({ field: `${prefix}.${i.field}`, message: i.message })));

function withChoiceIds(
  ctx: Pick<ServiceContext, 'newId'>,
  choices: { id?: string | undefined; label: Question['label'] }[],
) {
  return choices.map((c) => ({ id: c.id ?? ctx.newId(), label: c.label }));
}

async function meetingOr404(ctx: ServiceContext, meetingId: string) {
  const meeting = await findMeeting(ctx.db, meetingId);
  if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
  return meeting;
}

export async function listAdminQuestions(ctx: ServiceContext, meetingId: string) {
  await meetingOr404(ctx, meetingId);
  const rows = await listQuestionsWithCounts(ctx.db, meetingId);
  return { items: rows.map((r) => ({ ...toQuestion(r), answers: r.answers ?? 0 })) };
}

/** Questions are added under the meeting lock, so two at once cannot both be the twenty-first. */
export async function addQuestion(
  ctx: ServiceContext,
  meetingId: string,
  input: NewQuestionInput,
): Promise<QuestionView> {
  const choices = withChoiceIds(ctx, input.choices);
  const issues = definitionIssues({ kind: input.kind, choices });
  if (issues.length > 0) throw invalid('body', issues);
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await bumpQuestionsVersion(trx, meetingId))) throw problems.notFound(`meeting ${meetingId}`);
    const { n, last } = await countQuestions(trx, meetingId);
    if (n >= MAX_QUESTIONS)
      throw problems.conflict(`a meeting asks at most ${MAX_QUESTIONS} questions`, {
        errors: [{ field: 'params.id', message: `has ${MAX_QUESTIONS} questions already` }],
      });
    const now = ctx.clock.now();
    const row = {
      id: ctx.newId(),
      meeting_id: meetingId,
      position: input.position ?? (last === null ? 0 : last + 1),
      kind: input.kind,
      required: input.required,
      label: JSON.stringify(input.label),
      choices: JSON.stringify(choices),
      created_at: now,
      updated_at: now,
    };
    await insertQuestion(trx, row);
    return { ...toQuestion({ ...row, label: input.label, choices, removed_at: null }) };
  });
}

const questionNotFound = (questionId: string) => problems.notFound(`question ${questionId} of this meeting`);

/** See `decideChange` for what may change once a question is answered. */
export async function changeQuestion(
  ctx: ServiceContext,
  meetingId: string,
  questionId: string,
  input: ChangeQuestionInput,
): Promise<QuestionView> {
  return ctx.db.transaction().execute(async (trx) => {
    await bumpQuestionsVersion(trx, meetingId);
    const current = await lockQuestion(trx, meetingId, questionId);
    if (!current) throw questionNotFound(questionId);
    const kind = input.kind ?? current.kind;
    const choices = input.choices ? withChoiceIds(ctx, input.choices) : current.choices;
    const issues = definitionIssues({ kind, choices });
    if (issues.length > 0) throw invalid('body', issues);
    const answered = await answeredState(trx, questionId);
    const decision = decideChange(
      current,
      { kind, choices },
      { answers: answered.answers, chosen: new Set(answered.chosen) },
    );
    if (!decision.ok)
      throw new HttpProblem(409, 'question-answered', 'Question answered already', decision.reason, {
        errors: [{ field: `body.${decision.field}`, message: decision.reason }],
      });
    const row = await updateQuestion(trx, questionId, {
      kind,
      choices: JSON.stringify(choices),
      ...(input.required === undefined ? {} : { required: input.required }),
      ...(input.label ? { label: JSON.stringify(input.label) } : {}),
      ...(input.position === undefined ? {} : { position: input.position }),
      updated_at: ctx.clock.now(),
    });
    return toQuestion(row);
  });
}

/**
 * Removal hides the question from the form, the manage page and the export, and deletes every answer to
 * it in the same transaction: nothing stays that nobody can see. The row stays, so its id is never reused.
 */
export async function removeQuestion(
  ctx: ServiceContext,
  meetingId: string,
  questionId: string,
): Promise<{ removed: true; answersDeleted: number }> {
  return ctx.db.transaction().execute(async (trx) => {
    await bumpQuestionsVersion(trx, meetingId);
    const current = await lockQuestion(trx, meetingId, questionId);
    if (!current) throw questionNotFound(questionId);
    const now = ctx.clock.now();
    await updateQuestion(trx, questionId, { removed_at: now, updated_at: now });
    return { removed: true as const, answersDeleted: await deleteAnswersTo(trx, questionId) };
  });
}

/** The questions of a published meeting, for forms and integrations. */
export async function publicQuestions(ctx: ServiceContext, meetingId: string): Promise<QuestionView[]> {
  const meeting = await meetingOr404(ctx, meetingId);
  if (meeting.published_at === null) throw problems.notFound(`meeting ${meetingId}`);
  return (await listQuestions(ctx.db, meetingId)).map(toQuestion);
}

export async function questionsOf(db: Kysely<Database>, meetingId: string): Promise<QuestionView[]> {
  return (await listQuestions(db, meetingId)).map(toQuestion);
}

/** The answers of a new registration as kept, or a 400 naming each wrong answer (`body.answers.<id>`). */
export function checkRegistrationAnswers(
  questions: readonly QuestionView[],
  given: Record<string, unknown>,
): Record<string, AnswerValue> {
  const check = checkAnswers(questions, given);
  if (!check.ok) throw invalid('body', check.issues);
  return check.answers;
}

async function ownRegistration(ctx: ServiceContext, token: string) {
  const row = await findRegistrationByTokenHash(ctx.db, hashManageToken(token));
  if (!row) throw problems.notFound('a registration with this link');
  return row;
}

export interface OwnAnswers {
  questions: (QuestionView & { answer: AnswerValue | null })[];
}

export async function viewOwnAnswers(ctx: ServiceContext, token: string): Promise<OwnAnswers> {
  const row = await ownRegistration(ctx, token);
  const [questions, answers] = await Promise.all([
    questionsOf(ctx.db, row.meeting_id),
    answersOf(ctx.db, row.id),
  ]);
  return { questions: questions.map((q) => ({ ...q, answer: answers[q.id] ?? null })) };
}

/**
 * Replaces the person's answers with the ones given, checked like at registration. No event: answers are
 * personal data that stays in this service.
 */
export async function changeOwnAnswers(
  ctx: ServiceContext,
  token: string,
  given: Record<string, unknown>,
): Promise<OwnAnswers> {
  const found = await ownRegistration(ctx, token);
  const answers = checkRegistrationAnswers(await questionsOf(ctx.db, found.meeting_id), given);
  await ctx.db.transaction().execute(async (trx) => {
    const row = (await lockRegistration(trx, found.id))!;
    if (row.status === 'cancelled' || row.erased_at) {
      throw new HttpProblem(
        409,
        'invalid-status',
        'Not possible in this status',
        'a cancelled registration cannot be changed',
      );
    }
    await replaceAnswers(trx, row.id, answers);
  });
  return viewOwnAnswers(ctx, token);
}

/**
 * The export's columns for the questions: one per question, headed by its Dutch label, each cell the
 * answer as the office reads it (choice labels, ja/nee).
 */
export async function answerColumns(db: Kysely<Database>, meetingId: string) {
  const [questions, answers] = await Promise.all([
    questionsOf(db, meetingId),
    answersOfMeeting(db, meetingId),
  ]);
  return {
    header: questions.map((q) => q.label.nl),
    cells: (registrationId: string) => {
      const given = answers.get(registrationId) ?? {};
      return questions.map((q) => {
        const value = given[q.id];
        return value === undefined ? null : answerText(q, value, 'nl');
      });
    },
  };
}
