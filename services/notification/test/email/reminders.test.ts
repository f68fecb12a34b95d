// Reminders: planned from events, re-timed on reschedule, removed on cancel, sent once by any replica.
import { namespace } from '@citydeals/messaging';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { loadServiceConfig } from '../../src/config.ts';
import { emailContextFor } from '../../src/email/email.module.ts';
import { reminderMailsOf } from '../../src/email/reminder.mails.ts';
import { ReminderDispatcher } from '../../src/reminders/reminder.dispatcher.ts';
import { reminderDueAt } from '../../src/reminders/reminder.rules.ts';
import { startNotification } from '../harness.ts';
import {
  amsterdamTime,
  attendeeSnapshot,
  eventFeed,
  meetingSnapshot,
  notificationRows,
  parseIcs,
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
const { runtime } = ctx.service;
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
