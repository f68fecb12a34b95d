import { durationMs } from '@citydeals/calendar';
import { emailKinds } from '@citydeals/contracts';
import ICAL from 'ical.js';
import { simpleParser } from 'mailparser';
import t from 'tap';
import {
  afterAttempt,
  classifySendError,
  mailLanguage,
  retryDelayMs,
  withoutAddress,
} from '../../src/email/email.rules.ts';
import { reminderLead, renderMail } from '../../src/email/email.templates.ts';
import { buildIcs } from '../../src/email/ics.format.ts';
import { formatMime } from '../../src/email/mime.format.ts';
import { addressHash, unsubscribeToken, verifyUnsubscribeToken } from '../../src/email/unsubscribe.rules.ts';
import { decideDueReminder, planReminders } from '../../src/reminders/reminder.rules.ts';

const hour = 3_600_000;
const day = 24 * hour;
const startsAt = new Date('2026-03-12T12:00:00Z');

t.test('reminder plan: one row per offset, late offsets skipped, removed offsets cancelled', async (t) => {
  const early = planReminders({
    startsAt,
    offsets: ['P7D', 'P1D'],
    now: new Date(startsAt.getTime() - 10 * day),
    existing: [],
  });
  t.same(early.upsert, [
    { offset: 'P7D', dueAt: new Date(startsAt.getTime() - 7 * day), status: 'pending' },
    { offset: 'P1D', dueAt: new Date(startsAt.getTime() - day), status: 'pending' },
  ]);
  const late = planReminders({
    startsAt,
    offsets: ['P7D', 'P1D'],
    now: new Date(startsAt.getTime() - 3 * day),
    existing: [],
  });
  t.same(
    late.upsert.map((p) => [p.offset, p.status]),
    [
      ['P7D', 'skipped'],
      ['P1D', 'pending'],
    ],
    'late registration: no stale reminder',
  );
  const atDue = planReminders({
    startsAt,
    offsets: ['P1D'],
    now: new Date(startsAt.getTime() - day),
    existing: [],
  });
  t.equal(atDue.upsert[0]!.status, 'skipped', 'exactly at the due time counts as passed');
  const moved = planReminders({
    startsAt: new Date(startsAt.getTime() + 7 * day),
    offsets: ['P1D'],
    now: new Date(startsAt.getTime() - 3 * day),
    existing: [
      { offset: 'P7D', status: 'pending' },
      { offset: 'P1D', status: 'queued' },
      { offset: 'PT2H', status: 'skipped' },
    ],
  });
  t.same(moved.upsert, [], 'a reminder already queued is not planned again');
  t.same(moved.cancel, ['P7D'], 'an offset no longer in the meeting is cancelled');
  const revived = planReminders({
    startsAt,
    offsets: ['P1D'],
    now: new Date(startsAt.getTime() - 5 * day),
    existing: [{ offset: 'P1D', status: 'cancelled' }],
  });
  t.same(
    revived.upsert.map((p) => p.status),
    ['pending'],
    'promoted after being waitlisted: planned again',
  );
});

t.test('due reminder decisions', async (t) => {
  const seated = { status: 'confirmed', hasAddress: true };
  const meeting = { startsAt, status: 'published' };
  const before = new Date(startsAt.getTime() - hour);
  t.equal(decideDueReminder({ now: before, meeting, recipient: seated, suppressed: false }), 'send');
  t.equal(decideDueReminder({ now: startsAt, meeting, recipient: seated, suppressed: false }), 'expired');
  t.equal(
    decideDueReminder({
      now: before,
      meeting: { ...meeting, status: 'cancelled' },
      recipient: seated,
      suppressed: false,
    }),
    'cancelled',
  );
  t.equal(
    decideDueReminder({
      now: before,
      meeting,
      recipient: { ...seated, status: 'waitlisted' },
      suppressed: false,
    }),
    'cancelled',
  );
  t.equal(
    decideDueReminder({
      now: before,
      meeting,
      recipient: { ...seated, hasAddress: false },
      suppressed: false,
    }),
    'cancelled',
  );
  t.equal(decideDueReminder({ now: before, meeting, recipient: seated, suppressed: true }), 'suppressed');
  t.equal(
    decideDueReminder({ now: before, meeting: undefined, recipient: seated, suppressed: false }),
    'cancelled',
  );
});

