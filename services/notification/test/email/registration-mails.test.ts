// Mails for a registration's life: confirmed, waitlisted, promoted, cancelled; bursts; a cancelled meeting.
import { namespace } from '@citydeals/messaging';
import { eventually } from '@citydeals/testkit';
import { sql } from 'kysely';
import t from 'tap';
import { startNotification } from '../harness.ts';
import {
  amsterdamTime,
  attendeeSnapshot,
  eventFeed,
  meetingSnapshot,
  notificationRows,
  parseIcs,
  startSmtpServer,
} from './email.fixture.ts';

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

const { reminders, inboxHas } = notificationRows(db);

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
