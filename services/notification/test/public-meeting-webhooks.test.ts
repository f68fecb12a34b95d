/**
 * Public meeting events reach webhook endpoints as deal events do: signed per Standard Webhooks, per
 * subscribed type, and nothing else from registration's stream. The events are the ones registration
 * really emits (packages/testkit/fixtures, recorded by services/registration/test/event-fixtures.test.ts):
 * the whole recorded journey is published, attendee events with their names and addresses included, and
 * no webhook body may carry any of those.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEvent, findEventByType, publicMeetingEvents } from '@citydeals/contracts';
import { publishEvent } from '@citydeals/messaging';
import { newEventId, shutdown } from '@citydeals/service-kit';
import {
  adminHeaders,
  countFields,
  eventually,
  findPersonalData,
  recordedRegistrationEvents,
  startTestService,
} from '@citydeals/testkit';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { loadServiceConfig } from '../src/config.ts';
import { startService } from '../src/service.ts';
import { endpointCreator } from './webhooks.endpoints.ts';
import { startReceiver } from './webhooks.receiver.ts';

const receiver = await startReceiver();
const mailDir = await mkdtemp(path.join(tmpdir(), 'public-meeting-webhooks-'));
const ctx = await startTestService((env) => startService(loadServiceConfig(env)), shutdown, {
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  WEBHOOK_ALLOWED_PORTS: '*',
  WEBHOOK_POLL_INTERVAL: '50ms',
  WEBHOOK_ATTEMPT_TIMEOUT: '2s',
  WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms',
  WEBHOOK_RETRY_JITTER: '0',
  MAIL_DIR: mailDir,
});
t.teardown(async () => {
  await ctx.close();
  await receiver.close();
  await rm(mailDir, { recursive: true, force: true });
});
const { http, runtime } = ctx.service;
const createEndpoint = endpointCreator(http);

const publicSubjects = Object.values(publicMeetingEvents).map((d) => d.subject);
const publicTypes = new Set<string>(Object.values(publicMeetingEvents).map((d) => d.type));

/** The recorded journey with fresh ids in place of its placeholders (the same placeholder, the same id). */
function materialise() {
  const ids = new Map<string, string>();
  const text = JSON.stringify(recordedRegistrationEvents())
    .replace(/<id:\d+>/g, (placeholder) => {
      if (!ids.has(placeholder)) ids.set(placeholder, newEventId());
      return ids.get(placeholder)!;
    })
    .replaceAll('<publicBaseUrl>', 'https://cop.example.org')
    .replaceAll('<secret>', 'Hn4Rt7Wq1Zp6Ys0Bv8Kc2eXfeedsecret');
  return JSON.parse(text) as { type: string; data: Record<string, any> }[];
}

