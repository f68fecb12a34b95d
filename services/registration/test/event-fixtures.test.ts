/**
 * Records the events of one registration journey through the service's real routes and checks that the
 * recording consumers test with (packages/testkit/fixtures/registration-events.json) is current. After a
 * deliberate change to what registration emits: `UPDATE_FIXTURES=1 npm exec -- tap <this file>`.
 */

import { newEventId } from '@citydeals/service-kit';
import {
  eventually,
  normalizeEvents,
  type RecordedEvent,
  recordedRegistrationEvents,
  writeRecordedRegistrationEvents,
} from '@citydeals/testkit';
import t from 'tap';
import { sweepExpiredConfirmations } from '../src/address-confirmation/address-confirmation.service.ts';
import { createServiceContext } from '../src/context.ts';
import { CORRECTION_WINDOW_MS } from '../src/feed/meeting-feed.rules.ts';
import { announceMeetings } from '../src/feed/meeting-feed.service.ts';
import {
  adminHeaders,
  createMeeting,
  insertDeals,
  outboxEvents,
  person,
  registerPerson,
  shortType,
  startRegistration,
  TestClock,
} from './harness.ts';

const PUBLIC_BASE_URL = 'https://cop.example.org';
const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, { PUBLIC_BASE_URL });
t.teardown(() => ctx.close());
const svc = ctx.service;

/** `count` events from the service's stream from sequence `from` on, waiting for the relay to publish them. */
async function streamEvents(from: number, count: number): Promise<RecordedEvent[]> {
  const { jsm, ns, stream } = svc.runtime;
  const name = ns.streamName(stream);
  const last = from + count - 1;
  await eventually(async () => (await jsm.streams.info(name)).state.last_seq >= last);
  const events: RecordedEvent[] = [];
  for (let seq = from; seq <= last; seq++) {
    const msg = await jsm.streams.getMessage(name, { seq });
    if (msg) events.push(msg.json<RecordedEvent>());
  }
  return events;
}

const tokenOf = (manageUrl: string) => manageUrl.slice(manageUrl.lastIndexOf('/') + 1);

/** The public meeting feed's announcer, run at fixed points of the journey so the recording is stable. */
const announce = () =>
  announceMeetings(
    { db: svc.runtime.db, clock, newId: newEventId, publicBaseUrl: PUBLIC_BASE_URL },
    { throttleMs: 15 * 60_000, correctionWindowMs: CORRECTION_WINDOW_MS },
  );

