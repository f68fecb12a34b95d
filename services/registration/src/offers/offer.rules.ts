/**
 * Pure rules of waitlist offers (docs/waitlist-offers.md): how long an offer stays open, how many seats may
 * be offered, and what an answer to an offer does. The clock is passed in; callers hold the meeting lock,
 * so the counts they pass are exact.
 */

const HOUR_MS = 3_600_000;

/** Close to the meeting an offer gets at most this share of the time that is left… */
export const OFFER_WINDOW_SHARE = 0.25;
/** …but never less than this, so a mail read over lunch is still in time (unless the meeting starts sooner). */
export const OFFER_WINDOW_FLOOR_MS = 2 * HOUR_MS;

/**
 * How long an offer made `now` stays open: the meeting's configured hours, shortened close to the meeting to
 * a quarter of the time left (at least the floor), and never past the start. So the seat passes down the
 * line fast enough to still be used: with a day to go and 48 configured hours, an offer runs six hours.
 */
export function offerWindowMs(input: { offerHours: number; startsAt: Date; now: Date }): number {
  const left = input.startsAt.getTime() - input.now.getTime();
  if (left <= 0) return 0;
  const configured = input.offerHours * HOUR_MS;
  const nearStart = Math.max(OFFER_WINDOW_FLOOR_MS, Math.floor(left * OFFER_WINDOW_SHARE));
  return Math.min(configured, nearStart, left);
}

/**
 * How many of the waiting get an offer now: seats free once the open offers are counted as held, and no
 * more than wait without one. So there are never more open offers than seats to give.
 */
export function seatsToOffer(input: {
  capacity: number;
  seatsTaken: number;
  openOffers: number;
  waitingWithoutOffer: number;
}): number {
  const free = input.capacity - input.seatsTaken - input.openOffers;
  return Math.max(0, Math.min(free, input.waitingWithoutOffer));
}

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'expired' | 'withdrawn';
export type OfferAnswer = 'accept' | 'decline';

export type OfferDecision =
  /** The answer takes effect now. */
  | { kind: 'accept' }
  | { kind: 'decline' }
  /** The same answer was given before (a double click, a retry): nothing to do, the same outcome. */
  | { kind: 'already'; status: 'accepted' | 'declined' }
  /** The time to answer is over, swept or not: refused kindly, nothing changes. */
  | { kind: 'expired' }
  /** The offer was closed otherwise (answered the other way, withdrawn) or the meeting is no longer open. */
  | { kind: 'closed'; reason: string }
  /** The meeting was cancelled: whatever the offer's state, there is no seat to take or give back. */
  | { kind: 'cancelled' };

/** What an answer to an offer does, given the offer and its meeting as they are under the lock. */
export function decideOfferAnswer(input: {
  answer: OfferAnswer;
  offer: { status: OfferStatus; expiresAt: Date };
  meeting: { status: 'draft' | 'published' | 'cancelled'; startsAt: Date };
  now: Date;
}): OfferDecision {
  const { answer, offer, meeting, now } = input;
  if (meeting.status === 'cancelled') return { kind: 'cancelled' };
  if (offer.status === 'accepted' && answer === 'accept') return { kind: 'already', status: 'accepted' };
  if (offer.status === 'declined' && answer === 'decline') return { kind: 'already', status: 'declined' };
  if (offer.status === 'accepted') return { kind: 'closed', reason: 'this seat was accepted already' };
  if (offer.status === 'declined') return { kind: 'closed', reason: 'this seat was declined already' };
  if (offer.status === 'withdrawn') return { kind: 'closed', reason: 'this offer was withdrawn' };
  if (offer.status === 'expired' || now.getTime() >= offer.expiresAt.getTime()) return { kind: 'expired' };
  if (meeting.status !== 'published' || now.getTime() >= meeting.startsAt.getTime()) {
    return { kind: 'closed', reason: 'the meeting is no longer open' };
  }
  return { kind: answer };
}

/** An open offer whose time is over: the sweep closes it and passes the seat on. */
export function isDue(offer: { status: OfferStatus; expiresAt: Date }, now: Date): boolean {
  return offer.status === 'open' && now.getTime() >= offer.expiresAt.getTime();
}
