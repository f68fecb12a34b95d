import { emailKinds } from '@citydeals/contracts';
import ICAL from 'ical.js';
import t from 'tap';
import {
  afterAttempt,
  classifySendError,
  mailLanguage,
  retryDelayMs,
  withoutAddress,
} from '../../src/email/email.rules.ts';
import { renderMail } from '../../src/email/email.templates.ts';
import { buildIcs } from '../../src/email/ics.format.ts';
import { addressHash, unsubscribeToken, verifyUnsubscribeToken } from '../../src/email/unsubscribe.rules.ts';
import { decideDueReminder, durationMs, planReminders } from '../../src/reminders/reminder.rules.ts';

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

t.test('language: Dutch unless the registration or the meeting says English', async (t) => {
  t.equal(mailLanguage('nl', 'nl'), 'nl');
  t.equal(mailLanguage('en', 'nl'), 'en');
  t.equal(mailLanguage('nl', 'en'), 'en');
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
        hasCalendar: true,
      });
      const label = `${language}/${kind}`;
      t.ok(mail.subject.length > 5, `${label}: subject`);
      t.ok(
        mail.text.includes('13:00') && mail.html.includes('13:00'),
        `${label}: 13:00 Amsterdam time (12:00 UTC)`,
      );
      t.ok(mail.text.includes('Hangar') && mail.html.includes('Hangar'), `${label}: place`);
      t.ok(
        mail.text.includes('https://cop.example.org/beheren/tok') &&
          mail.html.includes('https://cop.example.org/beheren/tok'),
        `${label}: manage link`,
      );
      t.ok(
        mail.html.includes('Sanne &lt;de Vries&gt;') && !mail.html.includes('<de Vries>'),
        `${label}: HTML escaped`,
      );
      t.ok(mail.text.includes('Sanne <de Vries>'), `${label}: text not escaped`);
    }
  }
  t.match(renderMail('waitlisted', 'nl', sample()).text, /plaats 4/);
  t.match(renderMail('reminder', 'en', { ...sample(), reminderOffset: 'P7D' }).subject, /in 7 days/);
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
