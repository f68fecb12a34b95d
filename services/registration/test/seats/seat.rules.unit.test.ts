/** The pure seat rules: `decideSeat` is the oracle the registering statement is tested against (seats.test.ts). */
import fc from 'fast-check';
import t from 'tap';
import {
  counterDelta,
  decideSeat,
  SEAT_HOLDING,
  selectPromotions,
  takeSeatBatch,
} from '../../src/seats/seat.rules.ts';

t.test('seat decision: a free seat when nobody waits, else the end of the waitlist', async (t) => {
  t.same(decideSeat({ capacity: 2, seatsTaken: 1, waitlistLength: 0 }), {
    status: 'confirmed',
    position: null,
  });
  t.same(decideSeat({ capacity: 2, seatsTaken: 2, waitlistLength: 0 }), {
    status: 'waitlisted',
    position: 1,
  });
  t.same(decideSeat({ capacity: 2, seatsTaken: 3, waitlistLength: 4 }), {
    status: 'waitlisted',
    position: 5,
  });
  t.same(
    decideSeat({ capacity: 5, seatsTaken: 1, waitlistLength: 2 }),
    { status: 'waitlisted', position: 3 },
    'nobody jumps the queue past those waiting',
  );
});

t.test('seat batches: arrival order, a cap, and one version per meeting', async (t) => {
  const w = (id: string, meetingId: string, meetingVersion: number) => ({ id, meetingId, meetingVersion });
  const waiting = [w('a', 'm1', 1), w('b', 'm2', 4), w('c', 'm1', 2), w('d', 'm1', 1), w('e', 'm3', 1)];
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
  const all = takeSeatBatch(waiting, 10);
  t.same(ids(all.batch), ['a', 'b', 'd', 'e'], 'm1 read on version 2 waits for the next statement');
  t.same(ids(all.rest), ['c']);
  const capped = takeSeatBatch(waiting, 2);
  t.same(ids(capped.batch), ['a', 'b']);
  t.same(ids(capped.rest), ['c', 'd', 'e'], 'the rest keeps arrival order');
  t.same(ids(takeSeatBatch(all.rest, 10).batch), ['c']);
  t.same(takeSeatBatch([], 10), { batch: [], rest: [] });
});

t.test('seat counters: each status change moves them by what it takes and gives back', async (t) => {
  t.same(counterDelta(null, 'confirmed'), { seatsTaken: 1, waitlistLength: 0 }, 'a new seat');
  t.same(counterDelta(null, 'waitlisted'), { seatsTaken: 0, waitlistLength: 1 }, 'a new place in line');
  t.same(counterDelta('waitlisted', 'confirmed'), { seatsTaken: 1, waitlistLength: -1 }, 'promotion');
  t.same(counterDelta('confirmed', 'cancelled'), { seatsTaken: -1, waitlistLength: 0 });
  t.same(counterDelta('waitlisted', 'cancelled'), { seatsTaken: 0, waitlistLength: -1 });
  t.same(counterDelta('confirmed', 'checked_in'), { seatsTaken: 0, waitlistLength: 0 });
  t.same(
    counterDelta('confirmed', 'no_show'),
    { seatsTaken: 0, waitlistLength: 0 },
    'a no-show keeps the seat',
  );
  t.same(counterDelta('no_show', 'checked_in'), { seatsTaken: 0, waitlistLength: 0 });
  const statuses = ['confirmed', 'waitlisted', 'cancelled', 'checked_in', 'no_show'] as const;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...statuses), { minLength: 1, maxLength: 8 }), (path) => {
      // Along any path of changes the deltas add up to what the last status holds.
      let total = { seatsTaken: 0, waitlistLength: 0 };
      let from: (typeof statuses)[number] | null = null;
      for (const to of path) {
        const d = counterDelta(from, to);
        total = {
          seatsTaken: total.seatsTaken + d.seatsTaken,
          waitlistLength: total.waitlistLength + d.waitlistLength,
        };
        from = to;
      }
      return (
        total.seatsTaken === (SEAT_HOLDING.includes(from!) ? 1 : 0) &&
        total.waitlistLength === (from === 'waitlisted' ? 1 : 0)
      );
    }),
  );
});

