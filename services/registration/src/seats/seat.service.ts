import { attendeePromoted } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import type { Transaction, Updateable } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database, RegistrationTable } from '../db/database.ts';
import { manageUrlWithoutToken } from '../manage-links/manage-token.ts';
import { type MeetingRow, updateMeeting } from '../meetings/meeting.repository.ts';
import type { AdminMeeting } from '../meetings/meeting.schemas.ts';
import { getAdminMeeting, lockEditableMeeting, publishUpdated } from '../meetings/meeting.service.ts';
import { makeOffers } from '../offers/make-offers.ts';
import { countOpenOffers, listWaitingWithoutOffer, withdrawOpenOffer } from '../offers/offer.repository.ts';
import { seatsToOffer } from '../offers/offer.rules.ts';
import { choiceStatusFor } from '../sessions/session.rules.ts';
import { leaveAllSessions, settleSessions, takeEffect } from '../sessions/session-places.ts';
import { attendeeSnapshot } from './seat.events.ts';
import {
  adjustSeatCounters,
  lockedSeatCounters,
  type RegistrationRow,
  updateRegistrationRow,
} from './seat.repository.ts';
import { counterDelta, selectPromotions } from './seat.rules.ts';

/**
 * The seats module: everything that changes how many seats of a meeting are taken or how many people wait.
 *
 * - a new registration: `takeSeats` (seat.repository.ts, the rule in SQL), reached through the service's
 *   `SeatQueue` (seat-queue.ts, on the ServiceContext) with the events of seat.events.ts;
 * - any other status change of a registration: `changeSeat` here, which moves the counters with the row;
 * - a seat coming free: `promoteFromWaitlist` (at once, or as an offer: offers/); a capacity change:
 *   `changeCapacity`.
 *
 * All of them run under the meeting row lock (`lockMeeting`), taken before any registration's lock.
 */

/** Who was promoted, with their waitlist position just before. */
export type Promotion = { registrationId: string; previousPosition: number };

/**
 * Changes a registration and the meeting's seat counters with it. Callers hold the meeting lock, then the
 * registration's: every status change other than a new registration or a promotion goes through here, so
 * the counters follow the rows. A registration that leaves the waitlist leaves its open offer too, so an
 * offer always holds the seat of someone still waiting; the caller passes that seat on (promoteFromWaitlist).
 */
export async function changeSeat(
  trx: Transaction<Database>,
  registration: RegistrationRow,
  patch: Updateable<RegistrationTable>,
): Promise<RegistrationRow> {
  const row = await updateRegistrationRow(trx, registration.id, patch);
  await adjustSeatCounters(trx, row.meeting_id, counterDelta(registration.status, row.status));
  if (registration.status === 'waitlisted' && row.status !== 'waitlisted') {
    await withdrawOpenOffer(trx, row.id, row.updated_at);
  }
  // Leaving the meeting gives up its sessions; the places are given on where the seat is (promoteFromWaitlist).
  if (choiceStatusFor(registration.status) !== 'none' && choiceStatusFor(row.status) === 'none') {
    await leaveAllSessions(trx, row.id);
  }
  return row;
}

/**
 * A registration the office adds itself, confirmed at once (above capacity when it chose so): its seat is
 * counted like any other. The caller holds the meeting lock and has inserted the row.
 */
export async function countAdmittedSeat(trx: Transaction<Database>, meetingId: string): Promise<void> {
  await adjustSeatCounters(trx, meetingId, counterDelta(null, 'confirmed'));
}

/**
 * Fills free seats from the waitlist, longest-waiting first: at once, announcing each promotion, or, when the
 * meeting offers seats, by an offer to each (offers/make-offers.ts). A seat held by an open offer is not
 * free, and those holding an offer are not waiting for another. Must run in the transaction that holds the
 * meeting lock and made the seat free. Nobody is promoted once the meeting has started or when it is not
 * published: there is no seat to give any more.
 */
