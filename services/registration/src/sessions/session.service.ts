import { HttpProblem, problems } from '@citydeals/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { hashManageToken } from '../manage-links/manage-token.ts';
import { findMeeting, lockMeeting, type MeetingRow } from '../meetings/meeting.repository.ts';
import { resolveInstant } from '../meetings/meeting.rules.ts';
import { findPublicMeetingRow, lockEditableMeeting } from '../meetings/meeting.service.ts';
import { findRegistrationByTokenHash, lockRegistration } from '../registrations/registration.repository.ts';
import {
  adjustPlaceCounters,
  deleteChoices,
  deleteSession,
  findSession,
  insertSession,
  listChoicesOf,
  listSessions,
  lockSession,
  type SessionRow,
  updateSession,
} from './session.repository.ts';
import { placeDelta, validateChoice, validateSessionTimes } from './session.rules.ts';
import type {
  AdminSession,
  ChangeSessionInput,
  CreateSessionInput,
  OwnSessions,
  PublicSession,
} from './session.schemas.ts';
import { chooseSessions, type PlacePromotion, promoteInSession } from './session-places.ts';

export function toPublicSession(row: SessionRow): PublicSession {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    capacity: row.capacity,
    placesAvailable: Math.max(0, row.capacity - row.places_taken),
    waitlistLength: row.waitlist_length,
  };
}

function toAdminSession(row: SessionRow): AdminSession {
  return { ...toPublicSession(row), meetingId: row.meeting_id, placesTaken: row.places_taken };
}

/** A meeting's sessions for its public page and API: only meetings the public may see. */
export async function listPublicSessions(ctx: ServiceContext, meetingRef: string): Promise<PublicSession[]> {
  const meeting = await findPublicMeetingRow(ctx, meetingRef);
  return (await listSessions(ctx.db, meeting.id)).map(toPublicSession);
}

/** The sessions of a meeting already found public, for its page. */
export async function publicSessionsOf(db: Kysely<Database>, meetingId: string): Promise<PublicSession[]> {
  return (await listSessions(db, meetingId)).map(toPublicSession);
}

export async function listAdminSessions(ctx: ServiceContext, meetingId: string): Promise<AdminSession[]> {
  if (!(await findMeeting(ctx.db, meetingId))) throw problems.notFound(`meeting ${meetingId}`);
  return (await listSessions(ctx.db, meetingId)).map(toAdminSession);
}

function timesOf(meeting: MeetingRow, input: { startsAt: string; endsAt: string }) {
  const times = {
    startsAt: resolveInstant(input.startsAt, meeting.time_zone),
    endsAt: resolveInstant(input.endsAt, meeting.time_zone),
  };
  const errors = validateSessionTimes(times, { startsAt: meeting.starts_at, endsAt: meeting.ends_at });
  if (errors.length > 0) throw problems.validation(errors);
  return times;
}

export async function createSession(
  ctx: ServiceContext,
  meetingId: string,
  input: CreateSessionInput,
): Promise<AdminSession> {
  const id = ctx.newId();
  await ctx.db.transaction().execute(async (trx) => {
    const meeting = await lockEditableMeeting(trx, meetingId);
    const times = timesOf(meeting, input);
    const now = ctx.clock.now();
    await insertSession(trx, {
      id,
      meeting_id: meetingId,
      title: input.title,
      description: input.description,
      starts_at: times.startsAt,
      ends_at: times.endsAt,
      capacity: input.capacity,
      created_at: now,
      updated_at: now,
    });
  });
  return toAdminSession((await findSession(ctx.db, meetingId, id))!);
}

/** A session a meeting being changed has: 404 when the meeting has no such session. */
async function lockOwnSession(trx: Transaction<Database>, meetingId: string, sessionId: string) {
  const session = await lockSession(trx, sessionId);
  if (!session || session.meeting_id !== meetingId) throw problems.notFound(`session ${sessionId}`);
  return session;
}

/** Places are given on only while the meeting is published and still to come, as seats are. */
function givesPlaces(meeting: MeetingRow, now: Date): boolean {
  return meeting.status === 'published' && now.getTime() < meeting.starts_at.getTime();
}

/**
 * Raising capacity promotes the longest-waiting at once; lowering it only stops new places, nobody placed
 * loses one. New times must stay within the meeting; choices made already stand.
 */