t.test('promotion: longest-waiting first, only as many as seats are free', async (t) => {
  const waitlist = [
    { id: 'c', seq: 30 },
    { id: 'a', seq: 10 },
    { id: 'b', seq: 20 },
  ];
  t.same(
    selectPromotions({ capacity: 5, seatsTaken: 3, waitlist }).map((p) => [
      p.registration.id,
      p.previousPosition,
    ]),
    [
      ['a', 1],
      ['b', 2],
    ],
  );
  t.same(selectPromotions({ capacity: 3, seatsTaken: 5, waitlist }), [], 'over capacity promotes nobody');
  t.same(selectPromotions({ capacity: 10, seatsTaken: 0, waitlist }).length, 3);
});

/**
 * A model of one meeting driven only by the pure rules, as the service applies them under the meeting lock:
 * random sequences of registrations, cancellations and capacity changes keep every invariant.
 */
t.test(
  'property: confirmed never exceeds capacity, FIFO waitlist, lowering unseats nobody, one per email',
  async (t) => {
    type Reg = {
      id: string;
      email: string;
      seq: number;
      status: 'confirmed' | 'waitlisted' | 'cancelled';
      promoted: boolean;
    };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('register' as const), email: fc.integer({ min: 0, max: 15 }) }),
      fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('capacity' as const), capacity: fc.integer({ min: 1, max: 8 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 60 }), (initial, ops) => {
        let capacity = initial;
        // Seats may exceed capacity only by those seated before a lowering, and that excess only shrinks.
        let allowed = capacity;
        let seq = 0;
        const regs: Reg[] = [];
        const taken = () => regs.filter((r) => r.status === 'confirmed').length;
        const waiting = () => regs.filter((r) => r.status === 'waitlisted').sort((a, b) => a.seq - b.seq);
        const promote = () => {
          for (const p of selectPromotions({ capacity, seatsTaken: taken(), waitlist: waiting() })) {
            p.registration.status = 'confirmed';
            p.registration.promoted = true;
          }
        };
        for (const o of ops) {
          if (o.kind === 'register') {
            const email = `p${o.email}@example.org`;
            if (regs.some((r) => r.email === email && r.status !== 'cancelled')) continue;
            const d = decideSeat({ capacity, seatsTaken: taken(), waitlistLength: waiting().length });
            if (d.status === 'waitlisted' && d.position !== waiting().length + 1) return false;
            regs.push({ id: `r${seq}`, email, seq: seq++, status: d.status, promoted: false });
          } else if (o.kind === 'cancel') {
            const live = regs.filter((r) => r.status !== 'cancelled');
            if (live.length === 0) continue;
            const target = live[o.pick % live.length]!;
            const wasConfirmed = target.status === 'confirmed';
            target.status = 'cancelled';
            if (wasConfirmed) promote();
            allowed = Math.max(capacity, Math.min(allowed, taken()));
          } else {
            const seated = regs.filter((r) => r.status === 'confirmed');
            capacity = o.capacity;
            allowed = Math.max(capacity, seated.length);
            promote();
            if (!seated.every((r) => r.status === 'confirmed')) return false;
          }
          if (taken() > allowed) return false;
          if (taken() < capacity && waiting().length > 0) return false;
          const firstWaiting = waiting()[0]?.seq ?? Number.POSITIVE_INFINITY;
          if (regs.some((r) => r.promoted && r.status === 'confirmed' && r.seq > firstWaiting)) return false;
          const emails = regs.filter((r) => r.status !== 'cancelled').map((r) => r.email);
          if (new Set(emails).size !== emails.length) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
    t.pass('invariants held over 300 random sequences');
  },
);
