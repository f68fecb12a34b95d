import { randomUUID } from 'node:crypto';
import { attendeeSurveyRequested } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem, problems } from '@citydeals/service-kit';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import { hashManageToken, manageUrlWithoutToken, newManageToken } from '../manage-links/manage-token.ts';
import { lockMeeting } from '../meetings/meeting.repository.ts';
import { updateRegistration } from '../registrations/registration.repository.ts';
import { toCsv } from '../reports/csv.rules.ts';
import {
  findInvitation,
  insertAnswer,
  insertInvitation,
  invitationCounts,
  listAnswers,
  lockRegistrationsOf,
  meetingsWithSurveyDue,
  startRound,
  useInvitation,
} from './survey.repository.ts';
import {
  answerRow,
  isSurveyed,
  maySendSurvey,
  SURVEY_LOOKBACK_MS,
  SURVEY_OPEN_MS,
  type SurveyInput,
  type SurveySummary,
  summarise,
} from './survey.rules.ts';

export const SURVEY_PATH = '/evaluatie';

/**
 * Sends a meeting's survey once: every attendee checked in gets a single-use link (kept as a hash) by
 * the event registration.attendee.survey_requested, which the notification service mails. Round,
 * links and events are one transaction, so a round is sent whole or not at all, and only once.
 */
export async function sendSurvey(
  ctx: ServiceContext,
  meetingId: string,
): Promise<{ invited: number; alreadySent: boolean }> {
  return ctx.db.transaction().execute(async (trx) => {
    const meeting = await lockMeeting(trx, meetingId);
    if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
    const now = ctx.clock.now();
    if (!maySendSurvey({ status: meeting.status, startsAt: meeting.starts_at }, now)) {
      throw new HttpProblem(
        409,
        'survey-not-yet',
        'Survey not possible yet',
        'a survey can be sent once a published meeting has started',
      );
    }
    if (!(await startRound(trx, meetingId, now))) return { invited: 0, alreadySent: true };
    const expiresAt = new Date(now.getTime() + SURVEY_OPEN_MS);
    const invited = (await lockRegistrationsOf(trx, meetingId)).filter((r) =>
      isSurveyed({ status: r.status, erasedAt: r.erased_at }),
    );
    for (const registration of invited) {
      const token = newManageToken();
      await insertInvitation(trx, {
        registration_id: registration.id,
        meeting_id: meetingId,
        token_hash: hashManageToken(token),
        expires_at: expiresAt,
      });
      const row = await updateRegistration(trx, registration.id, {
        version: registration.version + 1,
        updated_at: now,
      });
      await enqueueEvent(trx, attendeeSurveyRequested, {
        id: ctx.newId(),
        time: now,
        source: EVENT_SOURCE,
        subject: row.id,
        data: {
          registrationId: row.id,
          meetingId,
          version: row.version,
          status: 'checked_in',
          name: row.name!,
          email: row.email!,
          language: row.language,
          position: null,
          dealId: row.deal_id,
          manageUrl: manageUrlWithoutToken(ctx.publicBaseUrl),
          surveyUrl: `${ctx.publicBaseUrl}${SURVEY_PATH}/${token}`,
          expiresAt: expiresAt.toISOString(),
        },
      });
    }
    return { invited: invited.length, alreadySent: false };
  });
}

/** Sends the survey of every meeting that ended lately and has none yet; returns how many were sent. */
export async function sweepSurveys(ctx: ServiceContext): Promise<number> {
  const now = ctx.clock.now();
  const due = await meetingsWithSurveyDue(ctx.db, now, new Date(now.getTime() - SURVEY_LOOKBACK_MS));
  let sent = 0;
  for (const { id } of due) if (!(await sendSurvey(ctx, id)).alreadySent) sent += 1;
  return sent;
}

export const surveyProblems = {
  unknown: () =>
    new HttpProblem(404, 'survey-link-unknown', 'Unknown survey link', 'this survey link is not known'),
  answered: () =>
    new HttpProblem(
      409,
      'survey-answered',
      'Survey answered already',
      'this survey was answered with this link already; thank you',
    ),
  expired: () =>
    new HttpProblem(410, 'survey-closed', 'Survey closed', 'this survey has closed; thank you all the same'),
};

/** What a survey link opens: the meeting's title and whether it can still be answered. */
export async function openSurvey(ctx: ServiceContext, token: string) {
  const found = await findInvitation(ctx.db, hashManageToken(token));
  if (!found) throw surveyProblems.unknown();
  if (found.answered) throw surveyProblems.answered();
  if (found.expires_at.getTime() <= ctx.clock.now().getTime()) throw surveyProblems.expired();
  return { meetingTitle: found.title, language: found.language };
}

/** One answer per link. The name is the one the registration has, and only when the person chose so. */
export async function answerSurvey(ctx: ServiceContext, token: string, input: SurveyInput): Promise<void> {
  const tokenHash = hashManageToken(token);
  const done = await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.clock.now();
    const used = await useInvitation(trx, tokenHash, now);
    if (!used) return false;
    const name = input.giveName
      ? ((
          await trx
            .selectFrom('registration')
            .select('name')
            .where('id', '=', used.registration_id)
            .executeTakeFirst()
        )?.name ?? null)
      : null;
    await insertAnswer(
      trx,
      answerRow(
        input,
        { registrationId: used.registration_id, meetingId: used.meeting_id, name },
        { timeOrdered: ctx.newId, random: randomUUID },
        now,
      ),
    );
    return true;
  });
  if (!done) await openSurvey(ctx, token);
}

export interface SurveyResults extends SurveySummary {
  meetingId: string;
  invited: number;
  answers: {
    rating: number;
    mostUseful: string | null;
    suggestions: string | null;
    name: string | null;
    language: 'nl' | 'en';
    answeredOn: string;
  }[];
}

export async function surveyResults(ctx: ServiceContext, meetingId: string): Promise<SurveyResults> {
  const meeting = await ctx.db
    .selectFrom('meeting')
    .select('id')
    .where('id', '=', meetingId)
    .executeTakeFirst();
  if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
  const [counts, rows] = await Promise.all([
    invitationCounts(ctx.db, meetingId),
    listAnswers(ctx.db, meetingId),
  ]);
  return {
    meetingId,
    invited: counts.invited,
    ...summarise(rows.map((r) => r.rating)),
    answers: rows.map((r) => ({
      rating: r.rating,
      mostUseful: r.most_useful,
      suggestions: r.suggestions,
      name: r.respondent_name,
      language: r.language,
      answeredOn: r.answered_on,
    })),
  };
}

export async function surveyCsv(ctx: ServiceContext, meetingId: string): Promise<string> {
  const results = await surveyResults(ctx, meetingId);
  return toCsv(
    ['Datum', 'Cijfer (1-5)', 'Het nuttigst', 'Suggesties', 'Naam', 'Taal'],
    results.answers.map((a) => [a.answeredOn, a.rating, a.mostUseful, a.suggestions, a.name, a.language]),
  );
}
