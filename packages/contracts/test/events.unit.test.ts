import t from 'tap';
import { z } from 'zod';
import {
  attendeeCancelled,
  attendeeErased,
  attendeeRegistered,
  attendeeWaitlisted,
  createEvent,
  DEFAULT_TIME_ZONE,
  dealCreated,
  dealPhaseChanged,
  dealPhases,
  dealPhaseTransitions,
  dealTermExtended,
  type EventDefinition,
  emailFailed,
  eventCatalog,
  isAllowedPhaseTransition,
  linkCreated,
  meetingRescheduled,
  meetingScheduled,
  operationalEventTypes,
  registrationEvents,
  webhookDelivered,
} from '../src/index.ts';

const base = {
  id: '018bfbd6-2f80-7000-8000-c17e0de0c0de',
  time: new Date('2023-11-23T12:00:00Z'),
  source: '/citydeals/test',
  subject: 'test',
};

function envelopeOf(def: EventDefinition, data: unknown) {
  return {
    specversion: '1.0',
    id: base.id,
    source: base.source,
    type: def.type,
    subject: base.subject,
    time: base.time.toISOString(),
    data,
  };
}

/** The issues zod reports for a payload, as `path: message` strings, e.g. `data.email: Invalid email`. */
function issues(def: EventDefinition, data: unknown, envelope = envelopeOf(def, data)): string[] {
  const result = def.schema.safeParse(envelope);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

function paths(def: EventDefinition, data: unknown): string[] {
  return issues(def, data).map((issue) => issue.slice(0, issue.indexOf(':')));
}

function withData<T extends object>(example: T, patch: Record<string, unknown>): Record<string, unknown> {
  return { ...example, ...patch };
}

t.test('every catalog example becomes a valid event through createEvent', async (t) => {
  for (const def of eventCatalog) {
    const event = createEvent(def as EventDefinition, { ...base, data: def.example });
    t.equal(event.type, def.type, `${def.subject}: type`);
    t.equal(event.specversion, '1.0');
    t.equal(event.datacontenttype, 'application/json');
    t.equal(event.time, '2023-11-23T12:00:00.000Z');
    if (!operationalEventTypes.has(def.type)) {
      t.type((event.data as { version?: unknown }).version, 'number', `${def.subject}: carries a version`);
    }
    // What a publisher emits must parse again unchanged on the consumer side.
    t.same(def.schema.parse(JSON.parse(JSON.stringify(event))), event, `${def.subject}: round trip`);
  }
});

t.test('every event about an entity carries its id and a positive integer version', async (t) => {
  const idFields = [
    'meetingId',
    'registrationId',
    'dealId',
    'emailId',
    'deliveryId',
    'erasureId',
    'settlementId',
  ];
  for (const def of eventCatalog) {
    // Alerts and consumer facts are about a cause or a consumer, not a versioned entity.
    if (operationalEventTypes.has(def.type)) continue;
    const data = def.example as Record<string, unknown>;
    t.ok(
      idFields.some((field) => typeof data[field] === 'string'),
      `${def.subject}: carries an entity id`,
    );
    for (const bad of [0, -1, 1.5, '2']) {
      t.ok(
        paths(def, withData(def.example, { version: bad })).includes('data.version'),
        `${def.subject}: ${bad}`,
      );
    }
  }
});

t.test('invalid payloads are rejected with the path of the field', async (t) => {
  const attendee = attendeeRegistered.example;
  t.same(paths(attendeeRegistered, withData(attendee, { email: 'sanne.devries' })), ['data.email']);
  t.same(paths(attendeeRegistered, withData(attendee, { email: `${'a'.repeat(250)}@example.org` })), [
    'data.email',
  ]);
  t.same(paths(attendeeRegistered, withData(attendee, { manageUrl: 'javascript:alert(1)' })), [
    'data.manageUrl',
  ]);
  t.same(paths(attendeeRegistered, withData(attendee, { language: 'de' })), ['data.language']);
  t.same(paths(attendeeRegistered, withData(attendee, { registrationId: 'reg-1' })), ['data.registrationId']);
  const { meetingId: _meetingId, ...withoutMeeting } = attendee;
  t.same(paths(attendeeRegistered, withoutMeeting), ['data.meetingId']);
  t.same(paths(attendeeRegistered, withData(attendee, { status: 'waitlisted' })), ['data.status']);
  t.same(paths(attendeeRegistered, withData(attendee, { position: 2 })), ['data.position']);
  t.same(paths(attendeeWaitlisted, withData(attendeeWaitlisted.example, { position: null })), [
    'data.position',
  ]);
  t.same(paths(attendeeWaitlisted, withData(attendeeWaitlisted.example, { position: 0 })), ['data.position']);
  t.same(paths(attendeeCancelled, withData(attendeeCancelled.example, { cancelledBy: 'robot' })), [
    'data.cancelledBy',
  ]);

  const meeting = meetingScheduled.example;
  t.same(
    paths(meetingScheduled, withData(meeting, { startsAt: '2023-11-23T13:00:00' })),
    ['data.startsAt'],
    'offset',
  );
  t.same(paths(meetingScheduled, withData(meeting, { endsAt: '2023-11-23T12:00:00+01:00' })), [
    'data.endsAt',
  ]);
  t.same(paths(meetingScheduled, withData(meeting, { timeZone: 'Europe/Atlantis' })), ['data.timeZone']);
  t.same(paths(meetingScheduled, withData(meeting, { reminderOffsets: ['P7D', '7 days'] })), [
    'data.reminderOffsets.1',
  ]);
  t.same(paths(meetingScheduled, withData(meeting, { reminderOffsets: ['P1D', 'P1D'] })), [
    'data.reminderOffsets',
  ]);
  t.same(paths(meetingScheduled, withData(meeting, { slug: 'CoP 2023' })), ['data.slug']);
  t.same(paths(meetingScheduled, withData(meeting, { capacity: 0 })), ['data.capacity']);
  t.same(paths(meetingScheduled, withData(meeting, { venue: { name: 'Hangar' } })), ['data.venue.address']);
  t.same(
    paths(meetingScheduled, withData(meeting, { version: 2 })),
    ['data.version'],
    'a new meeting is version 1',
  );
  t.same(paths(meetingScheduled, withData(meeting, { status: 'cancelled' })), ['data.status']);
  t.same(paths(meetingRescheduled, withData(meetingRescheduled.example, { icsSequence: 0 })), [
    'data.icsSequence',
  ]);

  t.same(paths(dealCreated, withData(dealCreated.example, { kind: 'village_deal' })), ['data.kind']);
  t.same(paths(dealCreated, withData(dealCreated.example, { phase: 'exploring' })), ['data.phase']);
  t.same(
    paths(dealCreated, withData(dealCreated.example, { signedOn: '2023-10-05', termEndsOn: '2023-01-01' })),
    ['data.termEndsOn'],
  );
  t.same(
    paths(dealCreated, withData(dealCreated.example, { actor: { type: 'api_key', id: '', name: null } })),
    ['data.actor.id'],
  );
  t.same(paths(dealTermExtended, withData(dealTermExtended.example, { termEndsOn: '2024-01-01' })), [
    'data.termEndsOn',
  ]);
  t.same(
    paths(linkCreated, withData(linkCreated.example, { otherDealId: linkCreated.example.dealId })),
    ['data.otherDealId'],
    'a deal is not linked to itself',
  );
  t.same(paths(emailFailed, withData(emailFailed.example, { smtpCode: 999 })), ['data.smtpCode']);
  t.same(paths(emailFailed, withData(emailFailed.example, { messageId: 'no-brackets' })), ['data.messageId']);
  t.same(paths(webhookDelivered, withData(webhookDelivered.example, { statusCode: 301 })), [
    'data.statusCode',
  ]);

  const error = t.throws(() =>
    createEvent(attendeeRegistered, { ...base, data: { ...attendee, email: 'not an address' } }),
  );
  t.ok(error instanceof z.ZodError, 'createEvent throws a ZodError');
  t.same((error as z.ZodError).issues[0]?.path, ['data', 'email']);
});

t.test('the envelope is checked too', async (t) => {
  const data = attendeeRegistered.example;
  const envelope = envelopeOf(attendeeRegistered, data);
  t.same(
    issues(attendeeRegistered, data, { ...envelope, type: attendeeWaitlisted.type }).map(
      (i) => i.split(':')[0],
    ),
    ['type'],
    'a payload under the wrong type',
  );
  t.same(
    issues(attendeeRegistered, data, { ...envelope, time: '23-11-2023' }).map((i) => i.split(':')[0]),
    ['time'],
  );
  t.same(
    issues(attendeeRegistered, data, { ...envelope, id: 'evt-1' }).map((i) => i.split(':')[0]),
    ['id'],
  );
  t.same(
    issues(attendeeRegistered, data, { ...envelope, specversion: '0.3' }).map((i) => i.split(':')[0]),
    ['specversion'],
  );
});

t.test('attendee.erased carries only ids and version', async (t) => {
  t.same(Object.keys(attendeeErased.example).sort(), ['meetingId', 'registrationId', 'version']);
  const shape = (attendeeErased.data as unknown as z.ZodObject).shape;
  t.same(Object.keys(shape).sort(), ['meetingId', 'registrationId', 'version']);
  const event = createEvent(attendeeErased, { ...base, data: attendeeErased.example });
  t.notMatch(JSON.stringify(event), /@/, 'no address anywhere in the event');

  const leaky = { ...attendeeErased.example, email: 'sanne.devries@example.org', name: 'Sanne de Vries' };
  const result = attendeeErased.schema.safeParse(envelopeOf(attendeeErased, leaky));
  t.notOk(result.success, 'personal data is refused, not silently dropped');
  t.same(result.error?.issues[0]?.path, ['data']);
  t.match(result.error?.issues[0], { code: 'unrecognized_keys', keys: ['email', 'name'] });
});

t.test('delivery events never carry an attendee address', async (t) => {
  const addresses = Object.values(registrationEvents)
    .map((def) => (def.example as { email?: string }).email)
    .filter((email): email is string => typeof email === 'string');
  t.ok(addresses.length > 0);
  for (const def of eventCatalog.filter((d) => d.stream.service === 'notification')) {
    const keys = Object.keys((def.data as unknown as z.ZodObject).shape);
    t.notOk(keys.includes('email'), `${def.subject} has no email field`);
    for (const address of addresses) t.notMatch(JSON.stringify(def.example), address);
  }
});

t.test('meeting defaults and enums', async (t) => {
  const { timeZone: _tz, ...withoutZone } = meetingScheduled.example;
  const event = createEvent(meetingScheduled, { ...base, data: withoutZone });
  t.equal(event.data.timeZone, DEFAULT_TIME_ZONE);
  t.equal(DEFAULT_TIME_ZONE, 'Europe/Amsterdam');
});

t.test('phase changes follow the lifecycle', async (t) => {
  const example = dealPhaseChanged.example;
  for (const from of dealPhases) {
    for (const to of dealPhases) {
      const data = { ...example, from, to, phase: to };
      const legal = dealPhaseTransitions[from].includes(to);
      t.equal(isAllowedPhaseTransition(from, to), legal);
      if (legal) t.same(paths(dealPhaseChanged, data), [], `${from} → ${to} is legal`);
      else t.same(paths(dealPhaseChanged, data), ['data.to'], `${from} → ${to} is refused`);
    }
  }
  t.match(issues(dealPhaseChanged, { ...example, from: 'completed', to: 'building', phase: 'building' }), [
    /illegal transition completed → building; allowed: none/,
  ]);
  t.same(paths(dealPhaseChanged, { ...example, phase: 'delivering' }), ['data.phase'], 'phase must equal to');
  t.same(paths(dealPhaseChanged, { ...example, reason: '' }), ['data.reason']);
  t.same(dealPhaseTransitions.securing, ['completed', 'discontinued']);
  for (const from of ['preparing', 'signed', 'building', 'delivering', 'securing'] as const) {
    t.ok(isAllowedPhaseTransition(from, 'discontinued'), `${from} can be discontinued`);
  }
});
