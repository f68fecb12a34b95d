import t from 'tap';
import {
  attendeeErased,
  checkCatalog,
  createEvent,
  decodeEvent,
  defineEvent,
  type EventDefinition,
  eventCatalog,
  findEventBySubject,
  findEventByType,
  meetingScheduled,
  streams,
  subjectMatchesFilter,
} from '../src/index.ts';

// The events table of docs/architecture.md, spelled out so that a missing or renamed event fails here.
const expectedSubjects = [
  'registration.meeting.scheduled',
  'registration.meeting.updated',
  'registration.meeting.rescheduled',
  'registration.meeting.cancelled',
  'registration.attendee.registered',
  'registration.attendee.waitlisted',
  'registration.attendee.promoted',
  'registration.attendee.seat_offered',
  'registration.attendee.cancelled',
  'registration.attendee.checked_in',
  'registration.attendee.check_in_undone',
  'registration.attendee.details_changed',
  'registration.attendee.substituted',
  'registration.attendee.marked_no_show',
  'registration.attendee.needs_changed',
  'registration.attendee.erased',
  'registration.attendee.session_place_granted',
  'registration.attendee.link_reissued',
  'registration.attendee.confirmation_requested',
  'registration.attendee.survey_requested',
  'registration.attendee.message_requested',
  'registration.person.erased',
  'registration.public_meeting.scheduled',
  'registration.public_meeting.changed',
  'registration.public_meeting.rescheduled',
  'registration.public_meeting.cancelled',
  'registration.public_meeting.seats_changed',
  'registration.public_meeting.attendance_recorded',
  'deal_tracking.deal.created',
  'deal_tracking.deal.updated',
  'deal_tracking.deal.phase_changed',
  'deal_tracking.deal.term_extended',
  'deal_tracking.deal.tranche_started',
  'deal_tracking.partner.joined',
  'deal_tracking.partner.left',
  'deal_tracking.result.recorded',
  'deal_tracking.lesson.recorded',
  'deal_tracking.link.created',
  'notification.email.sent',
  'notification.email.failed',
  'notification.webhook.delivered',
  'notification.webhook_deliveries.recorded',
  'notification.webhook.failed',
  'registration.consumer.dead_lettered',
  'registration.consumer.fell_behind',
  'deal_tracking.consumer.dead_lettered',
  'deal_tracking.consumer.fell_behind',
  'notification.consumer.dead_lettered',
  'notification.consumer.fell_behind',
  'notification.alert.endpoint_disabled',
  'notification.alert.retries_exhausted',
  'notification.alert.mails_failed',
  'notification.alert.mails_suppressed',
  'notification.alert.dead_lettered',
  'notification.alert.consumer_fell_behind',
];

t.test('the catalog holds exactly the events of the architecture table', async (t) => {
  t.same(
    eventCatalog.map((def) => def.subject),
    expectedSubjects,
  );
  t.ok(Object.isFrozen(eventCatalog));
});

t.test('subjects and types are unique, well-formed and belong to their stream', async (t) => {
  t.same(checkCatalog(eventCatalog), []);
  t.equal(new Set(eventCatalog.map((def) => def.type)).size, eventCatalog.length);
  t.equal(new Set(eventCatalog.map((def) => def.subject)).size, eventCatalog.length);
  for (const def of eventCatalog) {
    t.match(def.subject, /^(registration|deal_tracking|notification)\.[a-z_]+\.[a-z_]+$/);
    t.equal(def.type, `nl.citydeals.${def.subject}.v1`);
    const service = def.subject.split('.')[0] as keyof typeof streams;
    t.equal(def.stream, streams[service], `${def.subject} is on ${streams[service].name}`);
    t.ok(def.stream.subjects.some((filter) => subjectMatchesFilter(filter, def.subject)));
    t.ok(def.description.length > 20, `${def.subject} is described`);
  }
});

