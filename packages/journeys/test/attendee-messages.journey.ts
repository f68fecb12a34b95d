/**
 * Issue 20's must-show for messages to attendees, against the real servers: registration and notification
 * as processes on Postgres and NATS, notification sending to a real SMTP server. A message to 200 attendees
 * arrives once each, none to an erased attendee or a suppressed (unsubscribed) address; a repeated request
 * sends nothing again; filters and scheduling choose who gets it and when; the preview is the mail as sent;
 * bad input is refused naming the field, with nothing written.
 */
import { adminHeaders, eventually } from '@citydeals/testkit';
import type { Test } from 'tap';
import type { JourneySystem, Mail } from './journey-system.ts';

/** Registration's settings this journey needs: scheduled messages are looked for every 200 ms. */
export const attendeeMessagesEnv = { registration: { MESSAGE_SWEEP_MS: '200' } };

const SEATS = 190;
const PEOPLE = 202;
const address = (i: number) => `attendee-${i}@example.org`;
const nameOf = (i: number) => `Deelnemer ${i}`;
/** Every seventh person is a dealmaker; the rest project leaders. Odd ones chose English. */
const roleOf = (i: number) => (i % 7 === 0 ? 'dealmaker' : 'projectleider');
const languageOf = (i: number) => (i % 2 === 1 ? 'en' : 'nl');

const texts = (subject: string) => ({
  nl: { subject: `${subject} (nl)`, body: `Beste deelnemers,\n\nDe zaal is open <vanaf> 12:30.\nTot dan!` },
  en: { subject: `${subject} (en)`, body: `Dear participants,\n\nThe room opens at 12:30.\nSee you!` },
});