export async function changeSession(
  ctx: ServiceContext,
  meetingId: string,
  sessionId: string,
  input: ChangeSessionInput,
): Promise<{ session: AdminSession; promoted: PlacePromotion[] }> {
  const promoted = await ctx.db.transaction().execute(async (trx) => {
    const meeting = await lockEditableMeeting(trx, meetingId);
    const session = await lockOwnSession(trx, meetingId, sessionId);
    const times =
      input.startsAt !== undefined || input.endsAt !== undefined
        ? timesOf(meeting, {
            startsAt: input.startsAt ?? session.starts_at.toISOString(),
            endsAt: input.endsAt ?? session.ends_at.toISOString(),
          })
        : null;
    await updateSession(trx, sessionId, {
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(times ? { starts_at: times.startsAt, ends_at: times.endsAt } : {}),
      ...(input.capacity !== undefined ? { capacity: input.capacity } : {}),
      updated_at: ctx.clock.now(),
    });
    return givesPlaces(meeting, ctx.clock.now()) ? promoteInSession(trx, ctx, sessionId) : [];
  });
  return { session: toAdminSession((await findSession(ctx.db, meetingId, sessionId))!), promoted };
}

/** Removing a session removes every choice of it: there is no place left to hold or wait for. */
export async function removeSession(
  ctx: ServiceContext,
  meetingId: string,
  sessionId: string,
): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await lockEditableMeeting(trx, meetingId);
    await lockOwnSession(trx, meetingId, sessionId);
    await deleteSession(trx, sessionId);
  });
}

/**
 * What is wrong with choosing these sessions of the meeting, checked before any lock (a session removed
 * after this check is skipped when the choice is recorded). Throws the 400 naming `body.sessionIds`.
 */
export async function checkChosenSessions(
  db: Kysely<Database>,
  meetingId: string,
  sessionIds: readonly string[],
): Promise<void> {
  if (sessionIds.length === 0) return;
  const sessions = await listSessions(db, meetingId);
  const errors = validateChoice(
    sessionIds,
    sessions.map((s) => ({ id: s.id, startsAt: s.starts_at, endsAt: s.ends_at })),
  );
  if (errors.length > 0) throw problems.validation(errors);
}

async function ownRegistration(ctx: ServiceContext, token: string) {
  const row = await findRegistrationByTokenHash(ctx.db, hashManageToken(token));
  // One answer for unknown and erased tokens, so a guess learns nothing.
  if (!row) throw problems.notFound('a registration with this link');
  return row;
}

export async function viewOwnSessions(ctx: ServiceContext, token: string): Promise<OwnSessions> {
  const registration = await ownRegistration(ctx, token);
  const [sessions, choices] = await Promise.all([
    listSessions(ctx.db, registration.meeting_id),
    listChoicesOf(ctx.db, registration.id),
  ]);
  const bySession = new Map(choices.map((c) => [c.session_id, c]));
  return {
    sessions: sessions.map((s) => {
      const choice = bySession.get(s.id);
      return {
        ...toPublicSession(s),
        choice: choice?.status ?? null,
        position: choice?.status === 'waitlisted' ? choice.position : null,
      };
    }),
  };
}

const notChangeable = (detail: string) =>
  new HttpProblem(409, 'sessions-closed', 'Sessions cannot be changed', detail);

/**
 * Replaces the attendee's choice of sessions by `sessionIds`: sessions left out are given up (their places
 * go to the longest-waiting), new ones are decided as at registration. Meeting, registration and session
 * rows are locked in that order, the order of every other change of places.
 */
export async function changeOwnSessions(
  ctx: ServiceContext,
  token: string,
  sessionIds: readonly string[],
): Promise<OwnSessions> {
  const peek = await ownRegistration(ctx, token);
  await checkChosenSessions(ctx.db, peek.meeting_id, sessionIds);
  await ctx.db.transaction().execute(async (trx) => {
    const meeting = (await lockMeeting(trx, peek.meeting_id))!;
    const registration = await lockRegistration(trx, peek.id);
    if (!registration || registration.token_hash !== peek.token_hash) {
      throw problems.notFound('a registration with this link');
    }
    if (registration.status !== 'confirmed' && registration.status !== 'waitlisted') {
      throw notChangeable(`a ${registration.status} registration has no sessions to choose`);
    }
    const now = ctx.clock.now();
    if (!givesPlaces(meeting, now)) throw notChangeable('the meeting has started or is not open');
    const current = (await listChoicesOf(trx, registration.id)).map((c) => c.session_id);
    const wanted = new Set(sessionIds);
    const leaving = current.filter((id) => !wanted.has(id)).sort();
    const left = await deleteChoices(trx, registration.id, leaving);
    for (const choice of left) {
      await adjustPlaceCounters(trx, choice.session_id, placeDelta(choice.status, null));
      await promoteInSession(trx, ctx, choice.session_id);
    }
    const joining = [...wanted].filter((id) => !current.includes(id));
    await chooseSessions(
      trx,
      [
        {
          id: registration.id,
          meetingId: registration.meeting_id,
          status: registration.status,
          sessionIds: joining,
        },
      ],
      now,
    );
  });
  return viewOwnSessions(ctx, token);
}