t.test('ISO durations', async (t) => {
  t.equal(durationMs('P7D'), 7 * day);
  t.equal(durationMs('PT90M'), 90 * 60_000);
  t.equal(durationMs('P1W'), 7 * day);
  t.equal(durationMs('P1DT2H'), day + 2 * hour);
  t.throws(() => durationMs('P'));
  t.throws(() => durationMs('7 days'));
});

t.test(
  "SMTP outcomes: 4xx retried with growing delays, 5xx final, no server not the mail's fault",
  async (t) => {
    const policy = { maxAttempts: 4, baseMs: 1000, maxMs: 5000 };
    t.same(
      [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 1000, 5000)),
      [1000, 2000, 4000, 5000, 5000],
    );
    const deferred = classifySendError(
      Object.assign(new Error('x'), { responseCode: 451, response: '451 4.7.1 later' }),
    );
    if (deferred.kind !== 'transient') throw new Error(`451 classified as ${deferred.kind}`);
    t.same(deferred, { kind: 'transient', smtpCode: 451, error: '451 4.7.1 later' });
    t.same(afterAttempt(deferred, 1, policy), { status: 'queued', nextAttemptInMs: 1000 });
    t.same(afterAttempt(deferred, 4, policy), {
      status: 'failed',
      reason: 'retries_exhausted',
      suppress: false,
    });
    const refused = classifySendError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }));
    t.same(refused, { kind: 'unreachable', error: 'connect ECONNREFUSED' });
    for (const code of ['ECONNECTION', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED']) {
      t.equal(classifySendError(Object.assign(new Error(code), { code })).kind, 'unreachable', code);
    }
    t.equal(
      classifySendError(Object.assign(new Error('x'), { responseCode: 421, response: '421 closing' })).kind,
      'unreachable',
      '421: the server turns everyone away',
    );
    t.equal(
      classifySendError(Object.assign(new Error('x'), { code: 'EENVELOPE', responseCode: 452 })).kind,
      'transient',
      'a 4xx about a recipient keeps its backoff',
    );
    const rejected = classifySendError(
      Object.assign(new Error('x'), { responseCode: 550, response: '550 5.1.1 <a@b.nl>: unknown' }),
    );
    if (rejected.kind !== 'permanent') throw new Error(`550 classified as ${rejected.kind}`);
    t.equal(rejected.kind, 'permanent');
    t.same(afterAttempt(rejected, 1, policy), { status: 'failed', reason: 'rejected', suppress: true });
    t.same(afterAttempt({ kind: 'sent' }, 3, policy), { status: 'sent' });
    t.equal(withoutAddress('550 5.1.1 <a@b.nl>: unknown', 'a@b.nl'), '550 5.1.1 <<recipient>>: unknown');
    t.equal(withoutAddress('550 other.person@example.org unknown', null), '550 <address> unknown');
  },
);

t.test("language: the attendee's choice wins; the meeting's language only when there is none", async (t) => {
  t.equal(mailLanguage('nl', 'nl'), 'nl');
  t.equal(mailLanguage('en', 'nl'), 'en');
  t.equal(mailLanguage('nl', 'en'), 'nl', 'a Dutch choice in an English meeting');
  t.equal(mailLanguage(null, 'en'), 'en', 'no choice: the meeting decides');
  t.equal(mailLanguage(undefined, 'nl'), 'nl');
});

