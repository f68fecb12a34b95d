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
  noShowTransition,
} from '../src/registrations/registration.rules.ts';
import { csvField, toCsv } from '../src/reports/csv.rules.ts';

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
