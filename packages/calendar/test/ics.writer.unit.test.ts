import ICAL from 'ical.js';
import t from 'tap';
import { type CalendarEvent, foldLine, writeCalendar } from '../src/index.ts';

const event = (overrides: Partial<CalendarEvent> = {}): CalendarEvent => ({
  uid: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6@cop.example.org',
  sequence: 2,
  stamp: new Date('2026-11-01T10:00:00Z'),
  startsAt: new Date('2026-11-23T12:00:00Z'),
  endsAt: new Date('2026-11-23T16:30:00Z'),
  summary: 'Community of Practice City Deals',
  description: 'Bring your deal',
  location: 'Hangar, Den Haag',
  url: 'https://meet.example.org/cop',
  status: 'CONFIRMED',
  organizer: { name: 'City Deals', email: 'noreply@citydeals.example.org' },
  attendee: { name: 'Sanne de Vries', email: 'sanne@example.org', participation: 'ACCEPTED' },
  transparency: 'OPAQUE',
  ...overrides,
});

/** Parsed back by an independent parser (ical.js, the Mozilla calendar's own). */
function parse(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return { calendar, events: calendar.getAllSubcomponents('vevent') };
}

/** Every property name of a component, in order, so an injected one shows up. */
const propertyNames = (c: ICAL.Component) => c.getAllProperties().map((p) => p.name);

// Every kind of line break and control character an admin field could carry.
const hostile = [
  'a\rATTENDEE:mailto:evil@example.org',
  'b\nATTENDEE:mailto:evil@example.org',
  'c\r\nATTENDEE:mailto:evil@example.org',
  'd\r\n END:VEVENT',
  'e\u2028METHOD:CANCEL\u2029f',
  'g\u0000\u0001\u000b\u000c\u001b\u007f\u0085h',
  'i"; CN=x:mailto:evil@example.org',
  'j\\;,\\n',
];

/** Printable in TAP output, which a raw U+2028 or CR would break. */
const show = (text: string) => text.replace(/[^\x20-\x7e]/g, (c) => `<U+${c.codePointAt(0)!.toString(16)}>`);

t.test('a round trip through ical.js: every field as written, nothing added', async (t) => {
  for (const text of hostile) {
    const ics = writeCalendar({
      method: 'REQUEST',
      name: text,
      events: [
        event({
          summary: text,
          description: text,
          location: text,
          url: `https://meet.example.org/${text}`,
          organizer: { name: text, email: 'noreply@citydeals.example.org' },
          attendee: { name: text, email: 'sanne@example.org', participation: 'ACCEPTED' },
        }),
      ],
    });
    t.notMatch(ics, /\r(?!\n)|(?<!\r)\n/, `${show(text)}: only CRLF ends lines`);
    for (const line of ics.split('\r\n')) {
      t.ok(Buffer.byteLength(line) <= 75, `${show(text)}: no line over 75 octets`);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters.
      t.notMatch(line, /[\u0000-\u0008\u000a-\u001f\u007f]/, 'no control characters');
    }
    const { calendar, events } = parse(ics);
    t.equal(events.length, 1, 'one event');
    t.equal(calendar.getFirstPropertyValue('method'), 'REQUEST', 'the method is the one written');
    const [vevent] = events;
    t.same(
      propertyNames(vevent!),
      [
        'uid',
        'sequence',
        'dtstamp',
        'dtstart',
        'dtend',
        'summary',
        'description',
        'location',
        'url',
        'organizer',
        'attendee',
        'status',
        'transp',
      ],
      `${show(text)}: no property added`,
    );
    // Line breaks come back as newlines, other controls are gone; the rest is kept as it was.
    const expected = text
      .replace(/\r\n|[\r\n\u2028\u2029]/g, '\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters the writer drops.
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
    t.equal(vevent!.getFirstPropertyValue('summary'), expected, 'summary kept');
    t.equal(vevent!.getFirstPropertyValue('location'), expected, 'location kept');
    t.equal(vevent!.getFirstPropertyValue('description'), expected, 'description kept');
    // ical.js does not know X-WR-CALNAME as TEXT, so it is only checked to stay one property.
    t.same(propertyNames(calendar), ['version', 'prodid', 'calscale', 'method', 'x-wr-calname']);
    const attendee = vevent!.getFirstProperty('attendee')!;
    t.equal(attendee.getFirstValue(), 'mailto:sanne@example.org', 'attendee address kept');
    const unfolded = ics.replace(/\r\n /g, '').split('\r\n');
    t.equal(unfolded.filter((l) => /^ATTENDEE[;:]/.test(l)).length, 1, 'one attendee line');
    t.match(
      unfolded.find((l) => l.startsWith('ATTENDEE'))!,
      /^ATTENDEE;CN="[^"]*";ROLE=/,
      'the name is one parameter',
    );
    t.equal(attendee.getParameter('partstat'), 'ACCEPTED');
    t.equal(vevent!.getFirstPropertyValue('status'), 'CONFIRMED');
  }
});