t.test('reminder wording: every allowed offset, both languages, exactly that long', async (t) => {
  const minute = 60_000;
  const cases: [string, string, string][] = [
    ['PT1M', 'in 1 minute', 'over 1 minuut'],
    ['PT30M', 'in 30 minutes', 'over 30 minuten'],
    ['PT59M', 'in 59 minutes', 'over 59 minuten'],
    ['PT1H', 'in 1 hour', 'over 1 uur'],
    ['PT90M', 'in 1 hour and 30 minutes', 'over 1 uur en 30 minuten'],
    ['PT2H', 'in 2 hours', 'over 2 uur'],
    ['PT23H59M', 'in 23 hours and 59 minutes', 'over 23 uur en 59 minuten'],
    ['P1D', 'tomorrow', 'morgen'],
    ['PT36H', 'in 1 day and 12 hours', 'over 1 dag en 12 uur'],
    ['P1DT1H1M', 'in 1 day, 1 hour and 1 minute', 'over 1 dag, 1 uur en 1 minuut'],
    ['P2D', 'in 2 days', 'over 2 dagen'],
    ['P1W', 'in 7 days', 'over 7 dagen'],
    ['P90D', 'in 90 days', 'over 90 dagen'],
  ];
  for (const [offset, en, nl] of cases) {
    t.equal(reminderLead(durationMs(offset), 'en'), en, `en ${offset}`);
    t.equal(reminderLead(durationMs(offset), 'nl'), nl, `nl ${offset}`);
    t.match(renderMail('reminder', 'en', { ...sample(), reminderOffset: offset }).subject, ` is ${en}`);
    t.match(renderMail('reminder', 'nl', { ...sample(), reminderOffset: offset }).text, ` is ${nl}.`);
  }
  // Every offset registration accepts (whole minutes, 1 minute to 90 days): read back, the words give the
  // same length, and no unit is named with 0.
  const units: Record<string, number> = {
    ...{ day: 1440, days: 1440, hour: 60, hours: 60, minute: 1, minutes: 1 },
    ...{ dag: 1440, dagen: 1440, uur: 60, minuut: 1, minuten: 1 },
  };
  const unitOf = (word: string) => units[word];
  let wrong = 0;
  for (let minutes = 1; minutes <= 90 * 1440; minutes += 1) {
    for (const language of ['en', 'nl'] as const) {
      const words = reminderLead(minutes * minute, language);
      if (words === 'tomorrow' || words === 'morgen') {
        if (minutes !== 1440) wrong += 1;
        continue;
      }
      let total = 0;
      for (const [, n, unit] of words.matchAll(/(\d+) ([a-z]+)/g)) {
        if (Number(n) === 0 || unitOf(unit!) === undefined) wrong += 1;
        total += Number(n) * (unitOf(unit!) ?? 0);
      }
      if (total !== minutes) wrong += 1;
    }
  }
  t.equal(wrong, 0, 'every offset worded exactly, in both languages');
});

t.test('unsubscribe tokens are unguessable and bound to the registration', async (t) => {
  const secret = 's'.repeat(40);
  const token = unsubscribeToken(secret, 'reg-1');
  t.equal(verifyUnsubscribeToken(secret, token), 'reg-1');
  t.equal(verifyUnsubscribeToken('x'.repeat(40), token), null, 'another secret');
  t.equal(verifyUnsubscribeToken(secret, token.replace('reg-1', 'reg-2')), null, 'another registration');
  t.equal(verifyUnsubscribeToken(secret, 'reg-1'), null);
  t.ok(token.length > 40);
  t.equal(addressHash(secret, ' A@Example.org'), addressHash(secret, 'a@example.org'));
});