export function attendeeMessages(t: Test, services: JourneySystem) {
  const { namespace, mails } = services;
  const reg = (method: 'GET' | 'POST', path: string, payload?: object) =>
    services.call(services.registration.url, method, path, payload, adminHeaders);
  const note = (method: 'GET' | 'POST', path: string, payload?: object) =>
    services.call(services.notification.url, method, path, payload, adminHeaders);
  const messageMails = (subject: string) =>
    mails.filter((m) => m.kind === 'attendee_message' && m.parsed.subject === subject);

  /** The mails of a message once at least `count` arrived (whether more came is for the caller to check). */
  async function mailsOf(subject: string, count: number): Promise<Mail[]> {
    await eventually(() => messageMails(subject).length >= count, 120_000);
    return messageMails(subject);
  }

  let meetingId = '';
  const byIndex = new Map<number, string>();

  t.before(async () => {
    const created = await reg('POST', '/admin/meetings', {
      title: 'Community of Practice City Deals',
      slug: `cop-messages-${namespace.replaceAll('_', '-')}`,
      startsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      endsAt: new Date(Date.now() + 30 * 86_400_000 + 4 * 3_600_000).toISOString(),
      venue: { name: 'Hangar', address: 'PTT-terrein, Den Haag' },
      language: 'nl',
      capacity: SEATS,
      status: 'published',
      reminderOffsets: [],
    });
    if (created.status !== 201) throw new Error(created.body);
    meetingId = created.json().id;
    for (let i = 0; i < PEOPLE; i++) {
      const res = await services.call(
        services.registration.url,
        'POST',
        `/meetings/${meetingId}/registrations`,
        {
          name: nameOf(i),
          email: address(i),
          language: languageOf(i),
          organisation: 'Gemeente Voorbeeld',
          role: roleOf(i),
        },
      );
      if (res.status !== 201) throw new Error(res.body);
      byIndex.set(i, res.json().registrationId);
    }
  });

  t.test('a message to 200 attendees arrives once each, none to the erased or suppressed', async (t) => {
    // A first message to everyone with a seat or on the waitlist: 202 people.
    const first = await reg('POST', `/admin/meetings/${meetingId}/messages`, {
      statuses: ['confirmed', 'waitlisted'],
      texts: texts('Welkom'),
    });
    t.equal(first.status, 201, first.body);
    t.equal(first.json().recipients, PEOPLE);
    await mailsOf('Welkom (nl)', PEOPLE / 2);
    await mailsOf('Welkom (en)', PEOPLE / 2);

    // Person 3 unsubscribes with the link in that mail; person 4 is erased.
    const unsubscribed = mails.find((m) => m.to === address(3) && m.kind === 'attendee_message')!;
    // mailparser folds List-* headers into a structured value; the raw line is what a mail client reads.
    const header = unsubscribed.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')?.line ?? '';
    const link = /<(http:\/\/notification\.test\/unsubscribe\/[^>]+)>/.exec(header)?.[1];
    t.ok(link, 'the message carries a one-click unsubscribe link');
    t.ok(String(unsubscribed.parsed.text).includes(link!), 'in the text as well');
    const path = new URL(link!).pathname;
    const off = await services.call(services.notification.url, 'POST', path);
    t.equal(off.status, 200, off.body);
    const erased = await reg('POST', '/admin/erasures', { email: address(4) });
    t.equal(erased.status, 200, erased.body);

    const id = '01936c10-2b3c-7d4e-8f50-617283940a1b';
    const request = { id, statuses: ['confirmed', 'waitlisted'], texts: texts('Praktisch') };
    const second = await reg('POST', `/admin/meetings/${meetingId}/messages`, request);
    t.equal(second.status, 201, second.body);
    t.equal(second.json().recipients, PEOPLE - 1, 'the erased registration is not a recipient');
    const again = await reg('POST', `/admin/meetings/${meetingId}/messages`, request);
    t.equal(again.status, 200, 'the same request again returns the message sent');
    t.equal(again.json().sentAt, second.json().sentAt);

    // A marker message after the repeat: once it is in, anything the repeat or a redelivery queued would be too.
    const marker = await reg('POST', `/admin/meetings/${meetingId}/messages`, {
      statuses: ['confirmed'],
      texts: { nl: { subject: 'Markering', body: 'Einde.' } },
    });
    t.equal(marker.status, 201, marker.body);
    // The erasure freed a seat for the head of the waitlist: 190 seated, one of them unsubscribed.
    await mailsOf('Markering', SEATS - 1);
    const log = await eventually(async () => {
      const rows = (
        await note('GET', `/emails?meetingId=${meetingId}&kind=attendee_message&limit=500`)
      ).json().items as { subject: string; status: string }[];
      const praktisch = rows.filter((r) => r.subject.startsWith('Praktisch'));
      return praktisch.length === PEOPLE - 2 && praktisch.every((r) => r.status === 'sent')
        ? praktisch
        : null;
    }, 120_000);
    t.ok(log, 'the delivery log holds 200 sent mails of the message');

    const received = [...(await mailsOf('Praktisch (nl)', 100)), ...(await mailsOf('Praktisch (en)', 100))];
    t.equal(received.length, 200, 'exactly 200 mails arrived');
    const to = received.map((m) => m.to);
    t.equal(new Set(to).size, 200, 'each attendee got it once');
    t.notOk(to.includes(address(3)), 'none to the unsubscribed address');
    t.notOk(to.includes(address(4)), 'none to the erased attendee');
    for (const m of received) {
      const i = Number(/attendee-(\d+)@/.exec(m.to)![1]);
      if (m.parsed.subject !== `Praktisch (${languageOf(i)})`) t.fail(`${m.to} got ${m.parsed.subject}`);
    }
    const anna = received.find((m) => m.to === address(2))!;
    t.match(
      anna.parsed.text,
      /Beste Deelnemer 2,\n\nBeste deelnemers,\n\nDe zaal is open <vanaf> 12:30\.\nTot dan!/,
    );
    t.match(String(anna.parsed.html), /<p>De zaal is open &lt;vanaf&gt; 12:30\.<br>Tot dan!<\/p>/, 'escaped');
    t.match(anna.parsed.text, /http:\/\/registration\.test\/aanmelding\/beheren\/[A-Za-z0-9_-]+/, 'own link');

    const list = (await reg('GET', `/admin/meetings/${meetingId}/messages`)).json().items;
    t.same(
      list.map((m: { recipients: number }) => m.recipients),
      [SEATS, PEOPLE - 1, PEOPLE],
      'three messages, newest first, the repeat not among them',
    );
    t.equal(
      messageMails('Markering').length,
      SEATS - 1,
      'the marker reached all seated but the unsubscribed',
    );
  });

  t.test('the preview is the mail as it is sent', async (t) => {
    const anna = mails.find((m) => m.to === address(2) && m.parsed.subject === 'Praktisch (nl)')!;
    const preview = await note('POST', `/admin/meetings/${meetingId}/message-preview`, {
      language: 'nl',
      name: nameOf(2),
      ...texts('Praktisch').nl,
    });
    t.equal(preview.status, 200, preview.body);
    const { subject, html, text } = preview.json();
    t.equal(subject, anna.parsed.subject);
    // The personal links are placeholders in the preview; everything else is the same.
    const personal = (s: string) =>
      s
        .replace(/http:\/\/registration\.test\/aanmelding\/beheren\/[A-Za-z0-9_-]+/g, 'MANAGE')
        .replace(/https:\/\/…\/aanmelding\/beheren\/…/g, 'MANAGE')
        .replace(/http:\/\/notification\.test\/unsubscribe\/[^"\s<]+/g, 'UNSUBSCRIBE');
    t.equal(personal(text), personal(String(anna.parsed.text)));
    t.equal(personal(html).trim(), personal(String(anna.parsed.html)).trim());
  });

  t.test('filters and a time choose who gets a message and when', async (t) => {
    const sendAt = new Date(Date.now() + 3_000);
    const scheduled = await reg('POST', `/admin/meetings/${meetingId}/messages`, {
      statuses: ['waitlisted'],
      roles: ['dealmaker'],
      texts: { en: { subject: 'Waiting dealmakers', body: 'Only English was written.' } },
      sendAt: sendAt.toISOString(),
    });
    t.equal(scheduled.status, 201, scheduled.body);
    t.equal(scheduled.json().sentAt, null, 'scheduled, not sent');
    // Waitlisted now: 191..201 (190 took the erased seat); the dealmaker among them: 196.
    const expected = [...Array(PEOPLE).keys()].filter((i) => i >= SEATS && roleOf(i) === 'dealmaker');
    t.ok(expected.length > 0);
    const got = await mailsOf('Waiting dealmakers', expected.length);
    t.same(got.map((m) => m.to).sort(), expected.map(address).sort(), 'only the waitlisted dealmakers');
    t.ok(
      got.every((m) => /^Dear /.test(String(m.parsed.text))),
      'the English text in its English frame, also for Dutch attendees',
    );
    const stored = (await reg('GET', `/admin/meetings/${meetingId}/messages`)).json().items[0];
    t.ok(new Date(stored.sentAt).getTime() >= sendAt.getTime(), 'sent at its time, not before');
  });

  t.test('bad input is refused naming the field, and nothing is written', async (t) => {
    const before = (await reg('GET', `/admin/meetings/${meetingId}/messages`)).json().items.length;
    const cases: [object, string][] = [
      [{ statuses: [], texts: texts('x') }, 'statuses'],
      [{ statuses: ['cancelled'], texts: texts('x') }, 'statuses'],
      [{ statuses: ['confirmed'], texts: {} }, 'texts'],
      [{ statuses: ['confirmed'], texts: { nl: { subject: ' ', body: 'x' } } }, 'subject'],
      [{ statuses: ['confirmed'], texts: texts('x'), roles: ['wethouder'] }, 'roles'],
      [{ statuses: ['confirmed'], texts: texts('x'), sendAt: 'tomorrow' }, 'sendAt'],
    ];
    for (const [payload, field] of cases) {
      const res = await reg('POST', `/admin/meetings/${meetingId}/messages`, payload);
      t.equal(res.status, 400, `${field}: ${res.body}`);
      t.match(res.body, field, `the problem names ${field}`);
    }
    const unknown = await reg('POST', '/admin/meetings/01936c10-0000-7000-8000-000000000000/messages', {
      statuses: ['confirmed'],
      texts: texts('x'),
    });
    t.equal(unknown.status, 404, unknown.body);
    const after = (await reg('GET', `/admin/meetings/${meetingId}/messages`)).json().items.length;
    t.equal(after, before, 'no message was stored');
    const badPreview = await note('POST', `/admin/meetings/${meetingId}/message-preview`, {
      language: 'fr',
      subject: 'x',
      body: 'x',
    });
    t.equal(badPreview.status, 400, badPreview.body);
    t.match(badPreview.body, 'language');
  });
}