export async function promoteFromWaitlist(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  meeting: Pick<
    MeetingRow,
    'id' | 'status' | 'starts_at' | 'capacity' | 'waitlist_promotion' | 'offer_hours'
  >,
): Promise<Promotion[]> {
  const now = ctx.clock.now();
  if (meeting.status !== 'published' || now.getTime() >= meeting.starts_at.getTime()) return [];
  const promoted = await fillFreeSeats(trx, ctx, meeting, now);
  // A seat came free or capacity rose: the sessions' places that freed with it go on too.
  await settleSessions(trx, ctx, meeting.id);
  return promoted;
}

async function fillFreeSeats(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  meeting: Pick<MeetingRow, 'id' | 'starts_at' | 'capacity' | 'waitlist_promotion' | 'offer_hours'>,
  now: Date,
): Promise<Promotion[]> {
  const counters = await lockedSeatCounters(trx, meeting.id);
  if (counters.waitlistLength === 0 || counters.seatsTaken >= meeting.capacity) return [];
  const openOffers = await countOpenOffers(trx, meeting.id);
  const free = seatsToOffer({
    capacity: meeting.capacity,
    seatsTaken: counters.seatsTaken,
    openOffers,
    waitingWithoutOffer: counters.waitlistLength - openOffers,
  });
  if (free === 0) return [];
  const waitlist = await listWaitingWithoutOffer(trx, meeting.id, free);
  if (meeting.waitlist_promotion === 'offer') {
    await makeOffers(trx, ctx, meeting, waitlist);
    return [];
  }
  const chosen = selectPromotions({
    capacity: meeting.capacity - openOffers,
    seatsTaken: counters.seatsTaken,
    waitlist,
  });
  await adjustSeatCounters(trx, meeting.id, { seatsTaken: chosen.length, waitlistLength: -chosen.length });
  for (const { registration, previousPosition } of chosen) {
    await announcePromotion(trx, ctx, registration, previousPosition + openOffers, now);
  }
  return chosen.map((c) => ({
    registrationId: c.registration.id,
    previousPosition: c.previousPosition + openOffers,
  }));
}

/**
 * Confirms a waitlisted registration (the counters are the caller's) and announces it: the promoted mail,
 * whether the seat came at once or by an accepted offer. The sessions it chose while waiting queue for their
 * places now.
 */
export async function announcePromotion(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  registration: RegistrationRow,
  previousPosition: number,
  now: Date,
): Promise<RegistrationRow> {
  const row = await updateRegistrationRow(trx, registration.id, {
    status: 'confirmed',
    version: registration.version + 1,
    confirmed_at: now,
    updated_at: now,
  });
  await enqueueEvent(trx, attendeePromoted, {
    id: ctx.newId(),
    time: now,
    source: EVENT_SOURCE,
    subject: row.id,
    data: {
      ...attendeeSnapshot(row, manageUrlWithoutToken(ctx.publicBaseUrl)),
      status: 'confirmed',
      position: null,
      previousPosition,
    },
  });
  await takeEffect(trx, ctx, { id: row.id, meetingId: row.meeting_id });
  return row;
}

/**
 * Raising capacity promotes the longest-waiting at once; lowering it only stops new confirmations, nobody
 * already seated loses a seat. The new capacity is a new version of the meeting, announced as
 * meeting.updated before the promotions it causes.
 */
export async function changeCapacity(
  ctx: ServiceContext,
  meetingId: string,
  capacity: number,
): Promise<{ meeting: AdminMeeting; promoted: Promotion[] }> {
  const promoted = await ctx.db.transaction().execute(async (trx) => {
    const row = await lockEditableMeeting(trx, meetingId);
    if (row.capacity === capacity) return [];
    await updateMeeting(trx, meetingId, { version: row.version + 1, capacity, updated_at: ctx.clock.now() });
    await publishUpdated(trx, ctx, meetingId, ['capacity']);
    return promoteFromWaitlist(trx, ctx, { ...row, capacity });
  });
  return { meeting: await getAdminMeeting(ctx, meetingId), promoted };
}