t.test('ICS: parses, carries METHOD, UID, SEQUENCE; escapes and folds', async (t) => {
  const ics = buildIcs({
    method: 'REQUEST',
    uid: 'reg-1@cop.example.org',
    sequence: 3,
    stamp: new Date('2026-01-01T10:00:00Z'),
    startsAt,
    endsAt: new Date(startsAt.getTime() + 4 * hour),
    title: 'CoP; City Deals, voorjaar — een heel lange titel die zeker langer is dan vijfenzeventig octetten',
    location: 'Hangar, Den Haag',
    description: 'Regel één\nRegel twee',
    url: null,
    organizer: { name: 'City Deals', email: 'cop@example.org' },
    attendee: { name: 'Sanne "S" de Vries', email: 'sanne@example.org' },
  });
  t.ok(
    ics.split('\r\n').every((line) => Buffer.byteLength(line) <= 75),
    'lines folded at 75 octets',
  );
  const calendar = new ICAL.Component(ICAL.parse(ics));
  const event = calendar.getFirstSubcomponent('vevent')!;
  t.equal(calendar.getFirstPropertyValue('method'), 'REQUEST');
  t.equal(event.getFirstPropertyValue('uid'), 'reg-1@cop.example.org');
  t.equal(Number(event.getFirstPropertyValue('sequence')), 3);
  t.equal(
    event.getFirstPropertyValue('summary'),
    'CoP; City Deals, voorjaar — een heel lange titel die zeker langer is dan vijfenzeventig octetten',
  );
  t.equal(event.getFirstPropertyValue('description'), 'Regel één\nRegel twee');
  t.equal((event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().getTime(), startsAt.getTime());
  const cancel = new ICAL.Component(ICAL.parse(buildIcs({ ...icsBase(), method: 'CANCEL' })));
  t.equal(cancel.getFirstPropertyValue('method'), 'CANCEL');
  t.equal(cancel.getFirstSubcomponent('vevent')!.getFirstPropertyValue('status'), 'CANCELLED');
});

t.test('ICS in a mail: no line break or control character in an admin field adds a line', async (t) => {
  for (const breaker of ['\r', '\n', '\r\n', '\u2028', '\u000b', '\u0000']) {
    const injected = `CoP${breaker}ATTENDEE:mailto:evil@example.org${breaker}END:VEVENT`;
    const ics = buildIcs({
      ...icsBase(),
      title: injected,
      location: `Hangar${breaker}METHOD:CANCEL`,
      description: `Bevestigd${breaker}URL:https://evil.example.org`,
      attendee: { name: `Sanne${breaker}ORGANIZER:mailto:evil@example.org`, email: 'sanne@example.org' },
    });
    const raw = formatMime(
      {
        from: { name: 'City Deals', address: 'cop@example.org' },
        to: 'sanne@example.org',
        subject: 's',
        messageId: '<m@example.org>',
        date: startsAt,
        headers: [],
        text: 't',
        html: '<p>t</p>',
        calendar: { method: 'REQUEST', content: ics, filename: 'invite.ics' },
        images: [],
      },
      'boundary0123',
    );
    const mail = await simpleParser(raw);
    const part = mail.attachments.find((a) => a.contentType === 'text/calendar')!;
    const text = part.content.toString('utf8');
    // Code points, not the characters: a raw U+2028 would break the TAP output itself.
    const label = [...breaker].map((c) => `U+${c.codePointAt(0)!.toString(16)}`).join(' ');
    t.notMatch(
      text,
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters.
      /\r(?!\n)|(?<!\r)\n|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u2028]/,
      `${label}: no stray break`,
    );
    const calendar = new ICAL.Component(ICAL.parse(text));
    t.equal(calendar.getFirstPropertyValue('method'), 'REQUEST', `${label}: method unchanged`);
    const events = calendar.getAllSubcomponents('vevent');
    t.equal(events.length, 1, `${label}: one event`);
    t.same(
      events[0]!.getAllProperties().map((p) => p.name),
      [
        'uid',
        'sequence',
        'dtstamp',
        'dtstart',
        'dtend',
        'summary',
        'description',
        'location',
        'organizer',
        'attendee',
        'status',
        'transp',
      ],
      `${label}: no property added`,
    );
    t.equal(
      events[0]!.getFirstProperty('organizer')!.getFirstValue(),
      'mailto:o@x.org',
      `${label}: organizer kept`,
    );
  }
});

function icsBase() {
  return {
    method: 'REQUEST' as const,
    uid: 'u@x',
    sequence: 1,
    stamp: startsAt,
    startsAt,
    endsAt: new Date(startsAt.getTime() + hour),
    title: 't',
    location: 'l',
    description: 'd',
    url: null,
    organizer: { name: 'o', email: 'o@x.org' },
    attendee: { name: 'a', email: 'a@x.org' },
  };
}

