import fc from 'fast-check';
import t from 'tap';
import {
  decideOfferAnswer,
  isDue,
  OFFER_WINDOW_FLOOR_MS,
  OFFER_WINDOW_SHARE,
  offerWindowMs,
  seatsToOffer,
} from '../../src/offers/offer.rules.ts';

const HOUR = 3_600_000;
const now = new Date('2027-03-01T09:00:00Z');
const inHours = (h: number) => new Date(now.getTime() + h * HOUR);

t.test('far from the meeting an offer runs the configured hours', async (t) => {
  t.equal(offerWindowMs({ offerHours: 48, startsAt: inHours(24 * 20), now }), 48 * HOUR);
  t.equal(offerWindowMs({ offerHours: 1, startsAt: inHours(24 * 20), now }), HOUR, 'a short setting is kept');
});

t.test('close to the meeting the window shrinks to a share of the time left, with a floor', async (t) => {
  t.equal(offerWindowMs({ offerHours: 48, startsAt: inHours(24), now }), 6 * HOUR, 'a day left: six hours');
  t.equal(offerWindowMs({ offerHours: 48, startsAt: inHours(4), now }), OFFER_WINDOW_FLOOR_MS, 'the floor');
  t.equal(offerWindowMs({ offerHours: 48, startsAt: inHours(1), now }), HOUR, 'never past the start');
  t.equal(offerWindowMs({ offerHours: 48, startsAt: now, now }), 0, 'nothing once it starts');
  t.equal(offerWindowMs({ offerHours: 48, startsAt: inHours(-1), now }), 0);
});

t.test('the window is the documented minimum, for any setting and time left', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 336 }),
      fc.integer({ min: 1, max: 60 * 24 * 3600_000 }),
      (hours, left) => {
        const w = offerWindowMs({ offerHours: hours, startsAt: new Date(now.getTime() + left), now });
        const expected = Math.min(
          hours * HOUR,
          Math.max(OFFER_WINDOW_FLOOR_MS, Math.floor(left * OFFER_WINDOW_SHARE)),
          left,
        );
        return w === expected && w > 0 && w <= left && w <= hours * HOUR;
      },
    ),
  );
  t.pass('offerWindowMs is min(configured, max(floor, share of the time left), time left)');
});

t.test('seats to offer: free seats after the open offers, no more than wait without one', async (t) => {
  t.equal(seatsToOffer({ capacity: 10, seatsTaken: 9, openOffers: 0, waitingWithoutOffer: 3 }), 1);
  t.equal(seatsToOffer({ capacity: 10, seatsTaken: 9, openOffers: 1, waitingWithoutOffer: 3 }), 0, 'held');
  t.equal(seatsToOffer({ capacity: 10, seatsTaken: 5, openOffers: 1, waitingWithoutOffer: 2 }), 2);
  t.equal(seatsToOffer({ capacity: 5, seatsTaken: 7, openOffers: 1, waitingWithoutOffer: 2 }), 0, 'over');
  fc.assert(
    fc.property(
      fc.nat(20),
      fc.nat(25),
      fc.nat(5),
      fc.nat(10),
      (capacity, seatsTaken, openOffers, waiting) => {
        const n = seatsToOffer({ capacity, seatsTaken, openOffers, waitingWithoutOffer: waiting });
        return n >= 0 && n <= waiting && (n === 0 || seatsTaken + openOffers + n <= capacity);
      },
    ),
  );
});

t.test('answers to an offer', async (t) => {
  const open = { status: 'open' as const, expiresAt: inHours(2) };
  const meeting = { status: 'published' as const, startsAt: inHours(48) };
  const decide = (over: Partial<Parameters<typeof decideOfferAnswer>[0]>) =>
    decideOfferAnswer({ answer: 'accept', offer: open, meeting, now, ...over });
  t.same(decide({}), { kind: 'accept' });
  t.same(decide({ answer: 'decline' }), { kind: 'decline' });
  t.same(decide({ now: inHours(2) }), { kind: 'expired' }, 'at the deadline it is over, swept or not');
  t.same(decide({ offer: { ...open, status: 'expired' } }), { kind: 'expired' });
  t.same(decide({ offer: { ...open, status: 'accepted' } }), { kind: 'already', status: 'accepted' });
  t.same(decide({ answer: 'decline', offer: { ...open, status: 'declined' } }), {
    kind: 'already',
    status: 'declined',
  });
  t.equal(decide({ answer: 'decline', offer: { ...open, status: 'accepted' } }).kind, 'closed');
  t.equal(decide({ offer: { ...open, status: 'declined' } }).kind, 'closed');
  t.equal(decide({ offer: { ...open, status: 'withdrawn' } }).kind, 'closed');
  const cancelled = { ...meeting, status: 'cancelled' as const };
  t.same(decide({ meeting: cancelled }), { kind: 'cancelled' });
  t.same(
    decide({ meeting: cancelled, offer: { ...open, status: 'withdrawn' } }),
    { kind: 'cancelled' },
    'an offer withdrawn with its meeting says why',
  );
  t.same(
    decide({ meeting: cancelled, offer: { ...open, status: 'accepted' } }),
    { kind: 'cancelled' },
    'a seat accepted before is no seat once the meeting is cancelled',
  );
  t.equal(decide({ meeting: { ...meeting, startsAt: inHours(1) }, now: inHours(1.5) }).kind, 'closed');
  t.ok(isDue(open, inHours(2)));
  t.notOk(isDue(open, inHours(1)));
  t.notOk(isDue({ ...open, status: 'accepted' }, inHours(3)));
});
