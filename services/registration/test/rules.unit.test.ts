import fc from 'fast-check';
import t from 'tap';
import { meetingUid, renderCalendar } from '../src/calendar/ics.rules.ts';
import { demoMeetingDate } from '../src/demo/demo-meeting.ts';
import {
  durationToMs,
  registrationWindow,
  resolveInstant,
  validateMeetingTimes,
  validateReminderOffsets,
} from '../src/meetings/meeting.rules.ts';
import {
  cancelTransition,
  checkInTransition,
  counterDelta,
  decideSeat,
  noShowTransition,
  SEAT_HOLDING,
  selectPromotions,
  takeSeatBatch,
} from '../src/registrations/seat.rules.ts';
import { csvField, toCsv } from '../src/reports/csv.rules.ts';

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

t.test('status transitions at the door and on cancellation', async (t) => {
  t.same(checkInTransition('confirmed'), { ok: true, changed: true });
  t.same(checkInTransition('checked_in'), { ok: true, changed: false });
  t.same(checkInTransition('no_show'), { ok: true, changed: true });
  t.equal(checkInTransition('waitlisted').ok, false);
  t.equal(checkInTransition('cancelled').ok, false);
  const start = new Date('2027-03-11T12:00:00Z');
  t.equal(
    noShowTransition('confirmed', start, new Date('2027-03-11T11:59:00Z')).ok,
    false,
    'not before the start',
  );
  t.same(noShowTransition('confirmed', start, new Date('2027-03-11T12:30:00Z')), { ok: true, changed: true });
  t.equal(noShowTransition('checked_in', start, new Date('2027-03-11T12:30:00Z')).ok, false);
  t.same(cancelTransition('waitlisted'), { ok: true, changed: true });
  t.same(cancelTransition('cancelled'), { ok: true, changed: false });
  t.equal(cancelTransition('checked_in').ok, false);
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

t.test('reminder offsets: fixed-length, positive, at most 90 days, no two at the same moment', async (t) => {
  t.equal(durationToMs('P1D'), 86_400_000);
  t.equal(durationToMs('PT90M'), 5_400_000);
  t.equal(durationToMs('P1W'), 7 * 86_400_000);
  t.equal(durationToMs('P1M'), null, 'months have no fixed length');
  t.equal(durationToMs('P'), null);
  t.same(validateReminderOffsets(['P7D', 'P1D', 'PT2H']), []);
  t.match(validateReminderOffsets(['P1D', 'PT24H']), [
    { field: 'reminderOffsets.1', message: /same moment as P1D/ },
  ]);
  t.match(validateReminderOffsets(['PT0S']), [{ field: 'reminderOffsets.0', message: /longer than zero/ }]);
  t.match(validateReminderOffsets(['P91D']), [{ field: 'reminderOffsets.0', message: /90 days/ }]);
  t.match(validateReminderOffsets(['P1Y'], 'body.reminderOffsets'), [{ field: 'body.reminderOffsets.0' }]);
});

t.test('times: wall-clock in Europe/Amsterdam across DST, and the registration window', async (t) => {
  t.equal(resolveInstant('2027-03-11T13:00', 'Europe/Amsterdam').toISOString(), '2027-03-11T12:00:00.000Z');
  t.equal(
    resolveInstant('2027-07-01T13:00:00', 'Europe/Amsterdam').toISOString(),
    '2027-07-01T11:00:00.000Z',
  );
  t.equal(resolveInstant('2027-10-31T01:30', 'Europe/Amsterdam').toISOString(), '2027-10-30T23:30:00.000Z');
  t.equal(
    resolveInstant('2027-03-11T13:00+01:00', 'America/New_York').toISOString(),
    '2027-03-11T12:00:00.000Z',
  );
  const m = {
    status: 'published' as const,
    startsAt: new Date('2027-03-11T12:00:00Z'),
    endsAt: new Date('2027-03-11T16:00:00Z'),
    registrationOpensAt: new Date('2027-01-01T00:00:00Z'),
    registrationClosesAt: new Date('2027-03-09T12:00:00Z'),
  };
  t.equal(registrationWindow(m, new Date('2026-12-31T00:00:00Z')), 'not_yet_open');
  t.equal(registrationWindow(m, new Date('2027-02-01T00:00:00Z')), 'open');
  t.equal(registrationWindow(m, new Date('2027-03-09T12:00:00Z')), 'closed');
  t.equal(
    registrationWindow({ ...m, registrationClosesAt: null }, new Date('2027-03-11T12:00:00Z')),
    'closed',
  );
  t.equal(registrationWindow({ ...m, status: 'cancelled' }, new Date('2027-02-01T00:00:00Z')), 'cancelled');
  t.equal(registrationWindow({ ...m, status: 'draft' }, new Date('2027-02-01T00:00:00Z')), 'not_published');
  t.match(validateMeetingTimes({ ...m, endsAt: m.startsAt }), [{ field: 'body.endsAt' }]);
  t.match(validateMeetingTimes({ ...m, registrationClosesAt: m.endsAt }), [
    { field: 'body.registrationClosesAt' },
  ]);
  t.equal(demoMeetingDate(new Date('2026-11-28T16:00:00Z')), '2027-01-14', 'a Thursday six weeks on');
});

// Escaping and folding are the calendar package's (packages/calendar/test); here, what this service writes.
t.test('ICS: CRLF, stable UID and SEQUENCE, times in UTC', async (t) => {
  const event = {
    meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
    sequence: 2,
    title: 'CoP: kritische vrienden, successen; fouten',
    description: 'Regel 1\nRegel 2',
    startsAt: new Date('2027-03-11T12:00:00Z'),
    endsAt: new Date('2027-03-11T16:30:00Z'),
    location: 'Hangar, Den Haag',
    url: 'https://cop.example.org/bijeenkomsten/cop',
    status: 'published' as const,
    updatedAt: new Date('2027-01-10T10:00:00Z'),
  };
  const ics = renderCalendar({
    name: 'CoP',
    events: [event, { ...event, meetingId: 'x', status: 'cancelled' }],
    now: new Date('2027-01-10T10:00:00Z'),
  });
  t.ok(ics.endsWith('\r\n'));
  t.notOk(/[^\r]\n/.test(ics), 'every line ends in CRLF');
  t.match(ics, /^BEGIN:VCALENDAR\r\nVERSION:2\.0\r\nPRODID:/);
  t.match(ics, `UID:${meetingUid(event.meetingId)}\r\n`);
  t.match(ics, 'SEQUENCE:2\r\n');
  t.match(ics, 'DTSTART:20270311T120000Z\r\nDTEND:20270311T163000Z\r\n');
  t.match(ics, 'SUMMARY:CoP: kritische vrienden\\, successen\\; fouten\r\n');
  t.match(ics, 'DESCRIPTION:Regel 1\\nRegel 2\r\n');
  t.match(ics, 'STATUS:CANCELLED');
  t.equal(ics.match(/BEGIN:VEVENT/g)?.length, 2);
  t.match(ics, /END:VCALENDAR\r\n$/);
});

t.test(
  'CSV: every field quoted, formulas neutralised also after spaces and quotes, BOM and CRLF',
  async (t) => {
    t.equal(csvField('Gemeente Den Haag'), '"Gemeente Den Haag"');
    t.equal(csvField('a;b'), '"a;b"');
    t.equal(csvField('a,b'), '"a,b"', 'a comma-separator locale cannot split it either');
    t.equal(csvField('zei "hallo"'), '"zei ""hallo"""');
    t.equal(csvField('regel 1\nregel 2'), '"regel 1\nregel 2"');
    t.equal(csvField(' spatie'), '" spatie"');
    t.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    t.equal(csvField('+31 70 123'), `"'+31 70 123"`);
    t.equal(csvField('@home'), `"'@home"`);
    t.equal(csvField(' =1+1'), `"' =1+1"`, 'after a space');
    t.equal(csvField('"=1+1'), `"'""=1+1"`, 'after a quote');
    t.equal(csvField(" '-2"), `"' '-2"`, 'after a space and an apostrophe');
    t.equal(csvField('\uFF1DSUM(A1)'), `"'\uFF1DSUM(A1)"`, 'full-width equals sign');
    t.equal(csvField('\tcmd'), `"'\tcmd"`);
    t.equal(csvField('\r=1'), `"'\r=1"`);
    t.equal(csvField('e-mail: a-b@example.org'), '"e-mail: a-b@example.org"', 'a - or @ inside is fine');
    t.equal(csvField(null), '""');
    t.equal(csvField(true), '"ja"');
    t.equal(csvField(3), '"3"');
    const csv = toCsv(['Naam', 'Organisatie'], [['Zoë', 'A;B']]);
    t.equal(csv, '\uFEFF"Naam";"Organisatie"\r\n"Zoë";"A;B"\r\n');
    // Whatever the text, its field is one quoted value whose content, read with spaces and quotes skipped,
    // does not start a formula unless the apostrophe guards it.
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 12 }), (text) => {
        const field = csvField(text);
        if (!field.startsWith('"') || !field.endsWith('"')) return false;
        const inner = field.slice(1, -1);
        if (inner.replaceAll('""', '').includes('"')) return false;
        const content = inner.replaceAll('""', '"');
        return content.startsWith("'") || !/^[\s"'\u3000]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/.test(content);
      }),
    );
  },
);
