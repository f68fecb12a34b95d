import fc from 'fast-check';
import t from 'tap';
import {
  type Announced,
  availabilityOf,
  CORRECTION_WINDOW_MS,
  decideAnnouncement,
  type MeetingFacts,
  publicView,
  summariseAttendance,
} from '../src/feed/meeting-feed.rules.ts';

const policy = { throttleMs: 15 * 60_000, correctionWindowMs: CORRECTION_WINDOW_MS };
const now = new Date('2027-02-01T10:00:00Z');
const minutes = (n: number) => new Date(now.getTime() + n * 60_000);

const facts: MeetingFacts = {
  id: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
  slug: 'cop-voorjaar',
  title: 'CoP voorjaar',
  status: 'published',
  startsAt: new Date('2027-03-11T12:00:00Z'),
  endsAt: new Date('2027-03-11T16:30:00Z'),
  timeZone: 'Europe/Amsterdam',
  venueName: 'Hangar',
  onlineUrl: null,
  language: 'nl',
  capacity: 100,
  seatsTaken: 10,
  waitlistLength: 0,
  registrationOpensAt: null,
  registrationClosesAt: null,
};
const view = (patch: Partial<MeetingFacts> = {}) =>
  publicView({ ...facts, ...patch }, 'https://cop.example.org');
const announced = (patch: Partial<Announced> = {}): Announced => ({
  version: 3,
  view: view(),
  seatsAnnouncedAt: null,
  attendance: null,
  attendanceAnnouncedAt: null,
  ...patch,
});

t.test(
  'seat levels: full at 0, limited up to a fifth of the capacity (at least 1), available above',
  async (t) => {
    t.equal(availabilityOf(100, 0), 'full');
    t.equal(availabilityOf(100, 1), 'limited');
    t.equal(availabilityOf(100, 20), 'limited');
    t.equal(availabilityOf(100, 21), 'available');
    t.equal(availabilityOf(3, 1), 'limited', 'a small meeting still has a "last seat"');
    t.equal(availabilityOf(3, 2), 'available');
    t.equal(availabilityOf(1, 1), 'limited');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (capacity, taken) => {
          const level = availabilityOf(capacity, Math.max(0, capacity - taken));
          const fewer = availabilityOf(capacity, Math.max(0, capacity - taken - 1));
          const order = ['available', 'limited', 'full'];
          return order.indexOf(fewer) >= order.indexOf(level);
        },
      ),
      { numRuns: 500 },
    );
  },
);

t.test('the public view shows what the public page shows, never the online link', async (t) => {
  const v = view({ onlineUrl: 'https://meet.example.org/secret-room', seatsTaken: 95, waitlistLength: 2 });
  t.equal(v.online, true);
  t.notMatch(JSON.stringify(v), /secret-room/);
  t.same(v.seats, { capacity: 100, available: 5, waitlisted: 2, availability: 'limited' });
  t.equal(v.url, 'https://cop.example.org/bijeenkomsten/cop-voorjaar');
  t.equal(v.registrationClosesAt, facts.startsAt.toISOString(), 'closes at the start unless set');
  t.equal(
    view({ seatsTaken: 120 }).seats.available,
    0,
    'over capacity (lowered later) is full, not negative',
  );
});

t.test('first word, last word and edits', async (t) => {
  t.same(decideAnnouncement(undefined, view(), null, now, policy), { kind: 'scheduled' });
  t.same(decideAnnouncement(undefined, view({ status: 'cancelled' }), null, now, policy), {
    kind: 'cancelled',
  });
  t.same(decideAnnouncement(announced(), view({ status: 'cancelled' }), null, now, policy), {
    kind: 'cancelled',
  });
  const cancelled = announced({ view: view({ status: 'cancelled' }) });
  t.same(decideAnnouncement(cancelled, view({ status: 'cancelled', title: 'x' }), null, now, policy), {
    kind: 'none',
  });
  t.same(decideAnnouncement(announced(), view(), null, now, policy), { kind: 'none' }, 'nothing new');
  t.same(decideAnnouncement(announced(), view({ title: 'Nieuw', capacity: 120 }), null, now, policy), {
    kind: 'changed',
    changedFields: ['title', 'capacity'],
  });
  t.same(
    decideAnnouncement(
      announced(),
      view({
        startsAt: new Date('2027-03-18T12:00:00Z'),
        endsAt: new Date('2027-03-18T16:30:00Z'),
        venueName: 'Stadhuis',
      }),
      null,
      now,
      policy,
    ),
    {
      kind: 'rescheduled',
      previousStartsAt: '2027-03-11T12:00:00.000Z',
      previousEndsAt: '2027-03-11T16:30:00.000Z',
      changedFields: ['venue', 'registrationWindow'],
    },
  );
});