t.test('times in UTC, sequence, several events, optional fields left out', async (t) => {
  const ics = writeCalendar({
    method: 'PUBLISH',
    events: [
      event(),
      event({
        uid: 'second@cop.example.org',
        sequence: 0,
        status: 'CANCELLED',
        description: null,
        url: null,
        organizer: null,
        attendee: null,
        transparency: null,
        lastModified: new Date('2026-10-01T08:00:00Z'),
      }),
    ],
  });
  const { events } = parse(ics);
  t.equal(events.length, 2);
  const [first, second] = events;
  t.equal(
    (first!.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString(),
    '2026-11-23T12:00:00.000Z',
  );
  t.equal(
    (first!.getFirstPropertyValue('dtend') as ICAL.Time).toJSDate().toISOString(),
    '2026-11-23T16:30:00.000Z',
  );
  t.equal(
    (first!.getFirstPropertyValue('dtstamp') as ICAL.Time).toJSDate().toISOString(),
    '2026-11-01T10:00:00.000Z',
  );
  t.equal(first!.getFirstPropertyValue('sequence'), 2);
  t.equal(second!.getFirstPropertyValue('status'), 'CANCELLED');
  t.same(propertyNames(second!), [
    'uid',
    'sequence',
    'dtstamp',
    'last-modified',
    'dtstart',
    'dtend',
    'summary',
    'location',
    'status',
  ]);
  t.throws(() => writeCalendar({ method: 'PUBLISH', events: [event({ sequence: -1 })] }), RangeError);
  t.throws(() => writeCalendar({ method: 'PUBLISH', events: [event({ sequence: 1.5 })] }), RangeError);
});

/** Folding as the RFC says it, a character at a time: what foldLine must give for every line. */
function foldByCharacter(line: string): string {
  const parts: string[] = [];
  let current = '';
  for (const char of line) {
    const limit = parts.length === 0 ? 75 : 74;
    if (Buffer.byteLength(current + char) > limit) {
      parts.push(current);
      current = '';
    }
    current += char;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

t.test('folding gives what folding a character at a time gives, ASCII or not', async (t) => {
  const lengths = [0, 1, 74, 75, 76, 148, 149, 150, 151, 223, 224, 225, 300];
  const alphabets = ['x', 'é', '🏙', 'a€', '\ud800'];
  for (const length of lengths) {
    for (const alphabet of alphabets) {
      const line = Array.from({ length }, (_, i) => [...alphabet][i % [...alphabet].length]).join('');
      t.equal(foldLine(line), foldByCharacter(line), `${length} × ${JSON.stringify(alphabet)}`);
    }
  }
  t.equal(foldLine('x'.repeat(150)), `${'x'.repeat(75)}\r\n ${'x'.repeat(74)}\r\n x`);
});

t.test('folding: 75 octets per line, never inside a character, unfolds to the original', async (t) => {
  for (const line of ['x'.repeat(300), `SUMMARY:${'é'.repeat(100)}`, `SUMMARY:${'🏙'.repeat(60)}`]) {
    const folded = foldLine(line);
    for (const part of folded.split('\r\n')) t.ok(Buffer.byteLength(part) <= 75);
    t.notMatch(folded, /\uFFFD/);
    t.equal(folded.replace(/\r\n /g, ''), line);
  }
  const long = 'Een lange titel met accenten: café, crème brûlée en één enkele 🏙 erin. '.repeat(4);
  const { events } = parse(writeCalendar({ method: 'PUBLISH', events: [event({ summary: long })] }));
  t.equal(events[0]!.getFirstPropertyValue('summary'), long);
});
