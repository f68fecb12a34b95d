import {
  attendeeRegistered,
  attendeeWaitlisted,
  dealCreated,
  dealPhaseChanged,
  dealUpdated,
} from '@citydeals/contracts';
import { publishEvent } from '@citydeals/messaging';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { createServiceContext } from '../src/context.ts';
import { hashManageToken } from '../src/manage-links/manage-token.ts';
import {
  adminHeaders,
  countRows,
  createMeeting,
  formPost,
  openForm,
  outboxEvents,
  person,
  registerPerson,
  shortType,
  solveProofOfWork,
  startRegistration,
  TestClock,
} from './harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, {
  SEED_DEMO_DATA: 'true',
  PROOF_OF_WORK_COST: '1',
  PROOF_OF_WORK_MAX_COUNTER: '20',
});
t.teardown(() => ctx.close());
const { http } = ctx.service;
const svc = ctx.service;

async function eventsSince(count: number) {
  return (await outboxEvents(svc)).slice(count);
}

t.test('a meeting from draft to cancelled: each change one event with the next version', async (t) => {
  const before = (await outboxEvents(svc)).length;
  const created = await createMeeting(svc, { status: 'draft', timeZone: 'Europe/Amsterdam' });
  t.equal(created.version, 1);
  t.equal(created.status, 'draft');
  t.equal(created.startsAt, '2027-03-11T12:00:00.000Z', 'wall-clock time read in Europe/Amsterdam (CET)');
  t.equal((await http.inject(`/meetings/${created.id}`)).statusCode, 404, 'a draft is not public');

  const published = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/publish`,
    headers: adminHeaders,
  });
  t.equal(published.statusCode, 200);
  t.equal(published.json().status, 'published');
  const bySlug = await http.inject(`/meetings/${created.slug}`);
  t.equal(bySlug.statusCode, 200);
  t.equal(bySlug.json().id, created.id);
  t.notMatch(bySlug.body, /Voormalig PTT-terrein/, 'the address is not public');
  t.equal(bySlug.json().registration.state, 'open');

  const edit = { title: 'CoP maart 2027', reminderOffsets: ['P14D', 'P1D'] };
  const edited = await http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${created.id}`,
    headers: adminHeaders,
    payload: edit,
  });
  t.equal(edited.statusCode, 200, edited.body);
  t.equal(edited.json().title, 'CoP maart 2027');
  t.equal(edited.json().icsSequence, 1, 'a new title is a new version of calendar entries');
  const same = await http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${created.id}`,
    headers: adminHeaders,
    payload: edit,
  });
  t.equal(same.json().version, 3, 'an edit that changes nothing is no change');

  const moved = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/reschedule`,
    headers: adminHeaders,
    payload: { startsAt: '2027-06-10T13:00', endsAt: '2027-06-10T17:30' },
  });
  t.equal(moved.statusCode, 200, moved.body);
  t.equal(moved.json().startsAt, '2027-06-10T11:00:00.000Z', 'summer time: UTC+2');
  t.equal(moved.json().icsSequence, 2);

  const cancelled = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/cancel`,
    headers: adminHeaders,
    payload: { reason: 'De hangar is niet beschikbaar.' },
  });
  t.equal(cancelled.json().status, 'cancelled');
  t.equal(cancelled.json().icsSequence, 3, 'the cancellation supersedes the last invitation');
  const again = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/cancel`,
    headers: adminHeaders,
    payload: {},
  });
  t.equal(again.json().version, 5, 'cancelling twice is no change');

  const events = await eventsSince(before);
  t.same(
    events.map((e) => [shortType(e.type), e.data.version, e.subject]),
    [
      ['meeting.scheduled', 1, created.id],
      ['meeting.updated', 2, created.id],
      ['meeting.updated', 3, created.id],
      ['meeting.rescheduled', 4, created.id],
      ['meeting.cancelled', 5, created.id],
    ],
  );
  t.same(events[1]!.data.changedFields, ['status']);
  t.same(events[2]!.data.changedFields, ['title', 'reminderOffsets']);
  t.equal(events[3]!.data.previousStartsAt, '2027-03-11T12:00:00.000Z');
  t.same(
    events.map((e) => e.data.icsSequence),
    [0, 0, 1, 2, 3],
    'SEQUENCE: publishing changes no calendar entry; a title, the times and the cancellation do',
  );
  t.equal(events[4]!.data.reason, 'De hangar is niet beschikbaar.');

  const refused = await registerPerson(svc, created.id, person(1));
  t.equal(refused.statusCode, 409);
  t.match(refused.json(), { type: /meeting-cancelled$/, detail: /cancelled/ });
  const editCancelled = await http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${created.id}`,
    headers: adminHeaders,
    payload: { title: 'x' },
  });
  t.equal(editCancelled.statusCode, 409);
  t.equal((await eventsSince(before)).length, 5, 'refusals publish nothing');
});

t.test(
  '60 parallel registrations into 40 seats: 40 confirmed, 20 waitlisted 1..20, no duplicates',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 40 });
    const before = (await outboxEvents(svc)).length;
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => registerPerson(svc, meeting.id, person(i))),
    );
    t.ok(
      results.every((r) => r.statusCode === 201),
      'all answered 201',
    );
    const bodies = results.map((r) => r.json());
    const confirmed = bodies.filter((b) => b.status === 'confirmed');
    const waitlisted = bodies.filter((b) => b.status === 'waitlisted');
    t.equal(confirmed.length, 40);
    t.equal(waitlisted.length, 20);
    t.same(
      waitlisted.map((b) => b.position).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    t.equal(new Set(bodies.map((b) => b.registrationId)).size, 60);
    t.ok(
      bodies.every((b) =>
        /^https:\/\/cop\.example\.org\/aanmelding\/beheren\/[A-Za-z0-9_-]{32}$/.test(b.manageUrl),
      ),
    );

    const stored = await svc.runtime.db
      .selectFrom('registration')
      .select(['status', 'seq', 'token_hash'])
      .where('meeting_id', '=', meeting.id)
      .orderBy('seq')
      .execute();
    t.equal(stored.filter((r) => r.status === 'confirmed').length, 40, 'the database agrees');
    // Arrival order decides: everyone confirmed arrived before everyone waiting.
    t.same(
      stored.map((r) => r.status),
      [...Array(40).fill('confirmed'), ...Array(20).fill('waitlisted')],
    );
    const token = bodies[0].manageUrl.split('/').pop();
    t.equal(
      stored.filter((r) => r.token_hash === hashManageToken(token)).length,
      1,
      'only the hash is stored',
    );
    t.notOk(stored.some((r) => r.token_hash === token));

    const events = await eventsSince(before);
    t.equal(events.filter((e) => shortType(e.type) === 'attendee.registered').length, 40);
    const waitEvents = events.filter((e) => shortType(e.type) === 'attendee.waitlisted');
    t.equal(waitEvents.length, 20);
    t.ok(events.every((e) => e.data.version === 1));
    t.ok(
      events.every(
        (e) =>
          (shortType(e.type) === 'attendee.waitlisted'
            ? attendeeWaitlisted
            : attendeeRegistered
          ).schema.safeParse(e).success,
      ),
      'every event matches its contract',
    );
    t.same(
      waitEvents.map((e) => e.data.position),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'waitlist events in commit order carry positions 1..20',
    );
    const mine = events.find((e) => e.subject === bodies[0].registrationId)!;
    t.equal(mine.data.manageUrl, bodies[0].manageUrl, 'the event carries the manage link with its token');

    const meetingView = await http.inject(`/meetings/${meeting.id}`);
    t.same(meetingView.json().seats, { capacity: 40, confirmed: 40, available: 0, waitlisted: 20 });
  },
);

t.test(
  'the same email again: nothing about the registration is told, the address gets a fresh link (a few an hour)',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 1 });
    await registerPerson(svc, meeting.id, person(0, { email: 'voor-sanne@example.org' }));
    const first = await registerPerson(svc, meeting.id, person(1, { email: 'Sanne.deVries@Example.org' }));
    t.equal(first.statusCode, 201);
    t.equal(first.json().status, 'waitlisted', 'a waitlist place that must not leak');
    const rows = await countRows(svc, 'registration');
    const before = (await outboxEvents(svc)).length;
    const [second, third] = await Promise.all([
      registerPerson(svc, meeting.id, person(2, { email: 'sanne.devries@example.org' })),
      registerPerson(svc, meeting.id, person(3, { email: 'SANNE.DEVRIES@EXAMPLE.ORG' })),
    ]);
    for (const again of [second, third]) {
      t.equal(again.statusCode, 200);
      t.same(
        again.json(),
        {
          registrationId: null,
          meetingId: meeting.id,
          status: null,
          position: null,
          manageUrl: null,
          existing: true,
        },
        'no id, status or waitlist place of the person at that address',
      );
    }
    t.equal(await countRows(svc, 'registration'), rows, 'no second registration');
    const reissued = async () =>
      (await outboxEvents(svc)).slice(before).filter((e) => shortType(e.type) === 'attendee.link_reissued');
    const links = await reissued();
    t.equal(links.length, 2, 'each attempt mails the person a fresh link');
    t.match(links[1]!.data, {
      registrationId: first.json().registrationId,
      email: 'Sanne.deVries@Example.org',
      status: 'waitlisted',
      position: 1,
      reason: 'registered_again',
    });
    t.equal((await outboxEvents(svc)).length, before + 2, 'nothing else published');
    t.equal(
      (await http.inject(`/registrations/manage/${tokenOf(first.json().manageUrl)}`)).statusCode,
      404,
      'the old link stopped working',
    );
    const newest = links.map((e) => e.data).sort((a, b) => b.version - a.version)[0]!;
    t.equal((await ownView(tokenOf(newest.manageUrl))).registrationId, first.json().registrationId);
    for (let i = 0; i < 3; i += 1) {
      t.equal(
        (await registerPerson(svc, meeting.id, person(4, { email: 'sanne.devries@example.org' }))).statusCode,
        200,
      );
    }
    t.equal((await reissued()).length, 3, 'at most three link mails an hour to one address');
  },
);

function tokenOf(manageUrl: string): string {
  return manageUrl.split('/').pop()!;
}

async function ownView(token: string) {
  return (await http.inject(`/registrations/manage/${token}`)).json();
}

t.test(
  'promotion in arrival order on cancellation and on raised capacity; lowering unseats nobody',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 2 });
    const reg: Record<string, any> = {};
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      reg[name] = (
        await registerPerson(svc, meeting.id, person(0, { name, email: `${name}@example.org` }))
      ).json();
    }
    t.same(
      Object.values(reg).map((r) => [r.status, r.position]),
      [
        ['confirmed', null],
        ['confirmed', null],
        ['waitlisted', 1],
        ['waitlisted', 2],
        ['waitlisted', 3],
      ],
    );
    const before = (await outboxEvents(svc)).length;

    const cancel = await http.inject({
      method: 'POST',
      url: `/registrations/manage/${tokenOf(reg.a.manageUrl)}/cancel`,
    });
    t.equal(cancel.statusCode, 200);
    t.equal((await ownView(tokenOf(reg.c.manageUrl))).status, 'confirmed', 'the longest-waiting is promoted');
    t.same(
      [
        (await ownView(tokenOf(reg.d.manageUrl))).position,
        (await ownView(tokenOf(reg.e.manageUrl))).position,
      ],
      [1, 2],
    );
    let events = await eventsSince(before);
    t.same(
      events.map((e) => [shortType(e.type), e.subject, e.data.version]),
      [
        ['attendee.cancelled', reg.a.registrationId, 2],
        ['attendee.promoted', reg.c.registrationId, 2],
      ],
    );
    t.match(events[0]!.data, { previousStatus: 'confirmed', cancelledBy: 'attendee', status: 'cancelled' });
    t.equal(events[1]!.data.previousPosition, 1);
    t.notMatch(events[1]!.data.manageUrl, tokenOf(reg.c.manageUrl), 'later events never carry the secret');

    const raised = await http.inject({
      method: 'PUT',
      url: `/admin/meetings/${meeting.id}/capacity`,
      headers: adminHeaders,
      payload: { capacity: 4 },
    });
    t.equal(raised.statusCode, 200, raised.body);
    t.same(raised.json().promoted, [
      { registrationId: reg.d.registrationId, previousPosition: 1 },
      { registrationId: reg.e.registrationId, previousPosition: 2 },
    ]);
    events = await eventsSince(before + 2);
    t.same(
      events.map((e) => [shortType(e.type), e.subject, e.data.version]),
      [
        ['meeting.updated', meeting.id, 2],
        ['attendee.promoted', reg.d.registrationId, 2],
        ['attendee.promoted', reg.e.registrationId, 2],
      ],
    );
    t.same(events[0]!.data.changedFields, ['capacity']);

    const lowered = await http.inject({
      method: 'PUT',
      url: `/admin/meetings/${meeting.id}/capacity`,
      headers: adminHeaders,
      payload: { capacity: 1 },
    });
    t.same(
      lowered.json().meeting.seats,
      { capacity: 1, confirmed: 4, available: 0, waitlisted: 0 },
      'all four keep their seat',
    );
    const late = (await registerPerson(svc, meeting.id, person(0, { email: 'f@example.org' }))).json();
    t.same([late.status, late.position], ['waitlisted', 1]);
    const adminCancel = await http.inject({
      method: 'POST',
      url: `/admin/registrations/${reg.b.registrationId}/cancel`,
      headers: adminHeaders,
    });
    t.same(adminCancel.json().promoted, [], 'still over the lowered capacity: nobody promoted');
    const waitCancel = await http.inject({
      method: 'POST',
      url: `/registrations/manage/${tokenOf(late.manageUrl)}/cancel`,
    });
    t.equal(waitCancel.statusCode, 200);
    const last = (await eventsSince(before + 5)).map((e) => [
      shortType(e.type),
      e.data.cancelledBy ?? null,
      e.data.previousStatus ?? null,
    ]);
    t.same(last, [
      ['meeting.updated', null, null],
      ['attendee.waitlisted', null, null],
      ['attendee.cancelled', 'admin', 'confirmed'],
      ['attendee.cancelled', 'attendee', 'waitlisted'],
    ]);
  },
);

t.test(
  'self-service with the token: view, update needs, cancel; bad and unknown tokens refused',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 5 });
    const res = (await registerPerson(svc, meeting.id, person(7, { dietaryNeeds: 'vegetarisch' }))).json();
    const token = tokenOf(res.manageUrl);
    const view = await ownView(token);
    t.match(view, {
      registrationId: res.registrationId,
      status: 'confirmed',
      dietaryNeeds: 'vegetarisch',
      email: 'deelnemer7@example.org',
    });
    t.equal(view.meeting.venue.address, 'Voormalig PTT-terrein, Den Haag', 'the attendee sees the address');

    const events = (await outboxEvents(svc)).length;
    const updated = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: {
        dietaryNeeds: 'veganistisch',
        accessibilityNeeds: 'rolstoelplek',
        consents: { photo: true },
      },
    });
    t.equal(updated.statusCode, 200, updated.body);
    t.match(updated.json(), {
      dietaryNeeds: 'veganistisch',
      accessibilityNeeds: 'rolstoelplek',
      consents: { photo: true, attendeeList: false },
    });
    const [changed, ...more] = (await outboxEvents(svc)).slice(events);
    t.same(more, [], 'one event for one change');
    t.match(changed, {
      type: 'nl.citydeals.registration.attendee.needs_changed.v1',
      subject: res.registrationId,
      data: {
        registrationId: res.registrationId,
        version: 2,
        status: 'confirmed',
        dietaryNeeds: 'veganistisch',
        accessibilityNeeds: 'rolstoelplek',
        consents: { photo: true, attendeeList: false },
        changedFields: ['dietaryNeeds', 'accessibilityNeeds', 'consents'],
      },
    });
    const same = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: { dietaryNeeds: 'veganistisch' },
    });
    t.equal(same.statusCode, 200);
    t.equal((await outboxEvents(svc)).length, events + 1, 'restating the needs is no change and no event');
    const consentOnly = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: { consents: { attendeeList: true } },
    });
    t.equal(consentOnly.statusCode, 200);
    const versions = (await outboxEvents(svc))
      .filter((e) => e.subject === res.registrationId)
      .map((e) => [shortType(e.type), e.data.version, e.data.changedFields]);
    t.same(
      versions,
      [
        ['attendee.registered', 1, undefined],
        ['attendee.needs_changed', 2, ['dietaryNeeds', 'accessibilityNeeds', 'consents']],
        ['attendee.needs_changed', 3, ['consents']],
      ],
      'every version of the registration is announced: consumers see no gaps',
    );

    const ics = await http.inject(`/registrations/manage/${token}/calendar.ics`);
    t.equal(ics.statusCode, 200);
    t.match(
      ics.body.replaceAll('\r\n ', ''),
      'LOCATION:Hangar op het voormalige PTT-terrein\\, Voormalig PTT-terrein\\, Den Haag',
    );

    const malformed = await http.inject('/registrations/manage/not-a-token');
    t.equal(malformed.statusCode, 400);
    t.equal(malformed.json().errors[0].field, 'params.token');
    const unknown = await http.inject(`/registrations/manage/${'A'.repeat(32)}`);
    t.equal(unknown.statusCode, 404);
    t.equal(unknown.headers['content-type'], 'application/problem+json; charset=utf-8');

    t.equal(
      (await http.inject({ method: 'POST', url: `/registrations/manage/${token}/cancel` })).statusCode,
      200,
    );
    const twice = await http.inject({ method: 'POST', url: `/registrations/manage/${token}/cancel` });
    t.equal(twice.statusCode, 200, 'cancelling twice is a no-op');
    const cancelledEvents = (await outboxEvents(svc)).filter(
      (e) => e.subject === res.registrationId && shortType(e.type) === 'attendee.cancelled',
    );
    t.equal(cancelledEvents.length, 1, 'one cancellation event');
    const afterCancel = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: { dietaryNeeds: 'x' },
    });
    t.equal(afterCancel.statusCode, 409);

    const again = await registerPerson(svc, meeting.id, person(7));
    t.equal(again.statusCode, 201, 'after cancelling, the same person may register anew');
    t.not(again.json().registrationId, res.registrationId);
  },
);

t.test('bad input on every endpoint: 4xx problem naming the field, nothing written', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5 });
  const reg = (await registerPerson(svc, meeting.id, person(1))).json();
  const token = tokenOf(reg.manageUrl);
  const counts = async () => [
    await countRows(svc, 'meeting'),
    await countRows(svc, 'registration'),
    await countRows(svc, 'outbox'),
  ];
  const before = await counts();
  const base = {
    title: 'x',
    slug: 'bad-input',
    startsAt: '2027-03-11T13:00',
    endsAt: '2027-03-11T17:00',
    venue: { name: 'v', address: 'a' },
    capacity: 10,
  };
  const cases: [string, string, string, unknown, string, number?][] = [
    ['POST', '/admin/meetings', 'missing title', { ...base, title: undefined }, 'body.title'],
    ['POST', '/admin/meetings', 'capacity not a number', { ...base, capacity: 'veel' }, 'body.capacity'],
    ['POST', '/admin/meetings', 'capacity zero', { ...base, capacity: 0 }, 'body.capacity'],
    ['POST', '/admin/meetings', 'end before start', { ...base, endsAt: '2027-03-11T12:00' }, 'body.endsAt'],
    ['POST', '/admin/meetings', 'bad slug', { ...base, slug: 'Geen Slug' }, 'body.slug'],
    ['POST', '/admin/meetings', 'unknown zone', { ...base, timeZone: 'Europe/Atlantis' }, 'body.timeZone'],
    [
      'POST',
      '/admin/meetings',
      'month offset',
      { ...base, reminderOffsets: ['P1M'] },
      'body.reminderOffsets.0',
    ],
    [
      'POST',
      '/admin/meetings',
      'bad agenda time',
      { ...base, agenda: [{ time: '25:00', title: 'x', kind: 'plenary' }] },
      'body.agenda.0.time',
    ],
    ['POST', '/admin/meetings', 'slug taken', { ...base, slug: meeting.slug }, 'body.slug', 409],
    ['PATCH', `/admin/meetings/${meeting.id}`, 'times by edit', { startsAt: '2027-04-01T13:00' }, 'body'],
    ['PATCH', `/admin/meetings/${meeting.id}`, 'empty edit', {}, 'body'],
    [
      'PATCH',
      `/admin/meetings/${meeting.id}`,
      'close after start',
      { registrationClosesAt: '2027-03-12T10:00' },
      'body.registrationClosesAt',
    ],
    ['PATCH', '/admin/meetings/123', 'id not a uuid', { title: 'x' }, 'params.id'],
    [
      'POST',
      `/admin/meetings/${meeting.id}/reschedule`,
      'not a date',
      { startsAt: 'morgen', endsAt: '2027-03-11T17:00' },
      'body.startsAt',
    ],
    [
      'POST',
      `/admin/meetings/${meeting.id}/reschedule`,
      'end before start',
      { startsAt: '2027-03-11T13:00', endsAt: '2027-03-11T12:00' },
      'body.endsAt',
    ],
    ['PUT', `/admin/meetings/${meeting.id}/capacity`, 'negative capacity', { capacity: -3 }, 'body.capacity'],
    [
      'POST',
      `/admin/meetings/${meeting.id}/cancel`,
      'reason too long',
      { reason: 'x'.repeat(1001) },
      'body.reason',
    ],
    [
      'POST',
      `/meetings/${meeting.id}/registrations`,
      'invalid email',
      person(2, { email: 'geen-adres' }),
      'body.email',
    ],
    [
      'POST',
      `/meetings/${meeting.id}/registrations`,
      'missing name',
      person(2, { name: undefined }),
      'body.name',
    ],
    [
      'POST',
      `/meetings/${meeting.id}/registrations`,
      'unknown role',
      person(2, { role: 'wethouder' }),
      'body.role',
    ],
    [
      'POST',
      `/meetings/${meeting.id}/registrations`,
      'wrong type',
      person(2, { consents: { photo: 'ja' } }),
      'body.consents.photo',
    ],
    [
      'POST',
      `/meetings/${meeting.id}/registrations`,
      'unknown deal',
      person(2, { dealId: '01936a10-0000-7000-8000-000000000000' }),
      'body.dealId',
    ],
    ['POST', '/meetings/nope/registrations', 'meeting id not a uuid', person(2), 'params.id'],
    [
      'PATCH',
      `/registrations/manage/${token}`,
      'needs too long',
      { dietaryNeeds: 'x'.repeat(501) },
      'body.dietaryNeeds',
    ],
    ['POST', '/admin/erasures', 'erasure without email', { email: 'x' }, 'body.email'],
    [
      'GET',
      `/admin/meetings/${meeting.id}/registrations?status=ergens`,
      'bad filter',
      undefined,
      'querystring.status',
    ],
    [
      'GET',
      `/admin/meetings/${meeting.id}/deals-not-represented?basis=gevoel`,
      'bad basis',
      undefined,
      'querystring.basis',
    ],
  ];
  for (const [method, url, what, payload, field, status = 400] of cases) {
    const res = await http.inject({
      method: method as 'POST',
      url,
      headers: adminHeaders,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    t.equal(res.statusCode, status, `${what}: ${status}`);
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', `${what}: problem+json`);
    t.ok(
      (res.json().errors ?? []).some((e: { field: string }) => e.field === field),
      `${what}: names ${field}`,
      { body: res.json() },
    );
  }
  const unknownMeeting = await registerPerson(svc, '01936a10-0000-7000-8000-000000000000', person(2));
  t.equal(unknownMeeting.statusCode, 404);
  const huge = await http.inject({
    method: 'POST',
    url: `/meetings/${meeting.id}/registrations`,
    payload: person(2, { organisation: 'x'.repeat(20_000) }),
  });
  t.equal(huge.statusCode, 413, 'oversized body');
  t.equal(
    (await http.inject({ method: 'POST', url: '/admin/meetings', payload: base })).statusCode,
    401,
    'no key',
  );
  const wrongKey = await http.inject({
    method: 'POST',
    url: '/admin/meetings',
    headers: { authorization: 'Bearer wrong' },
    payload: base,
  });
  t.equal(wrongKey.statusCode, 401);
  t.same(await counts(), before, 'nothing was written by any of them');

  clock.advance(70 * 24 * 3600 * 1000);
  const closed = await registerPerson(svc, meeting.id, person(3));
  t.equal(closed.statusCode, 409);
  t.match(closed.json(), { type: /registration-closed$/ });
  clock.advance(-70 * 24 * 3600 * 1000);
});

const dealIds = {
  fietsen: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
  binnensteden: '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20',
  lopen: '01936a10-9a9b-7c9d-8e9f-a0b1c2d3e4f5',
};
const actor = { type: 'api_key', id: 'key_programmabureau', name: 'Programmabureau' } as const;

async function publishDeal(definition: any, id: string, data: Record<string, unknown>) {
  const event = definition.schema.parse({
    specversion: '1.0',
    id,
    source: '/deal-tracking',
    type: definition.type,
    subject: data.dealId,
    time: '2027-01-10T10:00:00.000Z',
    data: { actor, occurredAt: '2027-01-10T11:00:00+01:00', ...data },
  });
  await publishEvent(svc.runtime.js, svc.runtime.ns, definition, event);
}

const dealRow = (id: string) =>
  svc.runtime.db.selectFrom('deals').selectAll().where('id', '=', id).executeTakeFirst();

t.test(
  'deals projection: from events only; stale, repeated and reordered events never move it back',
  async (t) => {
    const details = { summary: null, themes: [], signedOn: null, termEndsOn: null, tranche: null };
    const fietsen = {
      dealId: dealIds.fietsen,
      name: 'Fietsen voor Iedereen',
      slug: 'fietsen-voor-iedereen',
      kind: 'city_deal',
    };
    // Version 3 arrives before versions 1 and 2.
    await publishDeal(dealPhaseChanged, '01936a11-0000-7000-8000-000000000003', {
      ...fietsen,
      version: 3,
      phase: 'building',
      from: 'signed',
      to: 'building',
      reason: 'Coalitie in opbouw',
    });
    await publishDeal(dealCreated, '01936a11-0000-7000-8000-000000000001', {
      ...fietsen,
      ...details,
      version: 1,
      phase: 'preparing',
    });
    await publishDeal(dealUpdated, '01936a11-0000-7000-8000-000000000002', {
      ...fietsen,
      ...details,
      name: 'Oude naam',
      version: 2,
      phase: 'signed',
      changedFields: ['name'],
    });
    await publishDeal(dealCreated, '01936a11-0000-7000-8000-000000000004', {
      dealId: dealIds.binnensteden,
      name: 'Dynamische Binnensteden',
      slug: 'dynamische-binnensteden',
      kind: 'city_deal',
      ...details,
      version: 1,
      phase: 'signed',
    });
    await publishDeal(dealCreated, '01936a11-0000-7000-8000-000000000005', {
      dealId: dealIds.lopen,
      name: 'Ruimte voor Lopen',
      slug: 'ruimte-voor-lopen',
      kind: 'city_deal',
      ...details,
      version: 1,
      phase: 'delivering',
    });
    const runner = svc.runtime.consumers.get('registration-deal-projection')!;
    await eventually(() => runner.stats.handled >= 5);
    t.match(await dealRow(dealIds.fietsen), { name: 'Fietsen voor Iedereen', phase: 'building', version: 3 });

    // The same event again (a redelivery with its id) and an old version under a new id.
    await publishDeal(dealPhaseChanged, '01936a11-0000-7000-8000-000000000003', {
      ...fietsen,
      version: 3,
      phase: 'building',
      from: 'signed',
      to: 'building',
      reason: 'Coalitie in opbouw',
    });
    await publishDeal(dealUpdated, '01936a11-0000-7000-8000-000000000006', {
      ...fietsen,
      ...details,
      name: 'Nog oudere naam',
      version: 2,
      phase: 'signed',
      changedFields: ['name'],
    });
    await eventually(() => runner.stats.handled + runner.stats.duplicates >= 6);
    t.match(await dealRow(dealIds.fietsen), { name: 'Fietsen voor Iedereen', phase: 'building', version: 3 });

    const deals = (await http.inject('/deals')).json().items;
    t.same(
      deals.map((d: { name: string }) => d.name),
      ['Dynamische Binnensteden', 'Fietsen voor Iedereen', 'Ruimte voor Lopen'],
    );
  },
);

t.test('at the door: list with filters, check-in, no-show, CSV and deals not represented', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 3 });
  const sanne = (
    await registerPerson(
      svc,
      meeting.id,
      person(1, {
        name: 'Sanne; "de" Vries',
        organisation: '=Gemeente',
        dealId: dealIds.fietsen,
        dietaryNeeds: 'halal',
      }),
    )
  ).json();
  const daan = (
    await registerPerson(svc, meeting.id, person(2, { role: 'dealmaker', dealId: dealIds.binnensteden }))
  ).json();
  const zoe = (await registerPerson(svc, meeting.id, person(3, { name: 'Zoë', role: 'partner' }))).json();
  const wait = (await registerPerson(svc, meeting.id, person(4, { dealId: dealIds.lopen }))).json();
  t.equal(wait.status, 'waitlisted');

  const list = async (query: string) =>
    (
      await http.inject({ url: `/admin/meetings/${meeting.id}/registrations${query}`, headers: adminHeaders })
    ).json().items;
  t.equal((await list('')).length, 4);
  t.same(
    (await list('?status=waitlisted')).map((r: any) => [r.registrationId, r.position]),
    [[wait.registrationId, 1]],
  );
  t.same(
    (await list('?role=dealmaker')).map((r: any) => r.registrationId),
    [daan.registrationId],
  );
  t.same(
    (await list(`?dealId=${dealIds.fietsen}`)).map((r: any) => r.dealName),
    ['Fietsen voor Iedereen'],
  );
  t.same(
    (await list('?q=zo%C3%AB')).map((r: any) => r.registrationId),
    [zoe.registrationId],
  );

  const report = async (query = '') =>
    (
      await http.inject({
        url: `/admin/meetings/${meeting.id}/deals-not-represented${query}`,
        headers: adminHeaders,
      })
    ).json();
  const beforeStart = await report();
  t.equal(beforeStart.basis, 'registration');
  t.same(
    beforeStart.items.map((d: any) => d.name),
    ['Ruimte voor Lopen'],
    'a waitlisted deal is not represented',
  );

  const before = (await outboxEvents(svc)).length;
  const checkIn = (id: string) =>
    http.inject({ method: 'POST', url: `/admin/registrations/${id}/check-in`, headers: adminHeaders });
  const noShow = (id: string) =>
    http.inject({ method: 'POST', url: `/admin/registrations/${id}/no-show`, headers: adminHeaders });
  t.equal((await noShow(daan.registrationId)).statusCode, 409, 'no-show only once the meeting started');
  t.equal((await checkIn(wait.registrationId)).statusCode, 409, 'a waitlisted person cannot be checked in');

  clock.current = new Date('2027-03-11T12:05:00Z');
  const checked = await checkIn(sanne.registrationId);
  t.equal(checked.statusCode, 200);
  t.match(checked.json(), { status: 'checked_in', version: 2, checkedInAt: '2027-03-11T12:05:00.000Z' });
  t.equal((await checkIn(sanne.registrationId)).json().version, 2, 'checking in twice is no change');
  const marked = await noShow(daan.registrationId);
  t.match(marked.json(), { status: 'no_show', version: 2 });
  const events = await eventsSince(before);
  t.same(
    events.map((e) => [shortType(e.type), e.subject, e.data.version]),
    [
      ['attendee.checked_in', sanne.registrationId, 2],
      ['attendee.marked_no_show', daan.registrationId, 2],
    ],
    'the no-show is announced with its version: consumers see no gap',
  );
  t.equal(events[0]!.data.checkedInAt, '2027-03-11T12:05:00.000Z');
  t.match(events[1]!.data, { status: 'no_show', position: null, markedAt: '2027-03-11T12:05:00.000Z' });

  const afterStart = await report();
  t.equal(afterStart.basis, 'attendance');
  t.same(
    afterStart.items.map((d: any) => d.name),
    ['Dynamische Binnensteden', 'Ruimte voor Lopen'],
  );
  t.same(
    (await report('?basis=registration')).items.map((d: any) => d.name),
    ['Dynamische Binnensteden', 'Ruimte voor Lopen'],
    'a no-show does not count as registered seat-holder either',
  );

  const csv = await http.inject({
    url: `/admin/meetings/${meeting.id}/registrations.csv`,
    headers: adminHeaders,
  });
  t.equal(csv.statusCode, 200);
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
  t.match(csv.headers['content-disposition'], `aanmeldingen-${meeting.slug}.csv`);
  const raw = csv.rawPayload;
  t.same([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark');
  const lines = csv.body.replace(/^\uFEFF/, '').split('\r\n');
  t.equal(lines.length, 6, 'header, four rows, final CRLF');
  t.match(lines[0], /^"Naam";"E-mail";"Organisatie";"Rol";"Deal";"Status";/);
  t.match(
    lines[1],
    /^"Sanne; ""de"" Vries";"deelnemer1@example\.org";"'=Gemeente";"projectleider";"Fietsen voor Iedereen";"aanwezig";"";"halal";/,
  );
  t.match(lines[3], /^"Zoë";/);
  t.match(lines[4], /;"wachtlijst";"1";/);
  clock.current = new Date('2027-01-10T10:00:00Z');
});

t.test('calendar: one meeting and the feed, stable UID and growing SEQUENCE', async (t) => {
  const meeting = await createMeeting(svc, { title: 'CoP, met komma; en puntkomma' });
  const one = async () =>
    (await http.inject(`/meetings/${meeting.slug}/calendar.ics`)).body.replaceAll('\r\n ', '');
  const first = await one();
  t.match(first, `UID:${meeting.id}@cop.citydeals.example.org\r\n`);
  t.match(first, 'SEQUENCE:0\r\n');
  t.match(first, 'SUMMARY:CoP\\, met komma\\; en puntkomma\r\n');
  t.match(first, 'DTSTART:20270311T120000Z\r\n');
  t.notMatch(first, 'Voormalig PTT-terrein', 'the public file names the venue only');
  await http.inject({
    method: 'POST',
    url: `/admin/meetings/${meeting.id}/reschedule`,
    headers: adminHeaders,
    payload: { startsAt: '2027-03-18T13:00', endsAt: '2027-03-18T17:00' },
  });
  const second = await one();
  t.match(second, `UID:${meeting.id}@cop.citydeals.example.org\r\n`);
  t.match(second, 'SEQUENCE:1\r\nDTSTAMP:');
  t.match(second, 'DTSTART:20270318T120000Z\r\n');

  const draft = await createMeeting(svc, { status: 'draft' });
  const feed = await http.inject('/calendar/meetings.ics');
  t.equal(feed.headers['content-type'], 'text/calendar; charset=utf-8');
  t.match(feed.body, `UID:${meeting.id}@`);
  t.notMatch(feed.body, `UID:${draft.id}@`, 'drafts are not in the feed');
  t.ok(
    feed.body.split('\r\n').every((line) => Buffer.byteLength(line) <= 75),
    'folded',
  );
});

t.test('erasure: an admin call anonymises every registration of an address and announces it', async (t) => {
  const upcoming = await createMeeting(svc, { capacity: 1 });
  const other = await createMeeting(svc, { capacity: 5 });
  const email = 'vergeet.mij@example.org';
  const a = (await registerPerson(svc, upcoming.id, person(1, { email, name: 'Vergeet Mij' }))).json();
  const next = (await registerPerson(svc, upcoming.id, person(2))).json();
  const b = (
    await registerPerson(svc, other.id, person(1, { email: 'Vergeet.Mij@example.org', name: 'Vergeet Mij' }))
  ).json();
  t.equal(next.status, 'waitlisted');
  await eventually(
    async () =>
      (await svc.runtime.db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute())
        .length === 0,
  );

  const res = await http.inject({
    method: 'POST',
    url: '/admin/erasures',
    headers: adminHeaders,
    payload: { email },
  });
  t.equal(res.statusCode, 200);
  t.same(res.json().erasedRegistrationIds.sort(), [a.registrationId, b.registrationId].sort());
  const rows = await svc.runtime.db
    .selectFrom('registration')
    .selectAll()
    .where('id', 'in', [a.registrationId, b.registrationId])
    .execute();
  for (const row of rows) {
    t.match(row, {
      name: null,
      email: null,
      email_key: null,
      organisation: null,
      token_hash: null,
      version: 2,
    });
    t.ok(row.erased_at);
  }
  t.equal(rows.find((r) => r.id === a.registrationId)!.status, 'cancelled', 'the upcoming seat is given up');
  t.equal((await ownView(tokenOf(next.manageUrl))).status, 'confirmed', 'and the next in line promoted');
  t.equal(
    (await http.inject(`/registrations/manage/${tokenOf(a.manageUrl)}`)).statusCode,
    404,
    'the link is dead',
  );

  const all = await outboxEvents(svc);
  const erased = all.filter(
    (e) =>
      shortType(e.type) === 'attendee.erased' && [a.registrationId, b.registrationId].includes(e.subject),
  );
  t.same(
    erased.map((e) => e.data).sort((x, y) => x.registrationId.localeCompare(y.registrationId)),
    [
      { registrationId: a.registrationId, meetingId: upcoming.id, version: 2 },
      { registrationId: b.registrationId, meetingId: other.id, version: 2 },
    ].sort((x, y) => x.registrationId.localeCompare(y.registrationId)),
  );
  t.notMatch(JSON.stringify(all), /vergeet/i, 'no copy of the address is left in the outbox');
  t.same(
    (
      await http.inject({ method: 'POST', url: '/admin/erasures', headers: adminHeaders, payload: { email } })
    ).json(),
    { erasedRegistrationIds: [] },
  );
});

t.test('retention: registrations of meetings ended long enough ago are anonymised', async (t) => {
  const { eraseExpired } = await import('../src/privacy/erasure.service.ts');
  const meeting = await createMeeting(svc, { capacity: 5 });
  const reg = (await registerPerson(svc, meeting.id, person(9))).json();
  const ctxFor = (now: string) =>
    createServiceContext({
      db: svc.runtime.db,
      clock: { now: () => new Date(now) },
      newId: () => crypto.randomUUID(),
      publicBaseUrl: 'https://cop.example.org',
    });
  const untouched = await eraseExpired(ctxFor('2028-03-01T00:00:00Z'), 24);
  t.equal(untouched, 0, 'one year after: kept');
  const n = await eraseExpired(ctxFor('2029-03-12T00:00:00Z'), 24);
  t.ok(n >= 1);
  const row = await svc.runtime.db
    .selectFrom('registration')
    .selectAll()
    .where('id', '=', reg.registrationId)
    .executeTakeFirstOrThrow();
  t.match(
    row,
    { name: null, email: null, status: 'confirmed' },
    'a past registration keeps its status for the counts',
  );
});

t.test('every committed event reaches JetStream exactly once', async (t) => {
  const unpublished = () =>
    svc.runtime.db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute();
  await eventually(async () => (await unpublished()).length === 0);
  t.equal((await unpublished()).length, 0, 'the relay published everything');
  const outbox = await outboxEvents(svc);
  const streamName = svc.runtime.ns.streamName(svc.runtime.stream);
  const info = await svc.runtime.jsm.streams.info(streamName);
  const consumer = await svc.runtime.js.consumers.get(streamName);
  const seen: string[] = [];
  const messages = await consumer.fetch({ max_messages: info.state.messages, expires: 5000 });
  for await (const m of messages) {
    seen.push(m.json<{ id: string }>().id);
    if (seen.length === info.state.messages) break;
  }
  t.equal(seen.length, info.state.messages);
  t.equal(new Set(seen).size, seen.length, 'no event twice in the stream');
  const inStream = new Set(seen);
  t.ok(
    outbox.every((e) => inStream.has(e.id)),
    'every outbox event is in the stream',
  );
  // Erasure removed published outbox copies; the stream may hold those few more.
  t.ok(seen.length >= outbox.length);
});

t.test('public pages: form in Dutch, errors next to fields, confirmation, manage and cancel', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1, title: 'CoP <paginatest>' });
  const page = await http.inject(`/bijeenkomsten/${meeting.slug}`);
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], 'text/html');
  t.match(page.body, '<html lang="nl">');
  t.match(page.body, 'CoP &lt;paginatest&gt;', 'escaped');
  t.match(page.body, '<label for="email">E-mailadres <span class="req">(verplicht)</span></label>');
  t.match(page.body, 'Fietsen voor Iedereen', 'deals from the projection');
  t.match(
    page.body,
    '<dt>Adres</dt><dd>Voormalig PTT-terrein, Den Haag</dd>',
    'the public page shows where the meeting is',
  );
  t.match((await http.inject(`/bijeenkomsten/${meeting.slug}?lang=en`)).body, '<html lang="en">');

  const opened = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
  t.match(opened.cookie, /^cdcop_csrf=[A-Za-z0-9_-]{22}$/, 'the page sets the CSRF cookie');
  t.match(String(page.headers['set-cookie']), /HttpOnly; SameSite=Strict; Secure/);
  t.match(page.body, '<altcha-widget id="altcha" challenge="/aanmelding/pow-challenge" name="altcha"');
  t.notMatch(page.body, /<style|style=|<script>/, 'no inline style or script');
  const form = (fields: Record<string, string>) =>
    formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, opened.cookie, { csrf: opened.csrf, ...fields });
  const rows = await countRows(svc, 'registration');
  const bad = await http.inject(
    form({ name: 'Iris', email: 'geen-adres', organisation: '', role: '', language: 'nl' }),
  );
  t.equal(bad.statusCode, 400);
  t.match(bad.body, '<p class="error" id="email-error">Vul een geldig e-mailadres in');
  t.match(
    bad.body,
    'id="email" name="email" value="geen-adres" required aria-required="true" autocomplete="email" aria-invalid="true" aria-describedby="email-error"',
  );
  t.match(bad.body, 'id="organisation-error"');
  t.match(bad.body, 'id="role-error"');
  t.equal(await countRows(svc, 'registration'), rows, 'nothing written');

  const iris = {
    name: 'Iris',
    email: 'iris@example.org',
    organisation: 'Gemeente Delft',
    role: 'projectsecretaris',
    dealId: dealIds.lopen,
    consentPhoto: 'ja',
    language: 'nl',
  };
  const noWork = await http.inject(form(iris));
  t.equal(noWork.statusCode, 400, 'no proof of work: refused');
  t.match(noWork.body, 'id="altcha-error"');
  const forged = await http.inject(
    form({ ...iris, altcha: Buffer.from('{"challenge":{}}').toString('base64') }),
  );
  t.equal(forged.statusCode, 400, 'a made-up proof of work: refused');
  const work = await solveProofOfWork(svc);
  const noCsrf = await http.inject(
    formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, '', { ...iris, altcha: work }),
  );
  t.equal(noCsrf.statusCode, 403, 'no CSRF cookie and field: refused');
  const otherCookie = await http.inject(
    formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, 'cdcop_csrf=AAAAAAAAAAAAAAAAAAAAAA', {
      ...iris,
      csrf: opened.csrf,
      altcha: work,
    }),
  );
  t.equal(otherCookie.statusCode, 403, 'the field of another cookie: refused');
  t.equal(await countRows(svc, 'registration'), rows, 'nothing written');
  const ok = await http.inject(form({ ...iris, altcha: work }));
  const replayed = await http.inject(form({ ...iris, email: 'iris2@example.org', altcha: work }));
  t.equal(replayed.statusCode, 400, 'a proof of work counts once');
  t.equal(ok.statusCode, 201);
  t.match(ok.body, 'Je bent aangemeld');
  const link = /href="(https:\/\/cop\.example\.org\/aanmelding\/beheren\/[^"]+)"/.exec(ok.body)?.[1];
  t.ok(link, 'the confirmation shows the manage link');
  const path = new URL(link!).pathname;

  const second = await http.inject(
    form({
      name: 'Bart',
      email: 'bart@example.org',
      organisation: 'Gemeente',
      role: 'other',
      language: 'nl',
      altcha: await solveProofOfWork(svc),
    }),
  );
  t.match(second.body, 'Je staat op plek 1 van de wachtlijst');

  const manage = await http.inject({ url: path, headers: { cookie: opened.cookie } });
  t.equal(manage.statusCode, 200);
  const manageCsrf = /name="csrf" value="([^"]+)"/.exec(manage.body)![1]!;
  t.match(manage.body, 'Voormalig PTT-terrein, Den Haag', 'the attendee sees the address');
  t.equal(manage.headers['cache-control'], 'no-store');
  const post = (suffix: string, fields: Record<string, string>) =>
    http.inject(formPost(`${path}/${suffix}`, opened.cookie, { csrf: manageCsrf, ...fields }));
  t.equal(
    (await http.inject(formPost(`${path}/afmelden`, '', { confirm: 'ja', language: 'nl' }))).statusCode,
    403,
    'cancelling without the CSRF field: refused',
  );
  t.match(
    (await post('wensen', { dietaryNeeds: 'glutenvrij', language: 'nl' })).body,
    'Je wensen zijn opgeslagen',
  );
  const unconfirmed = await post('afmelden', { language: 'nl' });
  t.equal(unconfirmed.statusCode, 400, 'cancelling needs the confirmation box');
  t.match(unconfirmed.body, 'id="confirm-error"');
  t.match(
    manage.body,
    /<label class="check" for="confirm"><input type="checkbox" id="confirm" name="confirm" value="ja" required[^>]*> <span>[^<]+<\/span><\/label>/,
    'the cancel box sits inside its label',
  );
  const done = await post('afmelden', { confirm: 'ja', language: 'nl' });
  t.equal(done.statusCode, 200);
  t.match(done.body, 'Je bent afgemeld');
  const bart = (
    await http.inject({ url: `/admin/meetings/${meeting.id}/registrations?q=bart`, headers: adminHeaders })
  ).json().items[0];
  t.equal(bart.status, 'confirmed', 'the waitlist moved up');
  t.equal((await http.inject('/aanmelding/beheren/onzin')).statusCode, 404);
});

t.test('demo data: one published meeting, created once through the service', async (t) => {
  const { seedDemoMeeting, DEMO_MEETING_SLUG } = await import('../src/demo/demo-meeting.ts');
  const demo = await http.inject(`/meetings/${DEMO_MEETING_SLUG}`);
  t.equal(demo.statusCode, 200);
  t.match(demo.json(), { status: 'published', seats: { capacity: 40 }, venueName: /PTT-terrein/ });
  t.ok(demo.json().agenda.length >= 5);
  const again = await seedDemoMeeting(
    createServiceContext({
      db: svc.runtime.db,
      clock,
      newId: () => crypto.randomUUID(),
      publicBaseUrl: 'https://cop.example.org',
    }),
  );
  t.equal(again, 'present');
  const scheduled = (await outboxEvents(svc)).filter(
    (e) => shortType(e.type) === 'meeting.scheduled' && e.data.slug === DEMO_MEETING_SLUG,
  );
  t.equal(scheduled.length, 1, 'its event was published once');
});