t.test('checkCatalog finds what is wrong', async (t) => {
  t.same(checkCatalog([meetingScheduled, meetingScheduled]), [
    `duplicate type ${meetingScheduled.type}`,
    'duplicate subject registration.meeting.scheduled v1',
  ]);

  const present = defineEvent({
    subject: 'registration.meeting.schedule',
    version: 1,
    description: 'not past tense',
    data: meetingScheduled.data,
    example: meetingScheduled.example,
  });
  t.same(checkCatalog([present]), ['subject registration.meeting.schedule does not end in a past tense']);

  const camel = { ...meetingScheduled, subject: 'registration.meetingPlanned.scheduled' } as EventDefinition;
  t.match(checkCatalog([camel]), [/is not <service>\.<entity>\.<past_tense>/]);

  const twoTokens = { ...meetingScheduled, subject: 'registration.scheduled' } as EventDefinition;
  t.match(checkCatalog([twoTokens]), [/is not <service>\.<entity>\.<past_tense>/]);

  const wrongStream = { ...meetingScheduled, stream: streams.notification } as EventDefinition;
  t.match(checkCatalog([wrongStream]), [
    /assigned to stream NOTIFICATION, expected REGISTRATION/,
    /not captured/,
  ]);

  const wrongType = {
    ...meetingScheduled,
    type: 'nl.citydeals.registration.meeting.created.v1',
  } as EventDefinition;
  t.match(checkCatalog([wrongType]), [/expected nl\.citydeals\.registration\.meeting\.scheduled\.v1/]);

  const v2 = defineEvent({ ...meetingScheduled, version: 2 });
  t.same(checkCatalog([meetingScheduled, v2]), [], 'a new version of a subject is not a duplicate');

  t.throws(
    () =>
      defineEvent({
        subject: 'billing.invoice.sent',
        version: 1,
        description: 'x',
        data: meetingScheduled.data,
        example: meetingScheduled.example,
      }),
    /does not start with a service name/,
  );
});

t.test('NATS subject filters', async (t) => {
  t.ok(subjectMatchesFilter('registration.>', 'registration.meeting.scheduled'));
  t.notOk(subjectMatchesFilter('registration.>', 'registration'));
  t.notOk(subjectMatchesFilter('registration.>', 'deal_tracking.deal.created'));
  t.ok(subjectMatchesFilter('registration.*.scheduled', 'registration.meeting.scheduled'));
  t.notOk(subjectMatchesFilter('registration.*', 'registration.meeting.scheduled'));
  t.ok(subjectMatchesFilter('registration.meeting.scheduled', 'registration.meeting.scheduled'));
  t.notOk(subjectMatchesFilter('registration.meeting.scheduled.x', 'registration.meeting.scheduled'));
});

t.test('lookups by type and by subject', async (t) => {
  for (const def of eventCatalog) {
    t.equal(findEventByType(def.type), def);
    t.equal(findEventBySubject(def.subject), def);
  }
  const erased = findEventByType('nl.citydeals.registration.attendee.erased.v1');
  t.equal(erased, attendeeErased);
  t.equal(findEventByType('nl.citydeals.registration.attendee.erased.v2'), undefined);
  t.equal(findEventByType('registration.attendee.erased'), undefined, 'a subject is not a type');
  t.equal(findEventBySubject('registration.attendee.deleted'), undefined);
});

t.test('decodeEvent tells a consumer what to do with a message', async (t) => {
  const base = { time: new Date('2023-11-23T12:00:00Z'), source: '/citydeals/registration' };
  const event = createEvent(attendeeErased, {
    ...base,
    id: '018bfbd6-2f80-7000-8000-c17e0de0c0de',
    subject: attendeeErased.example.registrationId,
    data: attendeeErased.example,
  });
  const wire = JSON.parse(JSON.stringify(event));

  const ok = decodeEvent(wire);
  t.equal(ok.ok, true);
  if (ok.ok) {
    t.equal(ok.definition, attendeeErased);
    t.same(ok.event, event);
    if (ok.event.type === attendeeErased.type) t.equal(ok.event.data.version, 3, 'narrowed by type');
  }

  t.match(decodeEvent({ ...wire, type: 'nl.citydeals.registration.attendee.erased.v9' }), {
    ok: false,
    reason: 'unknown_type',
    type: 'nl.citydeals.registration.attendee.erased.v9',
  });
  t.match(decodeEvent({ ...wire, data: { ...wire.data, version: 0 } }), {
    ok: false,
    reason: 'invalid_data',
    message: /data\.version/,
  });
  t.match(decodeEvent({ ...wire, specversion: undefined }), { ok: false, reason: 'invalid_envelope' });
  t.match(decodeEvent('not an event'), { ok: false, reason: 'invalid_envelope', type: undefined });
  t.match(decodeEvent(null), { ok: false, reason: 'invalid_envelope' });
});
