/**
 * Every kind of attendee mail, from the HTTP request that causes it to the mail as an SMTP server receives
 * it: registration and notification run as processes against the shared Postgres and NATS, each on a
 * database of its own and one event namespace, and notification sends to a real SMTP server. The events in
 * between are the ones registration really emits — the notification tests' own fixtures once fed events
 * registration never sends, and hid that a promoted attendee's mails linked to nowhere.
 */
import { adminHeaders, eventually } from '@citydeals/testkit';
import ICAL from 'ical.js';
import t, { type Test } from 'tap';
import { type Mail, startJourneySystem } from './journey-system.ts';

const day = 86_400_000;
// The demo advice of the README: reminders fall due days early. Mails must still be dated now.
const CLOCK_SHIFT_MS = 2 * day;

const system = await startJourneySystem({
  env: {
    notification: {
      REMINDER_POLL_MS: '50',
      REMINDER_CLOCK_SHIFT_MS: String(CLOCK_SHIFT_MS),
    },
  },
});
t.teardown(() => system.close());
const { namespace, registration, notification, mails } = system;

/** One HTTP request to a service; the body parsed when it is JSON. */
/** The answer's body only when the status is not the expected one, so a failure says why. */
const answered = (res: { statusCode: number; body: string }, status: number, what: string) =>
  res.statusCode === status ? what : `${what}: ${res.body}`;

async function request(
  base: string,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  options: { payload?: object; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...options.headers,
      ...(options.payload ? { 'content-type': 'application/json' } : {}),
    },
    body: options.payload ? JSON.stringify(options.payload) : null,
  });
  const text = await res.text();
  const json = () => JSON.parse(text);
  return { statusCode: res.status, body: text, json };
}

const admin = (method: 'POST' | 'PATCH', path: string, payload: object) =>
  request(registration.url, method, path, { payload, headers: adminHeaders });

async function register(meetingId: string, name: string, language?: 'nl' | 'en') {
  const res = await request(registration.url, 'POST', `/meetings/${meetingId}/registrations`, {
    payload: {
      name,
      email: `${name.toLowerCase()}@example.org`,
      organisation: 'Gemeente Voorbeeld',
      role: 'projectleider',
      consents: { photo: false, attendeeList: false },
      ...(language ? { language } : {}),
    },
  });
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
  return res.json() as { registrationId: string; status: string; manageUrl: string };
}

/** Waits for the mail of a kind to an address and returns it. */
async function mailTo(address: string, kind: string): Promise<Mail> {
  const found = await eventually(() => mails.find((m) => m.to === address && m.kind === kind), 30_000);
  if (!found) {
    const seen = mails.map((m) => `${m.to} ${m.kind}`).join('; ');
    throw new Error(`no ${kind} mail to ${address}; received: ${seen}`);
  }
  return found;
}

