import { attendeeSessionPlaceGranted } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import type { Transaction } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database, RegistrationStatusColumn } from '../db/database.ts';
import {
  adjustPlaceCounters,
  deleteChoices,
  listPlaceWaitlistHead,
  listSessions,
  lockSession,
  recordChoices,
  type SessionRow,
  setChoiceStatus,
} from './session.repository.ts';
import { choiceStatusFor, placeDelta, selectPlacePromotions } from './session.rules.ts';

/**
 * The places in sessions, kept as seats/ keeps the meeting's seats. Every function here runs in a
 * transaction that holds the meeting row lock (taken by seats/ or by session.service.ts before any
 * registration's), so the sessions' counters it reads are exact and places are decided one at a time:
 *
 * - choices made: `chooseSessions` (a seat holder gets a place or a waitlist place as `decidePlace` says,
 *   in one statement for a whole burst; one waiting for a seat keeps the choice as pending);
 * - a registration gets its seat: `takeEffect` decides its pending choices at the end of each queue;
 * - a registration leaves the meeting: `leaveAllSessions`; its places are given on by `settleSessions`;
 * - a place comes free (a choice given up, capacity raised): `settleSessions` / `promoteInSession`.
 */

export interface ChoiceDecision {
  registrationId: string;
  sessionId: string;
  status: 'placed' | 'waitlisted' | 'pending';
}

/** A registration's choices as seats/ and the manage page hand them over, with its meeting status. */
export interface ChoiceOf {
  id: string;
  meetingId: string;
  status: RegistrationStatusColumn;
  sessionIds: readonly string[];
}

/**
 * Records the choices of registrations in arrival order, in one statement (`recordChoices`, the place rule
 * as it runs): a seat holder's are decided, one waiting for a seat keeps them pending, others have none.
 * Sessions that are gone or of another meeting are skipped: they were checked before the lock was taken,
 * and a session removed since took its choices with it.
 */
export async function chooseSessions(
  trx: Transaction<Database>,
  registrations: readonly ChoiceOf[],
  now: Date,
): Promise<ChoiceDecision[]> {
  const requests = registrations.flatMap((r) => {
    const mode = choiceStatusFor(r.status);
    if (mode === 'none') return [];
    return [...new Set(r.sessionIds)].map((sessionId) => ({
      registrationId: r.id,
      meetingId: r.meetingId,
      sessionId,
      pending: mode === 'pending',
    }));
  });
  const rows = await recordChoices(trx, requests, now);
  return rows.map((row) => ({
    registrationId: row.registration_id,
    sessionId: row.session_id,
    status: row.status,
  }));
}

/**
 * A registration just got its meeting seat: each choice it kept while waiting now queues for its place,
 * after those already waiting for that session. A place it gets so is announced like any promotion.
 */
export async function takeEffect(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  registration: { id: string; meetingId: string },
): Promise<void> {
  const pending = await trx
    .deleteFrom('session_choice')
    .where('registration_id', '=', registration.id)
    .where('status', '=', 'pending')
    .returning('session_id')
    .execute();
  if (pending.length === 0) return;
  const now = ctx.clock.now();
  const decisions = await chooseSessions(
    trx,
    [{ ...registration, status: 'confirmed', sessionIds: pending.map((p) => p.session_id) }],
    now,
  );
  for (const d of decisions) {
    if (d.status !== 'placed') continue;
    const session = (await lockSession(trx, d.sessionId))!;
    await announcePlace(trx, ctx, registration.id, session, null);
  }
}

/**
 * Gives up every choice of a registration that no longer holds or waits for a seat. The places it held
 * are given on by the caller (`settleSessions`, through seats/' promotion), which has the context for it.
 */
export async function leaveAllSessions(trx: Transaction<Database>, registrationId: string): Promise<void> {
  const left = await deleteChoices(trx, registrationId);
  for (const choice of [...left].sort((a, b) => (a.session_id < b.session_id ? -1 : 1))) {
    await adjustPlaceCounters(trx, choice.session_id, placeDelta(choice.status, null));
  }
}

/** Who got a place in a session, with their waitlist position just before. */
export type PlacePromotion = { registrationId: string; previousPosition: number };

/** Fills the free places of one locked session from its waitlist, longest-waiting first. */
export async function promoteInSession(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  sessionId: string,
): Promise<PlacePromotion[]> {
  const session = await lockSession(trx, sessionId);
  if (!session || session.waitlist_length === 0 || session.places_taken >= session.capacity) return [];
  const waitlist = await listPlaceWaitlistHead(trx, sessionId, session.capacity - session.places_taken);
  const chosen = selectPlacePromotions({
    capacity: session.capacity,
    placesTaken: session.places_taken,
    waitlist,
  });
  await adjustPlaceCounters(trx, sessionId, { placesTaken: chosen.length, waitlistLength: -chosen.length });
  for (const { choice, previousPosition } of chosen) {
    await setChoiceStatus(trx, choice.registration_id, sessionId, 'placed');
    await announcePlace(trx, ctx, choice.registration_id, session, previousPosition);
  }
  return chosen.map((c) => ({
    registrationId: c.choice.registration_id,
    previousPosition: c.previousPosition,
  }));
}

/** Every session of the meeting with a free place and someone waiting gives the place on. */
export async function settleSessions(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  meetingId: string,
): Promise<void> {
  const sessions = await listSessions(trx, meetingId);
  for (const s of [...sessions].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (s.waitlist_length > 0 && s.places_taken < s.capacity) await promoteInSession(trx, ctx, s.id);
  }
}

async function announcePlace(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  registrationId: string,
  session: SessionRow,
  previousPosition: number | null,
): Promise<void> {
  await enqueueEvent(trx, attendeeSessionPlaceGranted, {
    id: ctx.newId(),
    time: ctx.clock.now(),
    source: EVENT_SOURCE,
    subject: registrationId,
    data: {
      registrationId,
      version: 1,
      meetingId: session.meeting_id,
      sessionId: session.id,
      sessionTitle: session.title,
      startsAt: session.starts_at.toISOString(),
      endsAt: session.ends_at.toISOString(),
      previousPosition,
    },
  });
}
