import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { attendeeRegistered, createEvent, natsSubjectOf } from '@citydeals/contracts';
import { namespace } from '@citydeals/messaging';
import { newEventId, shutdown } from '@citydeals/service-kit';
import { adminHeaders, eventually, startTestService } from '@citydeals/testkit';
import ICAL from 'ical.js';
import { sql } from 'kysely';
import t from 'tap';
import { loadServiceConfig } from '../../src/config.ts';
import { emailContextFor } from '../../src/email/email.module.ts';
import { reminderMailsOf } from '../../src/email/reminder.mails.ts';
import { ReminderDispatcher } from '../../src/reminders/reminder.dispatcher.ts';
import { reminderDueAt } from '../../src/reminders/reminder.rules.ts';
import { startService } from '../../src/service.ts';
import {
  attendeeSnapshot,
  eventFeed,
  meetingSnapshot,
  type ReceivedMail,
  startSmtpServer,
  testClock,
} from './email.fixture.ts';

const day = 86_400_000;

// 451 on the first attempt for "retry-*" addresses, 550 always for "reject-*".
const smtp = await startSmtpServer({
  reply: (address, attempt) =>
    address.startsWith('reject-') ? 550 : address.startsWith('retry-') && attempt === 1 ? 451 : undefined,
});
const ctx = await startTestService((env) => startService(loadServiceConfig(env)), shutdown, {
  SMTP_URL: smtp.url,
  MAIL_POLL_MS: '50',
  REMINDER_POLL_MS: '50',
  MAIL_RETRY_BASE_MS: '150',
  MAIL_RETRY_MAX_MS: '1000',
  PUBLIC_BASE_URL: 'http://notification.test',
});
t.teardown(async () => {
  await ctx.close();
  await smtp.close();
});
const { runtime, http } = ctx.service;
const db = runtime.db;
const feed = eventFeed(runtime.js, namespace(ctx.namespace));
const config = loadServiceConfig(ctx.env);

/** A second dispatcher on the same database, with a clock of its own: a replica whose time has come. */
function dispatcherAt(at: Date, batchSize = 50) {
  const clock = testClock();
  clock.advanceTo(at);
  const email = emailContextFor(config, clock);
  return new ReminderDispatcher(
    runtime.indexPlannedDb,
    { clock: email.clock, mails: reminderMailsOf(email) },
    { batchSize, pollMs: 50 },
    runtime.logger,
  );
}

async function dispatchAllAt(at: Date) {
  const dispatcher = dispatcherAt(at);
  while ((await dispatcher.runOnce()).claimed > 0);
  return dispatcher;
}

