/**
 * The session place mail, fed the events registration really emits (the sessions journey recorded by
 * services/registration/test/event-fixtures.test.ts): Femke leaves a full workshop and Gijs, waiting, gets
 * her place; Femke queues again and gets it back when Gijs leaves. Each gets a short mail over real SMTP,
 * in their own language (Gijs chose English in a Dutch meeting), with their own manage link; a redelivered
 * event sends nothing more.
 */
import { createEvent, findEventByType, natsSubjectOf } from '@citydeals/contracts';
import { namespace, publishEvent } from '@citydeals/messaging';
import { newEventId } from '@citydeals/service-kit';
import { eventually, recordedRegistrationEvents } from '@citydeals/testkit';
import t from 'tap';
import { startNotification } from '../harness.ts';
import { notificationRows, startSmtpServer } from './email.fixture.ts';

const smtp = await startSmtpServer();
const ctx = await startNotification({ SMTP_URL: smtp.url, MAIL_POLL_MS: '50', REMINDER_POLL_MS: '50' });
t.teardown(async () => {
  await ctx.close();
  await smtp.close();
});
const { runtime } = ctx.service;
const ns = namespace(ctx.namespace);
const { inboxHas } = notificationRows(runtime.db);

/**
 * The recorded events of the sessions journey, with fresh ids, and in each first event's manage link a
 * token of that registration's own, so the mails can be told apart by their links.
 */
function sessionsJourney() {
  const recorded = recordedRegistrationEvents();
  const grant = recorded.find((e) => e.type.endsWith('.attendee.session_place_granted.v1'));
  if (!grant) throw new Error('the recording holds no session_place_granted event');
  const ids = new Map<string, string>();
  const text = JSON.stringify(recorded.filter((e) => e.data.meetingId === grant.data.meetingId))
    .replace(/<id:\d+>/g, (placeholder) => {
      if (!ids.has(placeholder)) ids.set(placeholder, newEventId());
      return ids.get(placeholder)!;
    })
    .replaceAll('<publicBaseUrl>', 'https://cop.example.org');
  const events = JSON.parse(text) as { type: string; data: Record<string, any> }[];
  for (const { data } of events) {
    if (typeof data.manageUrl === 'string' && data.manageUrl.endsWith('/<secret>')) {
      const token = `${data.registrationId.replaceAll('-', '')}`.slice(0, 32);
      data.manageUrl = data.manageUrl.replace('<secret>', token);
    }
  }
  return events;
}

function eventOf(type: string, data: Record<string, any>) {
  const definition = findEventByType(type)!;
  return {
    definition,
    event: createEvent(definition, {
      id: newEventId(),
      time: new Date(),
      source: '/registration',
      subject: data.registrationId ?? data.meetingId,
      data: data as never,
    }),
  };
}

t.test(
  'a session place given by promotion is mailed in the attendee’s language with their link',
  async (t) => {
    const journey = sessionsJourney();
    t.same(
      journey.map((e) => e.type.replace(/^nl\.citydeals\.registration\.|\.v\d+$/g, '')),
      [
        'meeting.scheduled',
        'attendee.registered',
        'attendee.registered',
        'attendee.session_place_granted',
        'attendee.session_place_granted',
      ],
      'the recorded sessions journey',
    );
    const published = [];
    for (const { type, data } of journey) {
      const { definition, event } = eventOf(type, data);
      await publishEvent(runtime.js, ns, definition, event);
      published.push(event);
    }
    const meeting = journey[0]!.data;
    const [femke, gijs] = journey.filter((e) => e.type.endsWith('.registered.v1')).map((e) => e.data);
    const [toGijs, toFemke] = journey.filter((e) => e.type.endsWith('.session_place_granted.v1'));
    t.equal(toGijs!.data.registrationId, gijs!.registrationId, 'Gijs got the place first');
    t.equal(toFemke!.data.registrationId, femke!.registrationId, 'then Femke');
    t.equal(meeting.language, 'nl', 'a Dutch meeting');
    t.equal(gijs!.language, 'en', 'Gijs chose English');
    t.equal(femke!.language, 'nl', 'Femke Dutch');
    t.not(gijs!.manageUrl, femke!.manageUrl, 'each with a link of their own');

    const kinds = (email: string) => smtp.to(email).map((m) => m.kind);
    t.ok(
      await eventually(
        () => kinds(gijs!.email).includes('session_place') && kinds(femke!.email).includes('session_place'),
      ),
      'both get the mail',
      { gijs: kinds(gijs!.email), femke: kinds(femke!.email) },
    );
    const sessionMail = (email: string) => smtp.to(email).find((m) => m.kind === 'session_place')!;

    const en = sessionMail(gijs!.email);
    t.equal(en.parsed.subject, 'You have a place in the session Ontwerpsessie', 'English: his choice wins');
    t.match(
      en.parsed.text,
      /a place came free in the session “Ontwerpsessie” and it is yours/,
      'a place came free in the session',
    );
    t.match(
      en.parsed.text,
      /Time: +Thursday, 10 June 2027, 14:00 – 15:00 \(Europe\/Amsterdam\)/,
      'the session’s time in the meeting’s zone (12:00 UTC is 14:00 in Amsterdam in June)',
    );
    t.ok(en.parsed.text!.includes(gijs!.manageUrl), 'his own manage link in the text');
    t.ok(String(en.parsed.html).includes(`href="${gijs!.manageUrl}"`), 'and in the HTML');
    t.notOk(en.raw.includes(femke!.manageUrl), 'not Femke’s');
    t.equal(en.ics(), undefined, 'no calendar entry: the meeting’s invitation stands');

    const nl = sessionMail(femke!.email);
    t.equal(nl.parsed.subject, 'Je hebt een plek in de sessie Ontwerpsessie', 'Dutch for Femke');
    t.match(
      nl.parsed.text,
      /er is een plek vrijgekomen in de sessie ‘Ontwerpsessie’ en die is voor jou/,
      'in Dutch: a place came free',
    );
    t.match(
      nl.parsed.text,
      /Tijd: +donderdag 10 juni 2027, 14:00 – 15:00 \(Europe\/Amsterdam\)/,
      'in Dutch: the session’s time',
    );
    t.ok(nl.parsed.text!.includes(femke!.manageUrl), 'her own manage link');
    t.ok(String(nl.parsed.html).includes(`href="${femke!.manageUrl}"`), 'in the HTML too');

    // The grant to Gijs delivered again (as after a redelivery past JetStream's duplicate window), then a
    // marker behind it: once the marker is handled, the repeat was too, and it queued nothing.
    const repeat = published[3]!;
    t.equal(repeat.type, toGijs!.type, 'the repeat is the grant to Gijs');
    await runtime.js.publish(
      ns.subject(natsSubjectOf(findEventByType(repeat.type)!, repeat.subject)),
      JSON.stringify(repeat),
      { msgID: `${repeat.id}-again` },
    );
    const marker = eventOf(journey[0]!.type, meeting);
    await publishEvent(runtime.js, ns, marker.definition, marker.event);
    t.ok(await eventually(() => inboxHas(marker.event.id)), 'the marker behind the repeat was handled');
    const rows = await runtime.db
      .selectFrom('email')
      .select('registration_id')
      .where('kind', '=', 'session_place')
      .where('meeting_id', '=', meeting.meetingId)
      .execute();
    t.equal(rows.length, 2, 'one mail per place given, the repeat queued none');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.equal(smtp.to(gijs!.email).filter((m) => m.kind === 'session_place').length, 1, 'and sent none');
  },
);