t.test('the recorded registration events are what registration emits now', async (t) => {
  const admin = async (method: 'POST' | 'PATCH', url: string, payload: object = {}) => {
    const res = await svc.http.inject({ method, url, headers: adminHeaders, payload });
    if (res.statusCode !== 200 && res.statusCode !== 201)
      throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  };
  const meeting = await createMeeting(svc, { slug: 'cop-recorded', capacity: 1, reminderOffsets: ['P7D'] });
  await announce();
  const anna = (await registerPerson(svc, meeting.id, person(1, { language: 'nl' }))).json();
  const bram = (await registerPerson(svc, meeting.id, person(2, { language: 'en' }))).json();
  await announce();
  clock.advance(60_000);
  const cancel = await svc.http.inject({
    method: 'POST',
    url: `/registrations/manage/${tokenOf(anna.manageUrl)}/cancel`,
  });
  t.equal(cancel.statusCode, 200, 'Anna cancels; Bram is promoted');
  await admin('PATCH', `/admin/meetings/${meeting.id}`, { venue: { name: 'Stadhuis', address: 'Spui 70' } });
  await announce();
  await admin('POST', `/admin/meetings/${meeting.id}/reschedule`, {
    startsAt: '2027-03-18T13:00',
    endsAt: '2027-03-18T17:30',
  });
  await announce();
  await admin('POST', `/admin/registrations/${bram.registrationId}/check-in`);
  await admin('POST', `/admin/registrations/${bram.registrationId}/check-in/undo`);
  await admin('PATCH', `/admin/registrations/${bram.registrationId}`, { organisation: 'Provincie Utrecht' });
  await admin('PATCH', `/admin/registrations/${bram.registrationId}`, {
    name: 'Carla Vervanger',
    email: 'carla.vervanger@example.org',
    substitute: true,
  });
  await admin('POST', `/admin/registrations/${bram.registrationId}/check-in`);
  // Only Bram is checked in; he chose English, the office wrote Dutch only.
  await admin('POST', `/admin/meetings/${meeting.id}/messages`, {
    statuses: ['checked_in'],
    texts: { nl: { subject: 'Welkom', body: 'De zaal is open vanaf 12:30.\n\nTot zo!' } },
  });
  await admin('POST', `/admin/meetings/${meeting.id}/cancel`, { reason: 'Zaal niet beschikbaar' });
  await announce();
  // A second meeting that takes place: its attendance per deal is announced once it has ended.
  const deal = { id: newEventId(), name: 'Fietsen voor Iedereen', phase: 'building' };
  await insertDeals(svc, [deal]);
  const held = await createMeeting(svc, { slug: 'cop-recorded-held', capacity: 5, reminderOffsets: [] });
  const eva = (await registerPerson(svc, held.id, person(5, { dealId: deal.id }))).json();
  await admin('POST', `/admin/registrations/${eva.registrationId}/check-in`);
  await admin('POST', `/admin/meetings/${held.id}/reschedule`, {
    startsAt: '2027-01-09T13:00',
    endsAt: '2027-01-09T17:00',
  });
  await announce();
  // Read back from the stream, as consumers get them; the erasure last, as it may scrub what went before.
  const outbox = await outboxEvents(svc);
  const substituteUrl = outbox.find((e) => shortType(e.type) === 'attendee.substituted')!.data
    .manageUrl as string;
  const journey = await streamEvents(1, outbox.length);
  await admin('POST', '/admin/erasures', { email: person(1).email });
  const erasure = await streamEvents(journey.length + 1, 1);

  // A meeting that asks for the address to be confirmed: Carla confirms, Daan's request expires.
  const confirming = await createMeeting(svc, { slug: 'cop-confirmed', addressConfirmation: true });
  await registerPerson(svc, confirming.id, person(3, { language: 'en' }));
  const carlaLink = (await outboxEvents(svc)).at(-1)!.data.confirmUrl as string;
  const carla = await svc.http.inject({
    method: 'POST',
    url: `/registrations/confirmations/${tokenOf(carlaLink)}`,
  });
  t.equal(carla.statusCode, 201, 'Carla confirms her address');
  await registerPerson(svc, confirming.id, person(4));
  const daanLink = (await outboxEvents(svc)).at(-1)!.data.confirmUrl as string;
  // After the erasure's person.erased: the new meeting, the two requests and Carla's registration, read
  // before Daan's request ends (its end erases its event from the stream).
  const requested = await streamEvents(journey.length + erasure.length + 1, 5);
  clock.advance(25 * 3600_000);
  const swept = await sweepExpiredConfirmations(
    createServiceContext({ db: svc.runtime.db, clock, newId: newEventId, publicBaseUrl: PUBLIC_BASE_URL }),
  );
  t.equal(swept, 2, 'the sweep forgets both requests once their links expired');
  // Carla is checked in and, once the meeting has begun, asked for her feedback.
  await admin('POST', `/admin/registrations/${carla.json().registrationId}/check-in`);
  clock.current = new Date('2027-03-11T16:45:00Z');
  await admin('POST', `/admin/meetings/${confirming.id}/survey`);
  const surveyLink = (await outboxEvents(svc)).at(-1)!.data.surveyUrl as string;
  const ended = await streamEvents(journey.length + erasure.length + requested.length + 1, 3);
  const confirmation = [...requested, ...ended];
  // Sessions: Femke gives up her place in a full workshop and Gijs (who reads English), waiting for it,
  // gets it; Femke queues for it again and gets it back when Gijs gives it up.
  const workshops = await createMeeting(svc, {
    slug: 'cop-recorded-sessions',
    startsAt: '2027-06-10T13:00',
    endsAt: '2027-06-10T17:00',
    reminderOffsets: [],
  });
  const workshop = await svc.http.inject({
    method: 'POST',
    url: `/admin/meetings/${workshops.id}/sessions`,
    headers: adminHeaders,
    payload: {
      title: 'Ontwerpsessie',
      startsAt: '2027-06-10T14:00',
      endsAt: '2027-06-10T15:00',
      capacity: 1,
    },
  });
  const sessionIds = [workshop.json().id];
  const femke = (await registerPerson(svc, workshops.id, person(6, { sessionIds }))).json();
  const gijs = (await registerPerson(svc, workshops.id, person(7, { sessionIds, language: 'en' }))).json();
  const choose = async (manageUrl: string, ids: string[]) =>
    (
      await svc.http.inject({
        method: 'PUT',
        url: `/registrations/manage/${tokenOf(manageUrl)}/sessions`,
        payload: { sessionIds: ids },
      })
    ).statusCode;
  t.equal(await choose(femke.manageUrl, []), 200, 'Femke leaves the workshop; Gijs gets her place');
  t.equal(await choose(femke.manageUrl, sessionIds), 200, 'Femke waits for it again');
  t.equal(await choose(gijs.manageUrl, []), 200, 'Gijs leaves it; Femke gets it back');
  const sessions = await streamEvents(journey.length + erasure.length + confirmation.length + 1, 5);

  // A meeting that offers free seats: Fenna cancels, the seat is offered to Gijs, who accepts it.
  const offering = await createMeeting(svc, {
    slug: 'cop-offers',
    capacity: 1,
    startsAt: '2027-05-20T13:00',
    endsAt: '2027-05-20T17:00',
    waitlistPromotion: 'offer',
    reminderOffsets: [],
  });
  const fenna = (await registerPerson(svc, offering.id, person(6))).json();
  const gijsWaiting = (await registerPerson(svc, offering.id, person(7, { language: 'en' }))).json();
  await svc.http.inject({ method: 'POST', url: `/registrations/manage/${tokenOf(fenna.manageUrl)}/cancel` });
  const acceptUrl = (await outboxEvents(svc)).at(-1)!.data.acceptUrl as string;
  const accept = await svc.http.inject({
    method: 'POST',
    url: `/registrations/offers/${tokenOf(acceptUrl)}/accept`,
  });
  t.equal(accept.statusCode, 200, 'Gijs accepts the seat offered to him');
  const offered = await streamEvents(
    journey.length + erasure.length + confirmation.length + sessions.length + 1,
    6,
  );

  const events = normalizeEvents(
    [...journey, ...erasure, ...confirmation, ...sessions, ...offered].map(
      ({ type, data }): RecordedEvent => ({ type, data }),
    ),
    {
      publicBaseUrl: PUBLIC_BASE_URL,
      secrets: [
        tokenOf(anna.manageUrl),
        tokenOf(bram.manageUrl),
        tokenOf(carlaLink),
        tokenOf(daanLink),
      ].concat(
        tokenOf(carla.json().manageUrl),
        tokenOf(surveyLink),
        tokenOf(substituteUrl),
        tokenOf(eva.manageUrl),
        tokenOf(femke.manageUrl),
        tokenOf(gijs.manageUrl),
        tokenOf(fenna.manageUrl),
        tokenOf(gijsWaiting.manageUrl),
        tokenOf(acceptUrl),
      ),
    },
  );
  if (process.env.UPDATE_FIXTURES) writeRecordedRegistrationEvents(events);
  t.same(
    events,
    recordedRegistrationEvents(),
    'registration emits what consumers test with; if this change is meant, run with UPDATE_FIXTURES=1',
  );
  const types = new Set(events.map((e) => e.type.replace(/^.*registration\.|\.v\d+$/g, '')));
  t.same(
    [...types].sort(),
    [
      'attendee.cancelled',
      'attendee.check_in_undone',
      'attendee.checked_in',
      'attendee.confirmation_requested',
      'attendee.details_changed',
      'attendee.erased',
      'attendee.message_requested',
      'attendee.promoted',
      'attendee.registered',
      'attendee.seat_offered',
      'attendee.session_place_granted',
      'attendee.substituted',
      'attendee.survey_requested',
      'attendee.waitlisted',
      'meeting.cancelled',
      'meeting.rescheduled',
      'meeting.scheduled',
      'meeting.updated',
      'person.erased',
      'public_meeting.attendance_recorded',
      'public_meeting.cancelled',
      'public_meeting.changed',
      'public_meeting.rescheduled',
      'public_meeting.scheduled',
      'public_meeting.seats_changed',
    ],
    'every kind of registration event is recorded',
  );
});
