import { attendeeCancelled } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { hashManageToken, manageUrlWithoutToken } from '../manage-links/manage-token.ts';
import { findMeeting, lockMeeting, type MeetingRow } from '../meetings/meeting.repository.ts';
import { attendeeSnapshot } from '../seats/seat.events.ts';
import { adjustSeatCounters, type RegistrationRow, waitlistPositionOf } from '../seats/seat.repository.ts';
import { counterDelta } from '../seats/seat.rules.ts';
import { announcePromotion, changeSeat, promoteFromWaitlist } from '../seats/seat.service.ts';
import { closeOffer, findOfferByTokenHash, listDueOffers, lockOffer } from './offer.repository.ts';
import { decideOfferAnswer, isDue, type OfferAnswer, type OfferStatus } from './offer.rules.ts';

/**
 * Answers to waitlist offers and their expiry (docs/waitlist-offers.md). Each runs under the meeting lock,
 * then the offer's row: the order every seat change uses, so an accept, a cancellation elsewhere and the
 * sweep queue behind each other and the counters and open offers stay exact.
 */

export const offerProblems = {
  unknown: () =>
    new HttpProblem(404, 'offer-link-unknown', 'Unknown offer link', 'this offer link is not known'),
  expired: () =>
    new HttpProblem(
      410,
      'offer-expired',
      'Offer expired',
      'the time to accept this seat is over and it went to the next in line; nothing was changed',
    ),
  closed: (reason: string) => new HttpProblem(409, 'offer-closed', 'Offer closed', reason),
  meetingCancelled: () =>
    new HttpProblem(
      409,
      'meeting-cancelled',
      'Meeting cancelled',
      'the meeting was cancelled, so this offer no longer stands; nothing was changed',
    ),
};

export interface OfferView {
  offerId: string;
  registrationId: string;
  status: OfferStatus;
  expiresAt: string;
  language: 'nl' | 'en';
  meeting: {
    id: string;
    title: string;
    startsAt: string;
    endsAt: string;
    timeZone: string;
    status: MeetingRow['status'];
  };
}

export interface OfferAnswerResult {
  offerId: string;
  registrationId: string;
  status: 'accepted' | 'declined';
  registrationStatus: 'confirmed' | 'cancelled';
}

function viewOf(
  offer: { id: string; registration_id: string; status: OfferStatus; expires_at: Date },
  meeting: MeetingRow,
  language: 'nl' | 'en',
  now: Date,
): OfferView {
  return {
    offerId: offer.id,
    registrationId: offer.registration_id,
    // An offer past its time is expired for its reader, whether or not the sweep came by yet.
    status: isDue({ status: offer.status, expiresAt: offer.expires_at }, now) ? 'expired' : offer.status,
    expiresAt: offer.expires_at.toISOString(),
    language,
    meeting: {
      id: meeting.id,
      title: meeting.title,
      startsAt: meeting.starts_at.toISOString(),
      endsAt: meeting.ends_at.toISOString(),
      timeZone: meeting.time_zone,
      status: meeting.status,
    },
  };
}

async function offerByToken(ctx: ServiceContext, token: string) {
  const offer = await findOfferByTokenHash(ctx.db, hashManageToken(token));
  if (!offer) throw offerProblems.unknown();
  return offer;
}

/** What the offer link shows; reading it changes nothing (mail scanners follow links). */
export async function viewOffer(ctx: ServiceContext, token: string): Promise<OfferView> {
  const offer = await offerByToken(ctx, token);
  const meeting = (await findMeeting(ctx.db, offer.meeting_id))!;
  const registration = await ctx.db
    .selectFrom('registration')
    .select('language')
    .where('id', '=', offer.registration_id)
    .executeTakeFirstOrThrow();
  return viewOf(offer, meeting, registration.language, ctx.clock.now());
}

