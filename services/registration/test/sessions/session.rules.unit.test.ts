/** The pure session rules: `decidePlace` is also the oracle of session-places.test.ts. */
import fc from 'fast-check';
import t from 'tap';
import {
  choiceStatusFor,
  decidePlace,
  overlaps,
  placeDelta,
  selectPlacePromotions,
  validateChoice,
  validateSessionTimes,
} from '../../src/sessions/session.rules.ts';

t.test('a place when one is free and nobody waits, else the end of the waitlist', async (t) => {
  t.same(decidePlace({ capacity: 2, placesTaken: 1, waitlistLength: 0 }), {
    status: 'placed',
    position: null,
  });
  t.same(decidePlace({ capacity: 2, placesTaken: 2, waitlistLength: 0 }), {
    status: 'waitlisted',
    position: 1,
  });
  t.same(
    decidePlace({ capacity: 5, placesTaken: 1, waitlistLength: 2 }),
    { status: 'waitlisted', position: 3 },
    'nobody jumps the queue past those waiting',
  );
  t.same(
    decidePlace({ capacity: 1, placesTaken: 3, waitlistLength: 0 }),
    { status: 'waitlisted', position: 1 },
    'above a lowered capacity nobody is placed',
  );
  // Deciding one chooser after another never places more than the capacity, and numbers the waitlist 1, 2, …
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), (capacity, choosers) => {
      let placesTaken = 0;
      let waitlistLength = 0;
      for (let i = 0; i < choosers; i += 1) {
        const d = decidePlace({ capacity, placesTaken, waitlistLength });
        if (d.status === 'placed') placesTaken += 1;
        else {
          waitlistLength += 1;
          if (d.position !== waitlistLength) return false;
        }
      }
      return (
        placesTaken === Math.min(capacity, choosers) && waitlistLength === Math.max(0, choosers - capacity)
      );
    }),
  );
});

t.test('choices count only for seat holders; one waiting for a seat keeps them pending', async (t) => {
  t.equal(choiceStatusFor('confirmed'), 'decide');
  t.equal(choiceStatusFor('checked_in'), 'decide');
  t.equal(choiceStatusFor('no_show'), 'decide');
  t.equal(choiceStatusFor('waitlisted'), 'pending');
  t.equal(choiceStatusFor('cancelled'), 'none');
});

t.test('counters move with each choice change', async (t) => {
  t.same(placeDelta(null, 'placed'), { placesTaken: 1, waitlistLength: 0 });
  t.same(placeDelta(null, 'waitlisted'), { placesTaken: 0, waitlistLength: 1 });
  t.same(placeDelta(null, 'pending'), { placesTaken: 0, waitlistLength: 0 }, 'pending holds nothing');
  t.same(placeDelta('waitlisted', 'placed'), { placesTaken: 1, waitlistLength: -1 });
  t.same(placeDelta('placed', null), { placesTaken: -1, waitlistLength: 0 });
  t.same(placeDelta('waitlisted', null), { placesTaken: 0, waitlistLength: -1 });
});

t.test('promotion: the longest-waiting first, as many as there are free places', async (t) => {
  const waitlist = [
    { id: 'c', seq: '30' },
    { id: 'a', seq: '9' },
    { id: 'b', seq: '10' },
  ];
  t.same(
    selectPlacePromotions({ capacity: 3, placesTaken: 1, waitlist }).map((p) => [
      p.choice.id,
      p.previousPosition,
    ]),
    [
      ['a', 1],
      ['b', 2],
    ],
    'by sequence as a number, not as text',
  );
  t.same(selectPlacePromotions({ capacity: 2, placesTaken: 4, waitlist }), [], 'lowered capacity: nobody');
  t.same(selectPlacePromotions({ capacity: 9, placesTaken: 0, waitlist: [] }), []);
});

t.test('a choice: known sessions, each once, none at the same time as another', async (t) => {
  const at = (id: string, from: string, to: string) => ({
    id,
    startsAt: new Date(`2027-03-11T${from}:00Z`),
    endsAt: new Date(`2027-03-11T${to}:00Z`),
  });
  const sessions = [at('a', '13:00', '14:00'), at('b', '14:00', '15:00'), at('c', '13:30', '14:30')];
  t.notOk(overlaps(sessions[0]!, sessions[1]!), 'back to back is fine');
  t.ok(overlaps(sessions[0]!, sessions[2]!));
  t.ok(overlaps(sessions[2]!, sessions[1]!));
  t.same(validateChoice(['a', 'b'], sessions), []);
  t.same(validateChoice([], sessions), []);
  t.same(validateChoice(['a', 'x'], sessions), [
    { field: 'body.sessionIds.1', message: 'is not a session of this meeting' },
  ]);
  t.same(validateChoice(['b', 'b'], sessions), [{ field: 'body.sessionIds.1', message: 'is chosen twice' }]);
  t.match(validateChoice(['a', 'c'], sessions), [{ field: 'body.sessionIds', message: /same time/ }]);
});

t.test('a session lies within its meeting', async (t) => {
  const meeting = { startsAt: new Date('2027-03-11T12:00:00Z'), endsAt: new Date('2027-03-11T16:30:00Z') };
  const s = (from: string, to: string) => ({
    startsAt: new Date(`2027-03-11T${from}:00Z`),
    endsAt: new Date(`2027-03-11T${to}:00Z`),
  });
  t.same(validateSessionTimes(s('12:00', '16:30'), meeting), [], 'the whole meeting is fine');
  t.same(validateSessionTimes(s('11:59', '13:00'), meeting), [
    { field: 'body.startsAt', message: 'is before the meeting starts' },
  ]);
  t.same(validateSessionTimes(s('15:00', '16:31'), meeting), [
    { field: 'body.endsAt', message: 'is after the meeting ends' },
  ]);
  t.same(validateSessionTimes(s('14:00', '14:00'), meeting), [
    { field: 'body.endsAt', message: 'must be after startsAt' },
  ]);
});
