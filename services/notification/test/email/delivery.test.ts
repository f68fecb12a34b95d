// Delivery: SMTP retries and refusals, unsubscribe, the delivery log, erasure, and mails as .eml files.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { attendeeRegistered, createEvent, natsSubjectOf } from '@citydeals/contracts';
import { namespace } from '@citydeals/messaging';
import { newEventId } from '@citydeals/service-kit';
import { adminHeaders, eventually } from '@citydeals/testkit';
import t from 'tap';
import { loadServiceConfig } from '../../src/config.ts';
import { emailContextFor } from '../../src/email/email.module.ts';
import { reminderMailsOf } from '../../src/email/reminder.mails.ts';
import { ReminderDispatcher } from '../../src/reminders/reminder.dispatcher.ts';
import { startNotification } from '../harness.ts';
import {
  attendeeSnapshot,
  eventFeed,
  meetingSnapshot,
  notificationRows,
  startSmtpServer,
  testClock,
} from './email.fixture.ts';

const day = 86_400_000;

// 451 on the first attempt for "retry-*" addresses, 550 always for "reject-*".
const smtp = await startSmtpServer({
  reply: (address, attempt) =>
    address.startsWith('reject-') ? 550 : address.startsWith('retry-') && attempt === 1 ? 451 : undefined,
});
const ctx = await startNotification({
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

const { reminders, inboxHas } = notificationRows(db);

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
  const local = await startNotification({
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
