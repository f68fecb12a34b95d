/**
 * Pure rules of the feedback survey after a meeting: who is asked, how long a link works, what an answer
 * keeps (a name only when the person gives it), and the summary per meeting. No I/O; clock and ids passed in.
 */

/** How long a survey link works after the survey is sent. */
export const SURVEY_OPEN_MS = 14 * 24 * 3600 * 1000;

/** The sweep sends the survey of meetings that ended within this window (not of every old meeting at once). */
export const SURVEY_LOOKBACK_MS = 7 * 24 * 3600 * 1000;

/**
 * Asked: attendees checked in at the door, whose data is still there. Not those merely confirmed: without a
 * check-in nobody knows they came, and answers about a meeting should come from people who were there.
 */
export function isSurveyed(registration: { status: string; erasedAt: Date | null }): boolean {
  return registration.status === 'checked_in' && registration.erasedAt === null;
}

/** The office may send the survey once the meeting has started (for the drinks); the sweep after its end. */
export function maySendSurvey(meeting: { status: string; startsAt: Date }, now: Date): boolean {
  return meeting.status === 'published' && now.getTime() >= meeting.startsAt.getTime();
}

export function surveyDue(meeting: { status: string; endsAt: Date }, now: Date): boolean {
  const ended = now.getTime() - meeting.endsAt.getTime();
  return meeting.status === 'published' && ended >= 0 && ended < SURVEY_LOOKBACK_MS;
}

export interface SurveyInput {
  rating: number;
  mostUseful: string | null;
  suggestions: string | null;
  giveName: boolean;
  language: 'nl' | 'en';
}

export interface AnswerRow {
  id: string;
  meeting_id: string;
  registration_id: string | null;
  respondent_name: string | null;
  language: 'nl' | 'en';
  rating: number;
  most_useful: string | null;
  suggestions: string | null;
  answered_on: string;
}

/**
 * The answer as it is kept. Anonymous: no registration, no name, a random id (not time-ordered) and only
 * the day, so that nothing links it to the invitation it came from. Named: the registration and the name
 * the person has, so the answer can go when the person is erased.
 */
export function answerRow(
  input: SurveyInput,
  respondent: { registrationId: string; meetingId: string; name: string | null },
  ids: { timeOrdered: () => string; random: () => string },
  now: Date,
): AnswerRow {
  const named = input.giveName && respondent.name !== null;
  return {
    id: named ? ids.timeOrdered() : ids.random(),
    meeting_id: respondent.meetingId,
    registration_id: named ? respondent.registrationId : null,
    respondent_name: named ? respondent.name : null,
    language: input.language,
    rating: input.rating,
    most_useful: input.mostUseful,
    suggestions: input.suggestions,
    answered_on: now.toISOString().slice(0, 10),
  };
}

export interface SurveySummary {
  answered: number;
  averageRating: number | null;
  ratings: Record<'1' | '2' | '3' | '4' | '5', number>;
}

export function summarise(ratings: readonly number[]): SurveySummary {
  const counts = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 };
  for (const r of ratings) counts[String(r) as keyof typeof counts] += 1;
  const average =
    ratings.length === 0
      ? null
      : Math.round((ratings.reduce((a, b) => a + b, 0) / ratings.length) * 100) / 100;
  return { answered: ratings.length, averageRating: average, ratings: counts };
}