function calendarOf(mail: Mail) {
  const part = mail.parsed.attachments.find((a) => /calendar|ics/.test(a.contentType));
  if (!part) return null;
  const text = part.content.toString('utf8');
  const calendar = new ICAL.Component(ICAL.parse(text));
  const events = calendar.getAllSubcomponents('vevent');
  const event = events[0]!;
  return {
    count: events.length,
    method: calendar.getFirstPropertyValue('method'),
    uid: event.getFirstPropertyValue('uid'),
    sequence: Number(event.getFirstPropertyValue('sequence')),
    stamp: (event.getFirstPropertyValue('dtstamp') as ICAL.Time).toJSDate(),
    start: (event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate(),
    location: String(event.getFirstPropertyValue('location')),
  };
}

/** The personal link in a mail opens the person's own registration. */
async function linkOf(t: Test, mail: Mail, expected: { registrationId: string; manageUrl: string }) {
  const label = `${mail.kind} to ${mail.to}`;
  t.ok(mail.parsed.text?.includes(expected.manageUrl), `${label}: personal link in the text`);
  t.ok(String(mail.parsed.html).includes(expected.manageUrl), `${label}: personal link in the HTML`);
  const token = expected.manageUrl.slice(expected.manageUrl.lastIndexOf('/') + 1);
  const own = await request(registration.url, 'GET', `/registrations/manage/${token}`);
  t.equal(own.statusCode, 200, `${label}: the link works`);
  t.equal(own.json().registrationId, expected.registrationId, `${label}: it is theirs`);
}

/** Dated when it was sent, whatever the reminder clock says. */
function datedNow(t: Test, mail: Mail) {
  const label = `${mail.kind} to ${mail.to}`;
  const date = mail.parsed.date?.getTime() ?? 0;
  t.ok(Math.abs(date - mail.receivedAt) < 60_000, `${label}: Date header is the real time`);
  const calendar = calendarOf(mail);
  if (calendar) t.ok(Math.abs(calendar.stamp.getTime() - mail.receivedAt) < 60_000, `${label}: DTSTAMP too`);
}

t.test('an attendee who got their seat from the waitlist: every mail, its link, its calendar', async (t) => {
  const startsAt = new Date(Date.now() + 20 * day);
  startsAt.setUTCSeconds(0, 0);
  const created = await admin('POST', '/admin/meetings', {
    title: 'Community of Practice City Deals',
    slug: `cop-${namespace.replaceAll('_', '-')}`,
    description: 'Jaarparade',
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 4 * 3_600_000).toISOString(),
    timeZone: 'Europe/Amsterdam',
    venue: { name: 'Hangar', address: 'PTT-terrein, Den Haag' },
    language: 'en',
    reminderOffsets: ['P7D'],
    capacity: 1,
    status: 'published',
  });
  t.equal(created.statusCode, 201, answered(created, 201, 'meeting created'));
  const meeting = created.json() as { id: string };

  // Anna chooses Dutch in an English meeting; Bram chooses English; Cas chooses nothing.
  const anna = await register(meeting.id, 'Anna', 'nl');
  const bram = await register(meeting.id, 'Bram', 'en');
  t.equal(bram.status, 'waitlisted');
  const confirmed = await mailTo('anna@example.org', 'registration_confirmed');
  const waitlisted = await mailTo('bram@example.org', 'waitlisted');
  await linkOf(t, confirmed, anna);
  await linkOf(t, waitlisted, bram);
  t.match(confirmed.parsed.subject, /^Aanmelding bevestigd/, 'Anna chose Dutch: Dutch it is');
  t.match(waitlisted.parsed.text, /waitlist/i, 'Bram chose English');
  const annaInvite = calendarOf(confirmed)!;
  t.equal(annaInvite.method, 'REQUEST');
  t.equal(annaInvite.sequence, 0);

  // Anna cancels with her link: her calendar entry is withdrawn with a higher SEQUENCE, Bram moves up.
  const annaToken = anna.manageUrl.slice(anna.manageUrl.lastIndexOf('/') + 1);
  const cancel = await request(registration.url, 'POST', `/registrations/manage/${annaToken}/cancel`);
  t.equal(cancel.statusCode, 200, answered(cancel, 200, 'Anna cancels with her link'));
  const annaCancelled = await mailTo('anna@example.org', 'registration_cancelled');
  const annaCancel = calendarOf(annaCancelled)!;
  t.same([annaCancel.method, annaCancel.uid], ['CANCEL', annaInvite.uid]);
  t.ok(annaCancel.sequence > annaInvite.sequence, 'the cancellation supersedes her invitation');
  const promoted = await mailTo('bram@example.org', 'promoted');
  await linkOf(t, promoted, bram);
  const invite = calendarOf(promoted)!;
  t.same([invite.method, invite.sequence], ['REQUEST', 0]);

  // Cas, on the waitlist now, gets no change notices; his mails are in the meeting's language.
  const cas = await register(meeting.id, 'Cas');
  const casWaitlisted = await mailTo('cas@example.org', 'waitlisted');
  await linkOf(t, casWaitlisted, cas);
  t.match(casWaitlisted.parsed.text, /waitlist/i, 'no choice: the meeting language');

  // A new venue: Bram's calendar entry is updated (same UID, SEQUENCE + 1).
  const moved = await admin('PATCH', `/admin/meetings/${meeting.id}`, {
    venue: { name: 'Stadhuis', address: 'Spui 70, Den Haag' },
  });
  t.equal(moved.statusCode, 200, answered(moved, 200, 'venue changed'));
  const changed = await mailTo('bram@example.org', 'meeting_changed');
  await linkOf(t, changed, bram);
  const update = calendarOf(changed)!;
  t.same([update.method, update.uid, update.sequence], ['REQUEST', invite.uid, invite.sequence + 1]);
  t.match(update.location, /Stadhuis/);
  t.match(changed.parsed.text, /Stadhuis/);

  // Moved so that its reminder falls due a few seconds from now on the (shifted) reminder clock; late
  // enough that a busy machine still plans it before it is due.
  const newStart = new Date(Date.now() + CLOCK_SHIFT_MS + 7 * day + 8000);
  const rescheduled = await admin('POST', `/admin/meetings/${meeting.id}/reschedule`, {
    startsAt: newStart.toISOString(),
    endsAt: new Date(newStart.getTime() + 4 * 3_600_000).toISOString(),
  });
  t.equal(rescheduled.statusCode, 200, answered(rescheduled, 200, 'rescheduled'));
  const movedMail = await mailTo('bram@example.org', 'meeting_rescheduled');
  await linkOf(t, movedMail, bram);
  const moveInvite = calendarOf(movedMail)!;
  t.same([moveInvite.uid, moveInvite.sequence], [invite.uid, update.sequence + 1]);
  t.equal(moveInvite.start.getTime(), Math.floor(newStart.getTime() / 1000) * 1000);

  const reminder = await mailTo('bram@example.org', 'reminder');
  await linkOf(t, reminder, bram);
  t.match(reminder.parsed.subject, /in 7 days/);

  // Called off: METHOD:CANCEL one above the last invitation; the waitlist hears of it without a calendar.
  const off = await admin('POST', `/admin/meetings/${meeting.id}/cancel`, {
    reason: 'Zaal niet beschikbaar',
  });
  t.equal(off.statusCode, 200, answered(off, 200, 'meeting called off'));
  const cancelled = await mailTo('bram@example.org', 'meeting_cancelled');
  await linkOf(t, cancelled, bram);
  const withdrawal = calendarOf(cancelled)!;
  t.same(
    [withdrawal.method, withdrawal.uid, withdrawal.sequence],
    ['CANCEL', invite.uid, moveInvite.sequence + 1],
  );
  const casCancelled = await mailTo('cas@example.org', 'meeting_cancelled');
  t.equal(calendarOf(casCancelled), null, 'nothing to remove from a waitlisted calendar');

  // Whatever arrives late, nobody got what was not theirs.
  await new Promise((r) => setTimeout(r, 300));
  t.same(
    mails.filter((m) => m.to === 'cas@example.org').map((m) => m.kind),
    ['waitlisted', 'meeting_cancelled'],
    'no change notice, reschedule or reminder for the waitlist',
  );
  t.same(
    mails.filter((m) => m.to === 'anna@example.org').map((m) => m.kind),
    ['registration_confirmed', 'registration_cancelled'],
    'nothing more for the cancelled',
  );
  for (const mail of mails) datedNow(t, mail);
  const log = await request(notification.url, 'GET', `/emails?meetingId=${meeting.id}`, {
    headers: adminHeaders,
  });
  t.equal(log.statusCode, 200, answered(log, 200, 'delivery log'));
  const sentTimes = log.json().items.map((row: { sentAt: string | null }) => row.sentAt);
  t.equal(sentTimes.length, mails.length, 'the delivery log lists the mails');
  t.ok(
    sentTimes.every((at: string | null) => at !== null && Math.abs(Date.parse(at) - Date.now()) < 120_000),
    'the delivery log records the real send times',
  );
});
