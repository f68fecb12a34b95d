/**
 * The waitlist offer mail, fed the events registration really emits (the offer journey recorded by
 * services/registration/test/event-fixtures.test.ts): the person on the waitlist gets the offer with the
 * accept link and the deadline in the meeting's time zone, in their language, then the usual promoted mail
 * with the calendar invitation once they accept.
 */
import { createEvent, findEventByType } from '@citydeals/contracts';
import { namespace, publishEvent } from '@citydeals/messaging';
import { newEventId } from '@citydeals/service-kit';
import { eventually, recordedRegistrationEvents } from '@citydeals/testkit';
import t from 'tap';
import { startNotification } from '../harness.ts';
import { parseIcs, startSmtpServer } from './email.fixture.ts';

const smtp = await startSmtpServer();
const ctx = await startNotification({ SMTP_URL: smtp.url, MAIL_POLL_MS: '50', REMINDER_POLL_MS: '50' });
t.teardown(async () => {
  await ctx.close();
  await smtp.close();
});
const { runtime } = ctx.service;
const ns = namespace(ctx.namespace);

const ACCEPT_TOKEN = 'Vb3Nq8Lx2Tk7Wr0Zc5Hm9Df4Gj1Sp6Ya';

/** The recorded events of the offer journey, with fresh ids and a token for each secret. */
function offerJourney() {
  const recorded = recordedRegistrationEvents();
  const offer = recorded.find((e) => e.type.endsWith('.attendee.seat_offered.v1'));
  if (!offer) throw new Error('the recording holds no seat_offered event');
  const ids = new Map<string, string>();
  const text = JSON.stringify(recorded.filter((e) => e.data.meetingId === offer.data.meetingId))
    .replace(/<id:\d+>/g, (placeholder) => {
      if (!ids.has(placeholder)) ids.set(placeholder, newEventId());
      return ids.get(placeholder)!;
    })
    .replaceAll('<publicBaseUrl>', 'https://cop.example.org')
    // Manage links and the accept link alike: one token for all secrets keeps the placeholders apart.
    .replaceAll('/aanmelding/plek/<secret>', `/aanmelding/plek/${ACCEPT_TOKEN}`)
    .replaceAll('<secret>', 'Hn4Rt7Wq1Zp6Ys0Bv8Kc2eXmanagesecr');
  return JSON.parse(text) as { type: string; data: Record<string, any> }[];
}

t.test(
  'the offer mail carries the accept link and the deadline; accepting brings the promoted mail',
  async (t) => {
    const journey = offerJourney();
    t.same(
      journey.map((e) => e.type.replace(/^nl\.citydeals\.registration\.|\.v\d+$/g, '')),
      [
        'meeting.scheduled',
        'attendee.registered',
        'attendee.waitlisted',
        'attendee.cancelled',
        'attendee.seat_offered',
        'attendee.promoted',
      ],
      'the recorded offer journey',
    );
    for (const { type, data } of journey) {
      const definition = findEventByType(type)!;
      const event = createEvent(definition, {
        id: newEventId(),
        time: new Date(),
        source: '/registration',
        subject: data.registrationId ?? data.meetingId,
        data: data as never,
      });
      await publishEvent(runtime.js, ns, definition, event);
    }
    const offered = journey.find((e) => e.type.endsWith('.seat_offered.v1'))!.data;
    const waitlisted = journey.find((e) => e.type.endsWith('.waitlisted.v1'))!.data;
    t.ok(await eventually(() => smtp.to(offered.email).length === 3), 'waitlisted, offer and promoted mails');
    const [first, offerMail, promoted] = smtp.to(offered.email);
    t.equal(first!.kind, 'waitlisted');
    t.equal(offerMail!.kind, 'waitlist_offer');
    t.equal(offered.language, 'en');
    t.match(offerMail!.parsed.subject, /^A seat is free for you: /, 'in the language of the registration');
    const acceptUrl = `https://cop.example.org/aanmelding/plek/${ACCEPT_TOKEN}`;
    t.equal(offered.acceptUrl, acceptUrl);
    t.ok(offerMail!.parsed.text!.includes(acceptUrl), 'the accept link in the text');
    t.ok(String(offerMail!.parsed.html).includes(`href="${acceptUrl}"`), 'and as the button in the HTML');
    const deadline = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Amsterdam',
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    }).formatToParts(new Date(offered.expiresAt));
    const part = (type: string) => deadline.find((p) => p.type === type)!.value;
    t.ok(
      offerMail!.parsed.text!.includes(`${part('hour')}:${part('minute')}`) &&
        offerMail!.parsed.text!.includes(`${part('day')} ${part('month')} ${part('year')}`),
      'the deadline in the meeting’s time zone',
      { text: offerMail!.parsed.text, expiresAt: offered.expiresAt },
    );
    t.ok(
      offerMail!.parsed.text!.includes(waitlisted.manageUrl),
      'and the personal manage link of the first mail',
    );
    t.equal(offerMail!.ics(), undefined, 'no calendar entry for a seat not yet taken');
    t.equal(promoted!.kind, 'promoted', 'accepting sends the usual promoted mail');
    t.equal(parseIcs(promoted!).method, 'REQUEST', 'with the invitation');
  },
);