t.test('seat levels are announced on crossing a threshold, at most once per interval', async (t) => {
  const limited = view({ seatsTaken: 85 });
  t.same(decideAnnouncement(announced(), view({ seatsTaken: 79 }), null, now, policy), { kind: 'none' });
  t.same(decideAnnouncement(announced(), limited, null, now, policy), {
    kind: 'seats_changed',
    previousAvailability: 'available',
  });
  const recently = announced({ view: limited, seatsAnnouncedAt: minutes(-14) });
  t.same(decideAnnouncement(recently, view({ seatsTaken: 100 }), null, now, policy), { kind: 'none' });
  t.same(decideAnnouncement(recently, view({ seatsTaken: 100 }), null, minutes(1), policy), {
    kind: 'seats_changed',
    previousAvailability: 'limited',
  });
  t.same(
    decideAnnouncement(recently, view({ seatsTaken: 85 }), null, minutes(1), policy),
    { kind: 'none' },
    'back at the level announced: nothing to say',
  );
  t.same(
    decideAnnouncement(announced(), limited, null, facts.startsAt, policy),
    { kind: 'none' },
    'not once the meeting has started',
  );
});

t.test('attendance after the end, corrections throttled and within the window', async (t) => {
  const ended = new Date(facts.endsAt.getTime() + 60_000);
  const counts = summariseAttendance([
    { dealId: 'b', dealName: 'B', registered: 3, attended: 2 },
    { dealId: null, dealName: null, registered: 2, attended: 1 },
    { dealId: 'a', dealName: 'A', registered: 1, attended: 0 },
    { dealId: 'c', dealName: 'C', registered: 0, attended: 0 },
  ]);
  t.same(counts, {
    registered: 6,
    attended: 3,
    withoutDeal: { registered: 2, attended: 1 },
    deals: [
      { dealId: 'a', dealName: 'A', registered: 1, attended: 0 },
      { dealId: 'b', dealName: 'B', registered: 3, attended: 2 },
    ],
  });
  t.same(decideAnnouncement(announced(), view(), counts, ended, policy), {
    kind: 'attendance_recorded',
    attendance: counts,
    correction: false,
  });
  const recorded = announced({ attendance: counts, attendanceAnnouncedAt: ended });
  // As it comes back from jsonb: the same values, keys in another order.
  const { withoutDeal, deals, ...totals } = counts;
  const reordered = {
    deals: deals.map(({ dealId, ...rest }) => ({ ...rest, dealId })),
    withoutDeal,
    ...totals,
  };
  t.same(decideAnnouncement(recorded, view(), reordered, minutes(60 * 24 * 40), policy), { kind: 'none' });
  const more = { ...counts, attended: 4 };
  t.same(decideAnnouncement(recorded, view(), more, ended, policy), { kind: 'none' }, 'throttled');
  const later = new Date(ended.getTime() + policy.throttleMs);
  t.same(decideAnnouncement(recorded, view(), more, later, policy), {
    kind: 'attendance_recorded',
    attendance: more,
    correction: true,
  });
  const tooLate = new Date(facts.endsAt.getTime() + CORRECTION_WINDOW_MS);
  t.same(decideAnnouncement(recorded, view(), more, tooLate, policy), { kind: 'none' }, 'window over');
  t.same(
    decideAnnouncement(announced(), view(), counts, facts.startsAt, policy),
    { kind: 'none' },
    'not before the end',
  );
});