async function lockRegistrationRow(trx: Transaction<Database>, id: string): Promise<RegistrationRow> {
  return trx
    .selectFrom('registration')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/**
 * Accepts or declines the seat held by the offer behind `token`. Accepting confirms the registration (the
 * promoted mail follows); declining gives up the waitlist place and offers the seat to the next in line.
 * An answer that comes too late, or to an offer closed otherwise, changes nothing.
 */
export async function answerOffer(
  ctx: ServiceContext,
  token: string,
  answer: OfferAnswer,
): Promise<OfferAnswerResult> {
  const peek = await offerByToken(ctx, token);
  return ctx.db.transaction().execute(async (trx) => {
    const meeting = (await lockMeeting(trx, peek.meeting_id))!;
    const offer = await lockOffer(trx, peek.id);
    const now = ctx.clock.now();
    const decision = decideOfferAnswer({
      answer,
      offer: { status: offer.status, expiresAt: offer.expires_at },
      meeting: { status: meeting.status, startsAt: meeting.starts_at },
      now,
    });
    const result = (status: 'accepted' | 'declined'): OfferAnswerResult => ({
      offerId: offer.id,
      registrationId: offer.registration_id,
      status,
      registrationStatus: status === 'accepted' ? 'confirmed' : 'cancelled',
    });
    if (decision.kind === 'cancelled') throw offerProblems.meetingCancelled();
    if (decision.kind === 'expired') throw offerProblems.expired();
    if (decision.kind === 'closed') throw offerProblems.closed(decision.reason);
    if (decision.kind === 'already') return result(decision.status);
    const registration = await lockRegistrationRow(trx, offer.registration_id);
    if (decision.kind === 'accept') {
      await closeOffer(trx, offer, 'accepted', now);
      const position = await waitlistPositionOf(trx, meeting.id, registration.seq);
      // The seat the offer held becomes the registration's: the counters move, the free seats do not.
      await adjustSeatCounters(trx, meeting.id, counterDelta('waitlisted', 'confirmed'));
      await announcePromotion(trx, ctx, registration, position, now);
      return result('accepted');
    }
    await closeOffer(trx, offer, 'declined', now);
    await giveUpPlace(trx, ctx, meeting, registration, 'attendee', now);
    return result('declined');
  });
}

/**
 * An offer not taken ends the waitlist place (otherwise the next seat would go to the same person again and
 * the line would never move) and passes the seat to the next in line. Announced as a cancellation, which
 * tells the person in a short mail.
 */
async function giveUpPlace(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  meeting: MeetingRow,
  registration: RegistrationRow,
  by: 'attendee' | 'system',
  now: Date,
): Promise<void> {
  const row = await changeSeat(trx, registration, {
    status: 'cancelled',
    version: registration.version + 1,
    cancelled_at: now,
    cancelled_by: by,
    updated_at: now,
  });
  await enqueueEvent(trx, attendeeCancelled, {
    id: ctx.newId(),
    time: now,
    source: EVENT_SOURCE,
    subject: row.id,
    data: {
      ...attendeeSnapshot(row, manageUrlWithoutToken(ctx.publicBaseUrl)),
      status: 'cancelled',
      position: null,
      previousStatus: 'waitlisted',
      cancelledBy: by,
    },
  });
  await promoteFromWaitlist(trx, ctx, meeting);
}

/** How many due offers one sweep closes at most; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/**
 * Closes the offers whose time is over, each in its own short transaction, and passes their seats on.
 * Safe to run on every replica at once: each offer is re-read under its meeting's lock and closed once.
 */
export async function expireDueOffers(ctx: ServiceContext): Promise<number> {
  const due = await listDueOffers(ctx.db, ctx.clock.now(), SWEEP_BATCH);
  let expired = 0;
  for (const { id, meeting_id } of due) {
    const closed = await ctx.db.transaction().execute(async (trx) => {
      const meeting = (await lockMeeting(trx, meeting_id))!;
      const offer = await lockOffer(trx, id);
      const now = ctx.clock.now();
      if (!isDue({ status: offer.status, expiresAt: offer.expires_at }, now)) return false;
      await closeOffer(trx, offer, 'expired', now);
      const registration = await lockRegistrationRow(trx, offer.registration_id);
      await giveUpPlace(trx, ctx, meeting, registration, 'system', now);
      return true;
    });
    if (closed) expired += 1;
  }
  return expired;
}