t.test(
  'registration’s public meeting events reach subscribed endpoints, signed; nothing personal',
  async (t) => {
    const seatsOnly = await createEndpoint({
      url: receiver.url('/seats'),
      description: 'Website: seat levels',
      eventTypes: ['registration.public_meeting.seats_changed'],
    });
    const meetings = await createEndpoint({
      url: receiver.url('/meetings'),
      description: 'Website: every public meeting change',
      eventTypes: publicSubjects,
    });
    const everything = await createEndpoint({
      url: receiver.url('/all'),
      description: 'Evaluation: everything',
      eventTypes: ['*'],
    });
    const dealsOnly = await createEndpoint({
      url: receiver.url('/deals'),
      description: 'Dashboard: deals only',
      eventTypes: ['deal_tracking.deal.phase_changed'],
    });

    const journey = materialise();
    const published = [];
    for (const { type, data } of journey) {
      const definition = findEventByType(type);
      if (!definition) throw new Error(`recorded type ${type} is not in the catalog`);
      const event = createEvent(definition, {
        id: newEventId(),
        time: new Date(),
        source: '/registration',
        subject: data.registrationId ?? data.meetingId ?? data.erasureId,
        data: data as never,
      });
      await publishEvent(runtime.js, runtime.ns, definition, event);
      published.push(event);
    }
    const publicEvents = published.filter((e) => publicTypes.has(e.type));
    t.ok(publicEvents.length >= 6, 'the recording holds every kind of public meeting event');
    t.ok(published.length > publicEvents.length + 5, 'and the attendee events around them');

    await eventually(
      () =>
        receiver.at('/meetings').length >= publicEvents.length &&
        receiver.at('/all').length >= publicEvents.length &&
        receiver.at('/seats').length >= 1,
      30_000,
    );
    // The deal-only endpoint's messages would have been queued in the same transactions as these.
    const queued = await runtime.db
      .selectFrom('webhook_message')
      .select(['endpoint_id', 'event_type'])
      .execute();
    t.equal(queued.filter((m) => m.endpoint_id === dealsOnly.id).length, 0, 'deal subscribers get none');

    for (const [endpoint, at] of [
      [meetings, '/meetings'],
      [everything, '/all'],
    ] as const) {
      const bodies = receiver.at(at).map((r) => {
        const verified = new Webhook(endpoint.secret).verify(r.body, r.headers as Record<string, string>);
        return verified as { id: string };
      });
      t.same(
        bodies.map((b) => b.id).sort(),
        publicEvents.map((e) => e.id).sort(),
        `${at}: every public meeting event once, and no attendee event`,
      );
      for (const body of bodies) {
        t.same(
          body,
          publicEvents.find((e) => e.id === body.id),
          'the body is the event as published',
        );
      }
    }
    const seats = receiver.at('/seats');
    t.same(
      seats.map((r) => (JSON.parse(r.body) as { type: string }).type),
      [publicMeetingEvents.publicMeetingSeatsChanged.type],
      'a subscriber of seats_changed gets only that',
    );
    const tampered = seats[0]!.body.replace('"full"', '"available"');
    t.not(tampered, seats[0]!.body);
    t.throws(
      () => new Webhook(seatsOnly.secret).verify(tampered, seats[0]!.headers as Record<string, string>),
      'a changed body does not verify',
    );

    // Everything personal that went onto the stream: names, addresses, manage links, registration ids.
    const attendees = journey.filter((e) => e.type.includes('.attendee.')).map((e) => e.data);
    const personal = [
      ...new Set(
        attendees.flatMap((a) =>
          [a.name, a.email, a.registrationId, a.manageUrl].filter((v) => typeof v === 'string'),
        ),
      ),
    ] as string[];
    t.ok(personal.length >= 9, 'three people, each with name, address and registration id');
    const received = receiver.received.map((r) => ({ headers: r.headers, body: JSON.parse(r.body) }));
    t.ok(countFields(received) > 300, 'the walk covers every field of every delivery');
    t.same(findPersonalData(received, personal), [], 'no header or field of any delivery names anyone');
  },
);

t.test(
  'meeting messages have the retry and replay of every webhook: same webhook-id each time',
  async (t) => {
    // Answers 503 the first time, then accepts.
    receiver.on('/flaky', (_request, nth) => ({ status: nth === 1 ? 503 : 200 }));
    const endpoint = await createEndpoint({
      url: receiver.url('/flaky'),
      description: 'Website behind a restarting proxy',
      eventTypes: ['registration.public_meeting.cancelled'],
    });
    const since = new Date().toISOString();
    const [recorded] = materialise().filter(
      (e) => e.type === publicMeetingEvents.publicMeetingCancelled.type,
    );
    const event = createEvent(publicMeetingEvents.publicMeetingCancelled, {
      id: newEventId(),
      time: new Date(),
      source: '/registration',
      subject: recorded!.data.meetingId,
      data: recorded!.data as never,
    });
    await publishEvent(runtime.js, runtime.ns, publicMeetingEvents.publicMeetingCancelled, event);
    await eventually(() => receiver.at('/flaky').length >= 2, 30_000);
    const [refused, accepted] = receiver.at('/flaky');
    t.same([refused!.status, accepted!.status], [503, 200], 'refused, then retried and accepted');
    t.equal(
      accepted!.headers['webhook-id'],
      refused!.headers['webhook-id'],
      'one webhook-id for both attempts',
    );
    t.same(
      new Webhook(endpoint.secret).verify(accepted!.body, accepted!.headers as Record<string, string>),
      event,
    );

    const replay = await http.inject({
      method: 'POST',
      url: `/webhooks/endpoints/${endpoint.id}/replay`,
      headers: adminHeaders,
      payload: { since, onlyFailed: false },
    });
    t.equal(replay.statusCode, 202);
    t.equal(replay.json().queued, 1);
    await eventually(() => receiver.at('/flaky').length >= 3, 30_000);
    const replayed = receiver.at('/flaky')[2]!;
    t.equal(replayed.headers['webhook-id'], accepted!.headers['webhook-id'], 'a replay keeps the webhook-id');
    t.same(
      new Webhook(endpoint.secret).verify(replayed.body, replayed.headers as Record<string, string>),
      event,
    );
  },
);