t.test('every template renders in both languages with time, place and the manage link', async (t) => {
  // Mails sent before a seat or after the meeting carry their own single-use link instead, and no place
  // (the venue is for those who hold a seat).
  const ownLink: Partial<Record<(typeof emailKinds)[number], string>> = {
    address_confirmation: 'https://cop.example.org/bevestigen/ctok',
    feedback_survey: 'https://cop.example.org/evaluatie/stok',
  };
  for (const language of ['nl', 'en'] as const) {
    for (const kind of emailKinds) {
      const mail = renderMail(kind, language, {
        name: 'Sanne <de Vries>',
        meeting: {
          title: 'CoP City Deals',
          startsAt,
          endsAt: new Date(startsAt.getTime() + 4.5 * hour),
          timeZone: 'Europe/Amsterdam',
          venueName: 'Hangar',
          venueAddress: 'PTT-terrein, Den Haag',
          onlineUrl: null,
        },
        manageUrl: 'https://cop.example.org/beheren/tok',
        position: 4,
        previous: {
          startsAt: new Date(startsAt.getTime() - 7 * day),
          endsAt: new Date(startsAt.getTime() - 7 * day + hour),
        },
        reason: 'Zaal niet beschikbaar',
        reminderOffset: 'P1D',
        unsubscribeUrl: 'https://n.example.org/unsubscribe/x',
        changes: ['venue', 'onlineUrl'],
        hasCalendar: true,
        confirmUrl: ownLink.address_confirmation!,
        surveyUrl: ownLink.feedback_survey!,
        acceptUrl: 'https://cop.example.org/plek/otok',
        linkExpiresAt: new Date(startsAt.getTime() + 7 * day),
        message: { subject: 'Praktische informatie', body: 'De zaal is open vanaf 12:30.' },
        session: {
          title: 'Ontwerpsessie <CoP>',
          startsAt: new Date(startsAt.getTime() + 2 * hour),
          endsAt: new Date(startsAt.getTime() + 3 * hour),
          waited: true,
        },
      });
      const label = `${language}/${kind}`;
      const link = ownLink[kind];
      if (link) {
        t.ok(mail.text.includes(link) && mail.html.includes(link), `${label}: its own link`);
        t.notOk(mail.text.includes('beheren/tok'), `${label}: no manage link`);
        t.ok(
          mail.text.includes(language === 'nl' ? '19 maart 2026' : '19 March 2026'),
          `${label}: until when`,
        );
      }
      if (kind === 'waitlist_offer') {
        t.ok(
          mail.text.includes('https://cop.example.org/plek/otok') &&
            mail.html.includes('href="https://cop.example.org/plek/otok"'),
          `${label}: the accept link`,
        );
        t.ok(
          mail.text.includes(language === 'nl' ? '19 maart 2026' : '19 March 2026'),
          `${label}: until when`,
        );
      }
      if (kind === 'session_place') {
        t.ok(
          mail.text.includes('Ontwerpsessie <CoP>') && mail.html.includes('Ontwerpsessie &lt;CoP&gt;'),
          `${label}: the session's title`,
        );
        t.ok(
          mail.text.includes('15:00 – 16:00') && mail.html.includes('15:00 – 16:00'),
          `${label}: the session's time in the meeting's zone`,
        );
      }
      t.ok(mail.subject.length > 5, `${label}: subject`);
      t.ok(
        mail.text.includes('13:00') && mail.html.includes('13:00'),
        `${label}: 13:00 Amsterdam time (12:00 UTC)`,
      );
      if (!link) {
        t.ok(mail.text.includes('Hangar') && mail.html.includes('Hangar'), `${label}: place`);
        t.ok(
          mail.text.includes('https://cop.example.org/beheren/tok') &&
            mail.html.includes('https://cop.example.org/beheren/tok'),
          `${label}: manage link`,
        );
      }
      t.ok(
        mail.html.includes('Sanne &lt;de Vries&gt;') && !mail.html.includes('<de Vries>'),
        `${label}: HTML escaped`,
      );
      t.ok(mail.text.includes('Sanne <de Vries>'), `${label}: text not escaped`);
    }
  }
  t.match(renderMail('waitlisted', 'nl', sample()).text, /plaats 4/);
  t.match(
    renderMail('meeting_changed', 'nl', { ...sample(), changes: ['venue'] }).text,
    /gewijzigd \(locatie\)/,
  );
  t.match(renderMail('meeting_changed', 'en', { ...sample(), changes: ['title'] }).text, /changed \(title\)/);
  t.match(renderMail('reminder', 'en', { ...sample(), reminderOffset: 'P7D' }).subject, /in 7 days/);
  // A choice that waited for the meeting seat got its place with the seat, not because one came free.
  const withSeat = {
    ...sample(),
    session: { title: 'Ontwerpsessie', startsAt, endsAt: new Date(startsAt.getTime() + hour), waited: false },
  };
  for (const [language, says] of [
    ['nl', /Nu je een plek hebt bij de bijeenkomst, heb je ook een plek in de sessie ‘Ontwerpsessie’/],
    ['en', /Now that you have a seat at the meeting, you also have a place in the session “Ontwerpsessie”/],
  ] as const) {
    const mail = renderMail('session_place', language, withSeat);
    t.match(mail.text, says, `${language}/session_place: the place came with the seat`);
    t.notMatch(mail.text, /came free|vrijgekomen/, `${language}/session_place: not that one came free`);
  }
});

function sample() {
  return {
    name: 'A',
    meeting: {
      title: 'T',
      startsAt,
      endsAt: new Date(startsAt.getTime() + hour),
      timeZone: 'Europe/Amsterdam',
      venueName: 'V',
      venueAddress: 'W',
      onlineUrl: null,
    },
    manageUrl: 'https://m.example.org/x',
    position: 4,
    reminderOffset: 'P1D',
    unsubscribeUrl: 'https://u.example.org/x',
  };
}