function parseIcs(mail: ReceivedMail) {
  const text = mail.ics();
  if (!text) throw new Error(`mail "${mail.parsed.subject}" has no calendar part`);
  const calendar = new ICAL.Component(ICAL.parse(text));
  const event = calendar.getFirstSubcomponent('vevent')!;
  return {
    method: calendar.getFirstPropertyValue('method'),
    uid: event.getFirstPropertyValue('uid'),
    sequence: Number(event.getFirstPropertyValue('sequence')),
    start: (event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate(),
    end: (event.getFirstPropertyValue('dtend') as ICAL.Time).toJSDate(),
    status: event.getFirstPropertyValue('status'),
  };
}

const reminders = (registrationId: string) =>
  db
    .selectFrom('reminder')
    .select(['reminder_offset', 'due_at', 'status'])
    .where('registration_id', '=', registrationId)
    .orderBy('reminder_offset')
    .execute();

const inboxHas = async (eventId: string) =>
  Boolean(await db.selectFrom('inbox').select('event_id').where('event_id', '=', eventId).executeTakeFirst());

const amsterdamTime = (d: Date, locale = 'nl-NL') =>
  new Intl.DateTimeFormat(locale, {
    timeZone: 'Europe/Amsterdam',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d);

t.test(
  'registration mails: confirmed, waitlisted, promoted, cancelled — text, HTML, ICS and manage link',
  async (t) => {
    const meeting = meetingSnapshot();
    await feed.scheduled(meeting);
    const sanne = attendeeSnapshot(meeting.meetingId, { name: 'Sanne de Vries' });
    const daan = attendeeSnapshot(meeting.meetingId, {
      name: 'Daan Bakker',
      language: 'en',
      status: 'waitlisted',
      position: 2,
    });
    await feed.registered(sanne);
    await feed.waitlisted(daan);
    t.ok(await eventually(() => smtp.to(sanne.email).length === 1 && smtp.to(daan.email).length === 1));
    await feed.promoted({ ...daan, version: 2, status: 'confirmed', position: null }, 1);
    await feed.cancelled({ ...sanne, version: 2, status: 'cancelled', position: null }, 'confirmed');
    t.ok(await eventually(() => smtp.to(sanne.email).length === 2 && smtp.to(daan.email).length === 2));

    const [confirmed, cancelled] = smtp.to(sanne.email);
    const [waitlisted, promoted] = smtp.to(daan.email);
    const start = new Date(meeting.startsAt);
    for (const mail of [confirmed!, cancelled!, waitlisted!, promoted!]) {
      t.ok(mail.parsed.text && mail.parsed.html, `${mail.kind}: text and HTML`);
      t.match(mail.messageId, /^<[0-9a-f-]{36}@cop\.citydeals\.example\.org>$/, `${mail.kind}: Message-ID`);
      t.ok(mail.parsed.text!.includes(amsterdamTime(start)), `${mail.kind}: local time in the body`);
      t.ok(mail.parsed.text!.includes(meeting.venue.name), `${mail.kind}: place in the body`);
      const manageUrl = mail.to === sanne.email ? sanne.manageUrl : daan.manageUrl;
      t.ok(
        mail.parsed.text!.includes(manageUrl) && String(mail.parsed.html).includes(manageUrl),
        `${mail.kind}: manage link`,
      );
      t.notOk(mail.header('list-unsubscribe'), `${mail.kind}: mandatory mail has no unsubscribe`);
    }
    t.equal(confirmed!.kind, 'registration_confirmed');
    t.match(confirmed!.parsed.subject, /^Aanmelding bevestigd/);
    t.match(confirmed!.parsed.text, /Beste Sanne de Vries/);
    t.ok(
      confirmed!.parsed.text!.includes(
        new Intl.DateTimeFormat('nl-NL', {
          timeZone: 'Europe/Amsterdam',
          weekday: 'long',
          day: 'numeric',
          month: 'long',
          year: 'numeric',
        }).format(start),
      ),
      'Dutch date',
    );
    t.equal(waitlisted!.kind, 'waitlisted');
    t.match(waitlisted!.parsed.subject, /waitlist/, 'English when the registration asks for it');
    t.match(waitlisted!.parsed.text, /position 2/);
    t.equal(waitlisted!.ics(), undefined, 'no calendar entry without a seat');
    t.equal(promoted!.kind, 'promoted');

    const invite = parseIcs(confirmed!);
    t.same(
      {
        method: invite.method,
        sequence: invite.sequence,
        start: invite.start.getTime(),
        end: invite.end.getTime(),
      },
      { method: 'REQUEST', sequence: 0, start: start.getTime(), end: new Date(meeting.endsAt).getTime() },
    );
    const withdrawal = parseIcs(cancelled!);
    t.equal(withdrawal.method, 'CANCEL', 'cancellation withdraws the calendar entry');
    t.equal(withdrawal.uid, invite.uid, 'same UID as the invitation');
    t.equal(parseIcs(promoted!).method, 'REQUEST');
    t.not(parseIcs(promoted!).uid, invite.uid, 'each attendee has their own calendar entry');
    t.same(
      (await reminders(daan.registrationId)).map((r) => r.status),
      ['pending', 'pending'],
      'promotion schedules reminders',
    );
    t.same(
      (await reminders(sanne.registrationId)).map((r) => r.status),
      ['cancelled', 'cancelled'],
      'cancellation stops reminders',
    );

    // An older event arriving late moves nothing back and sends nothing.
    const stale = await feed.registered(sanne);
    t.ok(await eventually(() => inboxHas(stale.id)));
    const row = await db
      .selectFrom('recipient')
      .selectAll()
      .where('registration_id', '=', sanne.registrationId)
      .executeTakeFirstOrThrow();
    t.equal(row.status, 'cancelled');
    t.equal(row.version, 2);
    t.equal(
      await db
        .selectFrom('email')
        .select('id')
        .where('registration_id', '=', sanne.registrationId)
        .execute()
        .then((r) => r.length),
      2,
    );
  },
);

t.test(
  'a burst of attendee events, applied several per statement, has the effects of applying them one by one',
  async (t) => {
    const meetings = [meetingSnapshot(), meetingSnapshot({ reminderOffsets: ['P1D'] })];
    for (const m of meetings) await feed.scheduled(m);
    t.ok(
      await eventually(
        async () =>
          (
            await db
              .selectFrom('meeting')
              .select('id')
              .where(
                'id',
                'in',
                meetings.map((m) => m.meetingId),
              )
              .execute()
          ).length === 2,
      ),
    );
    const seated = Array.from({ length: 24 }, (_, i) => attendeeSnapshot(meetings[i % 2]!.meetingId));
    const waiting = Array.from({ length: 6 }, (_, i) =>
      attendeeSnapshot(meetings[0]!.meetingId, { status: 'waitlisted', position: i + 1 }),
    );
    // Published at once, so the consumer's batches hold runs of each kind, and a repeat of an event (a new
    // event id, the same version) lands in a run with its original.
    const first = await Promise.all([
      ...seated.map((a) => feed.registered(a)),
      ...waiting.map((a) => feed.waitlisted(a)),
      ...seated.slice(0, 4).map((a) => feed.registered(a)),
    ]);
    t.ok(await eventually(async () => (await Promise.all(first.map((e) => inboxHas(e.id)))).every(Boolean)));
    const leaving = seated.slice(4, 10);
    const second = await Promise.all(
      leaving.map((a) =>
        feed.cancelled({ ...a, version: 2, status: 'cancelled', position: null }, 'confirmed'),
      ),
    );
    t.ok(await eventually(async () => (await Promise.all(second.map((e) => inboxHas(e.id)))).every(Boolean)));

    const ids = [...seated, ...waiting].map((a) => a.registrationId);
    const { rows: written } = await sql<{ n: number }>`
      select count(distinct xmin::text)::int as n from notification.recipient
      where registration_id = any(${seated.slice(10).map((a) => a.registrationId)}::uuid[])`.execute(db);
    t.ok(written[0]!.n < 14, `14 registrations written by ${written[0]!.n} transactions`);

    const mails = await db
      .selectFrom('email')
      .select(['registration_id', 'kind'])
      .where('registration_id', 'in', ids)
      .execute();
    const kindsOf = (id: string) =>
      mails
        .filter((m) => m.registration_id === id)
        .map((m) => m.kind)
        .sort();
    for (const a of seated) {
      const left = leaving.includes(a);
      t.same(
        kindsOf(a.registrationId),
        left ? ['registration_cancelled', 'registration_confirmed'] : ['registration_confirmed'],
        `${a.name}: ${left ? 'confirmed, then cancelled' : 'confirmed once'}`,
      );
      const offsets = a.meetingId === meetings[0]!.meetingId ? 2 : 1;
      t.same(
        (await reminders(a.registrationId)).map((r) => r.status),
        Array(offsets).fill(left ? 'cancelled' : 'pending'),
        `${a.name}: reminders ${left ? 'cancelled' : 'planned'} for each offset of the meeting`,
      );
    }
    for (const a of waiting) {
      t.same(kindsOf(a.registrationId), ['waitlisted'], `${a.name}: waitlisted once`);
      t.same(await reminders(a.registrationId), [], `${a.name}: no reminders without a seat`);
    }
    t.ok(
      await eventually(() =>
        [...seated, ...waiting].every((a) => smtp.to(a.email).length === kindsOf(a.registrationId).length),
      ),
      'every mail queued was sent, once',
    );
  },
);

t.test(
  'reschedule re-times pending reminders and sends an ICS update with the same UID and a higher SEQUENCE',
  async (t) => {
    const before = meetingSnapshot();
    await feed.scheduled(before);
    const a = attendeeSnapshot(before.meetingId);
    const b = attendeeSnapshot(before.meetingId, { language: 'en' });
    await feed.registered(a);
    await feed.registered(b);
    t.ok(await eventually(() => smtp.to(a.email).length === 1 && smtp.to(b.email).length === 1));
    const after = {
      ...before,
      version: 2,
      startsAt: new Date(Date.parse(before.startsAt) + 7 * day).toISOString(),
      endsAt: new Date(Date.parse(before.endsAt) + 7 * day).toISOString(),
      icsSequence: 1,
    };
    await feed.rescheduled(after, before);
    t.ok(await eventually(() => smtp.to(a.email).length === 2 && smtp.to(b.email).length === 2));
    for (const attendee of [a, b]) {
      const [invite, update] = smtp.to(attendee.email).map(parseIcs);
      t.equal(update!.uid, invite!.uid, 'same UID');
      t.ok(update!.sequence > invite!.sequence, 'higher SEQUENCE');
      t.equal(update!.method, 'REQUEST');
      t.equal(update!.start.getTime(), Date.parse(after.startsAt), 'new start');
      const rows = await reminders(attendee.registrationId);
      t.same(
        rows.map((r) => [r.reminder_offset, r.status, new Date(r.due_at).getTime()]),
        [
          ['P1D', 'pending', reminderDueAt(new Date(after.startsAt), 'P1D').getTime()],
          ['P7D', 'pending', reminderDueAt(new Date(after.startsAt), 'P7D').getTime()],
        ],
        'every pending reminder moved with the meeting',
      );
    }
    const update = smtp.to(a.email)[1]!;
    t.equal(update.kind, 'meeting_rescheduled');
    t.ok(update.parsed.text!.includes(amsterdamTime(new Date(after.startsAt))), 'new time in the body');

    // The old edit arriving late does not move the meeting back.
    const stale = await feed.updated({ ...before, version: 1 }, ['title']);
    t.ok(await eventually(() => inboxHas(stale.id)));
    const stored = await db
      .selectFrom('meeting')
      .selectAll()
      .where('id', '=', before.meetingId)
      .executeTakeFirstOrThrow();
    t.same(
      [stored.version, new Date(stored.starts_at).toISOString()],
      [2, new Date(after.startsAt).toISOString()],
    );
  },
);

t.test(
  'reminder rules: waitlisted get none, late registration no stale one, cancel removes, expiry at start',
  async (t) => {
    const meeting = meetingSnapshot({
      startsAt: new Date(Date.now() + 3 * day).toISOString(),
      endsAt: new Date(Date.now() + 3 * day + 3600_000).toISOString(),
    });
    await feed.scheduled(meeting);
    const late = attendeeSnapshot(meeting.meetingId);
    const waiting = attendeeSnapshot(meeting.meetingId, { status: 'waitlisted', position: 1 });
    const leaving = attendeeSnapshot(meeting.meetingId);
    await feed.registered(late);
    await feed.waitlisted(waiting);
    await feed.registered(leaving);
    t.ok(await eventually(async () => (await reminders(leaving.registrationId)).length === 2));
    await feed.cancelled({ ...leaving, version: 2, status: 'cancelled', position: null }, 'confirmed');
    t.ok(
      await eventually(async () =>
        (await reminders(leaving.registrationId)).every((r) => r.status === 'cancelled'),
      ),
    );
    t.ok(await eventually(() => smtp.to(late.email).length === 1 && smtp.to(waiting.email).length === 1));

    t.same(
      (await reminders(late.registrationId)).map((r) => [r.reminder_offset, r.status]),
      [
        ['P1D', 'pending'],
        ['P7D', 'skipped'],
      ],
      'the 7-day reminder had passed at registration: never sent',
    );
    t.same(await reminders(waiting.registrationId), [], 'waitlisted: no reminders');

    // Past every due time, including the P7D one: only the P1D reminder of the seated attendee goes out.
    const start = new Date(meeting.startsAt);
    const dispatcher = await dispatchAllAt(new Date(start.getTime() - 3600_000));
    t.equal(dispatcher.stats.queued, 1);
    t.ok(await eventually(() => smtp.to(late.email).length === 2));
    await new Promise((r) => setTimeout(r, 300));
    t.equal(smtp.to(leaving.email).filter((m) => m.kind === 'reminder').length, 0, 'cancelled: no reminder');
    t.equal(smtp.to(waiting.email).filter((m) => m.kind === 'reminder').length, 0, 'waitlisted: no reminder');
    const reminder = smtp.to(late.email)[1]!;
    t.equal(reminder.kind, 'reminder');
    t.match(reminder.parsed.subject, /morgen/);
    t.match(reminder.header('list-unsubscribe'), /^<http:\/\/notification\.test\/unsubscribe\/[^>]+>$/);
    t.equal(reminder.header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');

    // A second meeting whose reminder is still waiting when the meeting starts: it expires, unsent.
    const other = meetingSnapshot({ reminderOffsets: ['P1D'] });
    await feed.scheduled(other);
    const slow = attendeeSnapshot(other.meetingId);
    await feed.registered(slow);
    t.ok(await eventually(async () => (await reminders(slow.registrationId)).length === 1));
    await dispatchAllAt(new Date(other.startsAt));
    t.same(
      (await reminders(slow.registrationId)).map((r) => r.status),
      ['expired'],
    );
    t.equal(
      await db
        .selectFrom('email')
        .select('id')
        .where('registration_id', '=', slow.registrationId)
        .where('kind', '=', 'reminder')
        .execute()
        .then((r) => r.length),
      0,
    );
  },
);

t.test(
  'meeting cancelled: METHOD:CANCEL to the seated, a plain mail to the waitlist, reminders removed',
  async (t) => {
    const meeting = meetingSnapshot();
    await feed.scheduled(meeting);
    const seated = attendeeSnapshot(meeting.meetingId);
    const waiting = attendeeSnapshot(meeting.meetingId, { status: 'waitlisted', position: 1 });
    await feed.registered(seated);
    await feed.waitlisted(waiting);
    t.ok(await eventually(() => smtp.to(seated.email).length === 1 && smtp.to(waiting.email).length === 1));
    await feed.meetingCancelled({ ...meeting, version: 2, icsSequence: 1 }, 'De hangar is niet beschikbaar.');
    t.ok(await eventually(() => smtp.to(seated.email).length === 2 && smtp.to(waiting.email).length === 2));
    const cancel = parseIcs(smtp.to(seated.email)[1]!);
    t.same(
      [cancel.method, cancel.status, cancel.uid, cancel.sequence],
      ['CANCEL', 'CANCELLED', parseIcs(smtp.to(seated.email)[0]!).uid, 1],
    );
    t.match(smtp.to(seated.email)[1]!.parsed.text, /hangar is niet beschikbaar/);
    t.equal(smtp.to(waiting.email)[1]!.ics(), undefined);
    t.same(await reminders(seated.registrationId), [], 'reminders removed');
  },
);

t.test(
  'a promotion that overtakes its waitlisted event waits for it and still mails the personal link',
  async (t) => {
    // No reminders: the replica test below counts every due reminder in this database.
    const meeting = meetingSnapshot({ reminderOffsets: [] });
    await feed.scheduled(meeting);
    const eva = attendeeSnapshot(meeting.meetingId, { status: 'waitlisted', position: 1 });
    // Out of order, as a retry can deliver them: the promotion carries no personal link of its own.
    await feed.promoted({ ...eva, version: 2, status: 'confirmed', position: null }, 1);
    await new Promise((r) => setTimeout(r, 200));
    await feed.waitlisted(eva);
    const promoted = await eventually(() => smtp.to(eva.email).find((m) => m.kind === 'promoted'));
    t.ok(promoted, 'the promotion is mailed once its registration is known');
    t.ok(promoted?.parsed.text?.includes(eva.manageUrl), 'with the personal link');
  },
);

t.test('two dispatcher replicas on the same 200 due reminders never send one twice', async (t) => {
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  const attendees = Array.from({ length: 100 }, () => attendeeSnapshot(meeting.meetingId));
  await Promise.all(attendees.map((a) => feed.registered(a)));
  const pending = () =>
    db
      .selectFrom('reminder')
      .select('id')
      .where('meeting_id', '=', meeting.meetingId)
      .where('status', '=', 'pending')
      .execute();
  t.ok(await eventually(async () => (await pending()).length === 200, 30_000));
  const at = new Date(Date.parse(meeting.startsAt) - 3600_000);
  const [one, two] = [dispatcherAt(at, 7), dispatcherAt(at, 7)];
  for (;;) {
    const [x, y] = await Promise.all([one.runOnce(), two.runOnce()]);
    if (x.claimed + y.claimed === 0) break;
  }
  t.equal(one.stats.queued + two.stats.queued, 200, 'every reminder queued once');
  t.ok(
    one.stats.queued > 0 && two.stats.queued > 0,
    `both replicas worked (${one.stats.queued} + ${two.stats.queued})`,
  );
  const emails = await db
    .selectFrom('email')
    .select(['registration_id', 'reminder_offset'])
    .where('meeting_id', '=', meeting.meetingId)
    .where('kind', '=', 'reminder')
    .execute();
  t.equal(new Set(emails.map((e) => `${e.registration_id}/${e.reminder_offset}`)).size, 200);
  t.equal(emails.length, 200);
  const addresses = new Set(attendees.map((a) => a.email));
  const received = () => smtp.received.filter((m) => m.kind === 'reminder' && addresses.has(m.to));
  t.ok(await eventually(() => received().length >= 200, 30_000));
  await new Promise((r) => setTimeout(r, 300));
  const perAttendeeOffset = new Set(received().map((m) => `${m.to}/${m.parsed.subject}`));
  t.equal(received().length, 200, 'exactly 200 reminders at the SMTP server');
  t.equal(perAttendeeOffset.size, 200, 'one per attendee and offset');
});

t.test('SMTP 451 then 250: delivered once; 550: failed, suppressed, never retried', async (t) => {
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  const deferred = attendeeSnapshot(meeting.meetingId, {
    email: `retry-${crypto.randomUUID().slice(0, 8)}@example.org`,
  });
  const rejected = attendeeSnapshot(meeting.meetingId, {
    email: `reject-${crypto.randomUUID().slice(0, 8)}@example.org`,
  });
  await feed.registered(rejected);
  await feed.registered(deferred);
  const emailOf = (registrationId: string) =>
    db.selectFrom('email').selectAll().where('registration_id', '=', registrationId).executeTakeFirst();
  t.ok(await eventually(async () => (await emailOf(deferred.registrationId))?.status === 'sent', 20_000));
  t.ok(await eventually(async () => (await emailOf(rejected.registrationId))?.status === 'failed'));
  const ok = (await emailOf(deferred.registrationId))!;
  t.equal(ok.attempts, 2);
  t.equal(ok.smtp_code, 451, 'the 451 stays in the log');
  t.equal(smtp.to(deferred.email).length, 1, 'delivered once');
  t.equal(smtp.attemptsFor(deferred.email), 2);

  const failed = (await emailOf(rejected.registrationId))!;
  t.same([failed.attempts, failed.smtp_code], [1, 550]);
  t.notOk(failed.last_error?.includes(rejected.email), 'no address in the error');
  // The deferred mail needed a retry round after the rejection: the sender ran on and left it alone.
  t.equal(smtp.attemptsFor(rejected.email), 1, 'not retried');
  t.equal(smtp.to(rejected.email).length, 0);

  const events = await db
    .selectFrom('outbox')
    .select(['subject', 'payload'])
    .where('subject', 'like', 'notification.email.%')
    .execute();
  const payloads = events.map((e) => (typeof e.payload === 'string' ? JSON.parse(e.payload) : e.payload));
  const failedEvent = payloads.find((p) => p.data.emailId === failed.id);
  t.match(failedEvent, {
    type: 'nl.citydeals.notification.email.failed.v1',
    data: { reason: 'rejected', smtpCode: 550, suppressed: true, attempts: 1 },
  });
  t.match(
    payloads.find((p) => p.data.emailId === ok.id),
    { type: 'nl.citydeals.notification.email.sent.v1', data: { attempts: 2, messageId: ok.message_id } },
  );
  t.notOk(JSON.stringify(payloads).includes('@example.org'), 'no addresses in events');

  // The suppressed address gets no reminder; the other one does.
  await dispatchAllAt(new Date(Date.parse(meeting.startsAt) - 2 * day));
  t.same(
    (await reminders(rejected.registrationId)).map((r) => r.status),
    ['pending', 'suppressed'],
  );
  t.same(
    (await reminders(deferred.registrationId)).map((r) => r.status),
    ['pending', 'queued'],
  );
});

t.test(
  'one-click unsubscribe stops reminders; repeatable; forged token refused; mandatory mails still sent',
  async (t) => {
    const meeting = meetingSnapshot();
    await feed.scheduled(meeting);
    const a = attendeeSnapshot(meeting.meetingId);
    await feed.registered(a);
    t.ok(await eventually(async () => (await reminders(a.registrationId)).length === 2));
    t.ok(await eventually(() => smtp.to(a.email).length === 1));
    await dispatchAllAt(new Date(Date.parse(meeting.startsAt) - 6 * day));
    t.ok(await eventually(() => smtp.to(a.email).length === 2));
    const reminder = smtp.to(a.email).find((m) => m.kind === 'reminder')!;
    const url = new URL(reminder.header('list-unsubscribe')!.slice(1, -1));
    for (let i = 0; i < 2; i++) {
      const res = await http.inject({
        method: 'POST',
        url: url.pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      t.equal(res.statusCode, 200, `unsubscribe #${i + 1}`);
      t.same(res.json(), { status: 'unsubscribed' });
    }
    const forged = await http.inject({
      method: 'POST',
      url: `/unsubscribe/${a.registrationId}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    });
    t.equal(forged.statusCode, 404);
    t.match(forged.headers['content-type'], /^application\/problem\+json/);
    await dispatchAllAt(new Date(Date.parse(meeting.startsAt) - 3600_000));
    t.same(
      (await reminders(a.registrationId)).map((r) => r.status),
      ['suppressed', 'queued'],
    );
    await feed.meetingCancelled({ ...meeting, version: 2 }, null);
    t.ok(await eventually(() => smtp.to(a.email).length === 3), 'mandatory mail still sent');
    t.same(
      smtp
        .to(a.email)
        .map((m) => m.kind)
        .sort(),
      ['meeting_cancelled', 'registration_confirmed', 'reminder'],
    );
  },
);

t.test(
  'the unsubscribe link in the mail body: a click opens a page with one button; unsubscribe, then resubscribe',
  async (t) => {
    const meeting = meetingSnapshot();
    await feed.scheduled(meeting);
    const a = attendeeSnapshot(meeting.meetingId, { language: 'en' });
    await feed.registered(a);
    t.ok(await eventually(async () => (await reminders(a.registrationId)).length === 2));
    await dispatchAllAt(new Date(Date.parse(meeting.startsAt) - 6 * day));
    t.ok(await eventually(() => smtp.to(a.email).some((m) => m.kind === 'reminder')));
    const reminder = smtp.to(a.email).find((m) => m.kind === 'reminder')!;
    const link = /http:\/\/notification\.test(\/unsubscribe\/\S+)/.exec(reminder.parsed.text!)?.[1];
    t.ok(link, 'the body carries the link');
    t.ok(String(reminder.parsed.html).includes(`http://notification.test${link}`), 'the HTML part too');
    const suppressed = () => db.selectFrom('suppression').select('reason').execute();
    const before = (await suppressed()).length;

    const click = await http.inject({ url: link!, headers: { accept: 'text/html' } });
    t.equal(click.statusCode, 200, 'a click opens a page');
    t.match(click.headers['content-type'], 'text/html');
    t.match(click.body, '<html lang="en">', 'in the attendee language');
    t.equal(click.body.match(/<button/g)?.length, 1, 'one button');
    t.match(click.body, `<form method="post" action="${link}">`);
    t.equal((await suppressed()).length, before, 'opening the page changes nothing');

    const pressed = await http.inject({
      method: 'POST',
      url: link!,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,*/*' },
      payload: 'List-Unsubscribe=One-Click',
    });
    t.equal(pressed.statusCode, 200);
    t.match(pressed.body, 'You are unsubscribed from reminders');
    t.match(pressed.body, `<form method="post" action="${link}/resubscribe">`, 'with a way back');
    t.equal((await suppressed()).length, before + 1);
    const oneClick = await http.inject({
      method: 'POST',
      url: link!,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    t.same(oneClick.json(), { status: 'unsubscribed' }, 'the RFC 8058 one-click POST still answers');
    t.match((await http.inject(link!)).body, 'Receive reminders again', 'the page now offers the way back');

    const back = await http.inject({ method: 'POST', url: `${link}/resubscribe` });
    t.equal(back.statusCode, 200);
    t.match(back.body, 'You receive reminders again');
    t.equal((await suppressed()).length, before, 'the unsubscribe is undone');
    await dispatchAllAt(new Date(Date.parse(meeting.startsAt) - 3600_000));
    t.same(
      (await reminders(a.registrationId)).map((r) => r.status),
      ['queued', 'queued'],
      'the next reminder goes out again',
    );

    const forged = await http.inject(
      `/unsubscribe/${a.registrationId}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    );
    t.equal(forged.statusCode, 404);
    t.match(forged.headers['content-type'], 'text/html');
    const bad = await http.inject('/unsubscribe/x');
    t.equal(bad.statusCode, 400);
    t.match(bad.json().errors, [{ field: 'params.token' }]);
  },
);

t.test('delivery log: admin only, filters by meeting and recipient, validates its input', async (t) => {
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  const a = attendeeSnapshot(meeting.meetingId);
  const b = attendeeSnapshot(meeting.meetingId);
  await feed.registered(a);
  await feed.registered(b);
  t.ok(await eventually(() => smtp.to(a.email).length === 1 && smtp.to(b.email).length === 1));
  t.ok(
    await eventually(
      async () =>
        (
          await http.inject({
            url: `/emails?meetingId=${meeting.meetingId}&status=sent`,
            headers: adminHeaders,
          })
        ).json().items.length === 2,
    ),
  );
  t.equal((await http.inject({ url: '/emails' })).statusCode, 401);
  const byMeeting = (
    await http.inject({ url: `/emails?meetingId=${meeting.meetingId}`, headers: adminHeaders })
  ).json();
  t.same(
    new Set(byMeeting.items.map((i: { recipient: string }) => i.recipient)),
    new Set([a.email, b.email]),
  );
  const byRecipient = (
    await http.inject({
      url: `/emails?recipient=${encodeURIComponent(a.email.toUpperCase())}`,
      headers: adminHeaders,
    })
  ).json();
  t.equal(byRecipient.items.length, 1);
  t.match(byRecipient.items[0], {
    recipient: a.email,
    kind: 'registration_confirmed',
    status: 'sent',
    attempts: 1,
    lastError: null,
  });
  const page = (
    await http.inject({ url: `/emails?meetingId=${meeting.meetingId}&limit=1`, headers: adminHeaders })
  ).json();
  const next = (
    await http.inject({
      url: `/emails?meetingId=${meeting.meetingId}&limit=1&cursor=${page.nextCursor}`,
      headers: adminHeaders,
    })
  ).json();
  t.not(next.items[0].id, page.items[0].id, 'cursor pages on');
  const bad = await http.inject({ url: '/emails?meetingId=nope', headers: adminHeaders });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().errors, [{ field: 'querystring.meetingId' }]);
});

t.test('erasure removes the person from this schema; the log keeps rows without an address', async (t) => {
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  const a = attendeeSnapshot(meeting.meetingId);
  await feed.registered(a);
  t.ok(await eventually(() => smtp.to(a.email).length === 1));
  // A copy that breaks its contract (as from a faulty publisher) is dead-lettered with the person in it.
  const valid = createEvent(attendeeRegistered, {
    id: newEventId(),
    time: new Date(),
    source: '/registration',
    subject: a.registrationId,
    data: { ...a, status: 'confirmed', position: null },
  });
  const broken = { ...valid, data: { ...valid.data, language: 'xx' } };
  await runtime.js.publish(
    namespace(ctx.namespace).subject(natsSubjectOf(attendeeRegistered, a.registrationId)),
    JSON.stringify(broken),
  );
  const deadLetterOf = () =>
    db.selectFrom('dead_letter').selectAll().where('event_id', '=', broken.id).executeTakeFirst();
  t.ok(await eventually(async () => (await deadLetterOf())?.payload.includes(a.email)), 'dead-lettered');
  await feed.erased(a, 3);
  t.ok(
    await eventually(
      async () =>
        (
          await db
            .selectFrom('recipient')
            .select('erased')
            .where('registration_id', '=', a.registrationId)
            .executeTakeFirst()
        )?.erased === true,
    ),
  );
  const dump = JSON.stringify(
    await Promise.all([
      db.selectFrom('recipient').selectAll().execute(),
      db.selectFrom('email').selectAll().where('registration_id', '=', a.registrationId).execute(),
      db.selectFrom('reminder').selectAll().where('registration_id', '=', a.registrationId).execute(),
    ]),
  );
  t.notOk(dump.includes(a.email), 'no address left');
  t.notOk(dump.includes(a.name), 'no name left');
  t.notOk(dump.includes(a.manageUrl), 'no manage link left');
  const deadLetter = await deadLetterOf();
  t.notOk(deadLetter?.payload.includes(a.email), 'the dead letter lost the address');
  t.notOk(deadLetter?.payload.includes(a.name), 'and the name');
  t.match(deadLetter, { resolution: 'erased', error: /language/ }, 'it stays, with its error, for operators');
  const log = (
    await http.inject({ url: `/emails?registrationId=${a.registrationId}`, headers: adminHeaders })
  ).json();
  t.match(log.items, [{ kind: 'registration_confirmed', status: 'sent', recipient: null }]);
  // A late copy of the registration cannot bring the data back.
  const stale = await feed.registered(a);
  t.ok(await eventually(() => inboxHas(stale.id)));
  const row = await db
    .selectFrom('recipient')
    .selectAll()
    .where('registration_id', '=', a.registrationId)
    .executeTakeFirstOrThrow();
  t.same([row.email, row.name, row.status], [null, null, 'erased']);
});

t.test('without SMTP_URL mails land as .eml files in MAIL_DIR', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mail-'));
  const local = await startTestService((env) => startService(loadServiceConfig(env)), shutdown, {
    MAIL_DIR: dir,
    MAIL_POLL_MS: '50',
  });
  t.teardown(async () => {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  });
  const localFeed = eventFeed(local.service.runtime.js, namespace(local.namespace));
  const meeting = meetingSnapshot();
  await localFeed.scheduled(meeting);
  const a = attendeeSnapshot(meeting.meetingId);
  await localFeed.registered(a);
  const eml = async () => (await readdir(dir)).filter((f) => f.endsWith('.eml'));
  t.ok(await eventually(async () => (await eml()).length > 0, 20_000));
  const files = await eml();
  t.equal(files.length, 1);
  const raw = await readFile(path.join(dir, files[0]!), 'utf8');
  t.match(raw, /^Message-ID:\s+<[0-9a-f-]+@cop\.citydeals\.example\.org>/im);
  t.match(raw, /text\/calendar/);
  t.ok(raw.includes(a.email));
});
