/**
 * Sessions within a meeting against real Postgres: choosing at registration and on the manage page, places
 * and waitlists per session, promotion when a place frees (leaving, cancelling, capacity), choices kept while
 * waiting for a meeting seat, and bad input on every new endpoint.
 */
import t from 'tap';
import {
  adminHeaders,
  countRows,
  createMeeting,
  outboxEvents,
  person,
  registerPerson,
  shortType,
  startRegistration,
  TestClock,
} from '../harness.ts';
import {
  choicesOf,
  chooseSessions,
  countTable,
  createSession,
  misplacedChoices,
  placesOf,
  sessionBody,
  tokenOf,
} from './session-harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;

const admin = (method: 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: object) =>
  http.inject({ method, url, headers: adminHeaders, ...(payload !== undefined ? { payload } : {}) });

async function register(meetingId: string, i: number, sessionIds: string[] = []) {
  const res = await registerPerson(
    svc,
    meetingId,
    person(i, { email: `s${i}-${meetingId}@example.org`, sessionIds }),
  );
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
  return res.json() as { registrationId: string; status: string; manageUrl: string };
}

const granted = async () =>
  (await outboxEvents(svc)).filter((e) => shortType(e.type) === 'attendee.session_place_granted');

t.test(
  'a full session is a waitlist place, not an error; leaving gives the place to the first waiting',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 10 });
    const session = await createSession(svc, meeting.id, { capacity: 2 });
    const a = await register(meeting.id, 1, [session.id]);
    const b = await register(meeting.id, 2, [session.id]);
    const c = await register(meeting.id, 3, [session.id]);
    const d = await register(meeting.id, 4);
    t.same(await choicesOf(svc, session.id), {
      placed: [a.registrationId, b.registrationId],
      waiting: [c.registrationId],
      pending: [],
    });
    const view = await chooseSessions(svc, tokenOf(d.manageUrl), [session.id]);
    t.equal(view.statusCode, 200);
    t.match(view.json().sessions[0], {
      id: session.id,
      choice: 'waitlisted',
      position: 2,
      placesAvailable: 0,
    });

    const before = (await granted()).length;
    const left = await chooseSessions(svc, tokenOf(a.manageUrl), []);
    t.equal(left.statusCode, 200);
    t.equal(left.json().sessions[0].choice, null);
    t.same(await choicesOf(svc, session.id), {
      placed: [b.registrationId, c.registrationId],
      waiting: [d.registrationId],
      pending: [],
    });
    const events = (await granted()).slice(before);
    t.equal(events.length, 1, 'one place given on, one event');
    t.match(events[0]!.data, {
      registrationId: c.registrationId,
      sessionId: session.id,
      previousPosition: 1,
    });
    const places = await placesOf(svc, session.id);
    t.same(places.counters, places.counted);
  },
);

t.test('cancelling the registration gives up its sessions and their places go on', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 10 });
  const session = await createSession(svc, meeting.id, { capacity: 1 });
  const a = await register(meeting.id, 1, [session.id]);
  const b = await register(meeting.id, 2, [session.id]);
  const res = await http.inject({
    method: 'POST',
    url: `/registrations/manage/${tokenOf(a.manageUrl)}/cancel`,
  });
  t.equal(res.statusCode, 200);
  t.same(await choicesOf(svc, session.id), { placed: [b.registrationId], waiting: [], pending: [] });
  t.same((await placesOf(svc, session.id)).counters, { placesTaken: 1, waitlistLength: 0 });
  t.ok((await granted()).some((e) => e.data.registrationId === b.registrationId));
});

t.test('a waitlisted attendee keeps the choice; it queues for its place once the seat comes', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  const session = await createSession(svc, meeting.id, { capacity: 1 });
  const other = await createSession(svc, meeting.id, {
    capacity: 1,
    startsAt: '2027-03-11T15:00',
    endsAt: '2027-03-11T16:00',
  });
  const a = await register(meeting.id, 1, [session.id]);
  const b = await register(meeting.id, 2, [session.id, other.id]);
  t.equal(b.status, 'waitlisted');
  t.same(await choicesOf(svc, session.id), {
    placed: [a.registrationId],
    waiting: [],
    pending: [b.registrationId],
  });
  t.same(
    (await placesOf(svc, other.id)).counters,
    { placesTaken: 0, waitlistLength: 0 },
    'pending holds nothing',
  );
  const seen = await http.inject(`/registrations/manage/${tokenOf(b.manageUrl)}/sessions`);
  t.same(
    seen.json().sessions.map((s: { choice: string }) => s.choice),
    ['pending', 'pending'],
  );

  const before = (await granted()).length;
  await http.inject({ method: 'POST', url: `/registrations/manage/${tokenOf(a.manageUrl)}/cancel` });
  // b got a's meeting seat, then a's session place (nobody waited longer for it), and the free one in `other`.
  t.same(await choicesOf(svc, session.id), { placed: [b.registrationId], waiting: [], pending: [] });
  t.same(await choicesOf(svc, other.id), { placed: [b.registrationId], waiting: [], pending: [] });
  const events = (await granted()).slice(before);
  t.same(
    events.map((e) => [e.data.sessionId, e.data.previousPosition]).sort(),
    [
      [other.id, null],
      [session.id, null],
    ].sort(),
  );
  t.same(await misplacedChoices(svc, meeting.id), []);
});

t.test('raising a session capacity promotes in waiting order; lowering unplaces nobody', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 10 });
  const session = await createSession(svc, meeting.id, { capacity: 1 });
  const regs = [];
  for (let i = 0; i < 4; i += 1) regs.push(await register(meeting.id, i, [session.id]));
  const ids = regs.map((r) => r.registrationId);
  const raised = await admin('PATCH', `/admin/meetings/${meeting.id}/sessions/${session.id}`, {
    capacity: 3,
  });
  t.equal(raised.statusCode, 200);
  t.same(raised.json().promoted, [
    { registrationId: ids[1], previousPosition: 1 },
    { registrationId: ids[2], previousPosition: 2 },
  ]);
  const lowered = await admin('PATCH', `/admin/meetings/${meeting.id}/sessions/${session.id}`, {
    capacity: 1,
  });
  t.equal(lowered.statusCode, 200);
  t.same(await choicesOf(svc, session.id), { placed: ids.slice(0, 3), waiting: [ids[3]], pending: [] });
  t.match(lowered.json().session, { capacity: 1, placesTaken: 3, placesAvailable: 0, waitlistLength: 1 });

  const removed = await admin('DELETE', `/admin/meetings/${meeting.id}/sessions/${session.id}`);
  t.equal(removed.statusCode, 200);
  t.same(
    await choicesOf(svc, session.id),
    { placed: [], waiting: [], pending: [] },
    'its choices went with it',
  );
  const listed = await http.inject(`/meetings/${meeting.id}/sessions`);
  t.same(listed.json(), []);
});

t.test('the public list shows free places; the manage page answers for the attendee only', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 10 });
  const late = await createSession(svc, meeting.id, {
    title: 'Later',
    startsAt: '2027-03-11T16:00',
    endsAt: '2027-03-11T17:00',
    capacity: 3,
  });
  const early = await createSession(svc, meeting.id, { title: 'Eerder', capacity: 3 });
  await register(meeting.id, 1, [early.id]);
  const res = await http.inject(`/meetings/${meeting.slug}/sessions`);
  t.equal(res.statusCode, 200);
  t.same(
    res.json().map((s: { title: string; placesAvailable: number }) => [s.title, s.placesAvailable]),
    [
      ['Eerder', 2],
      ['Later', 3],
    ],
  );
  t.equal(late.capacity, 3);
  const draft = await createMeeting(svc, { status: 'draft' });
  t.equal((await http.inject(`/meetings/${draft.id}/sessions`)).statusCode, 404, 'drafts are not public');
});

t.test('bad input on every sessions endpoint: 4xx problem naming the field, nothing written', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  const session = await createSession(svc, meeting.id, { capacity: 1 });
  const overlapping = await createSession(svc, meeting.id, {
    startsAt: '2027-03-11T14:30',
    endsAt: '2027-03-11T15:30',
  });
  const reg = await register(meeting.id, 1);
  const token = tokenOf(reg.manageUrl);
  const unknown = '01936b30-5a6b-7c8d-9e0f-a1b2c3d4e5f6';
  // The relay prunes published outbox rows, so events are counted by id from here on.
  const lastEvent = await svc.runtime.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  const counts = async () => [
    await countTable(svc, 'meeting_session'),
    await countTable(svc, 'session_choice'),
    await countRows(svc, 'registration'),
    JSON.stringify(await placesOf(svc, session.id)),
  ];
  const eventsSince = async (id: unknown) =>
    (await svc.runtime.db.selectFrom('outbox').select('id').where('id', '>', Number(id)).execute()).length;
  const before = await counts();
  const sessions = `/admin/meetings/${meeting.id}/sessions`;
  const one = `${sessions}/${session.id}`;
  const register2 = `/meetings/${meeting.id}/registrations`;
  const manage = `/registrations/manage/${token}/sessions`;
  const cases: [string, string, string, unknown, string, number?][] = [
    ['POST', sessions, 'capacity zero', sessionBody({ capacity: 0 }), 'body.capacity'],
    ['POST', sessions, 'capacity not a number', sessionBody({ capacity: 'tien' }), 'body.capacity'],
    ['POST', sessions, 'capacity a fraction', sessionBody({ capacity: 1.5 }), 'body.capacity'],
    ['POST', sessions, 'missing title', sessionBody({ title: undefined }), 'body.title'],
    ['POST', sessions, 'title a number', sessionBody({ title: 7 }), 'body.title'],
    ['POST', sessions, 'not a date', sessionBody({ startsAt: 'morgen' }), 'body.startsAt'],
    ['POST', sessions, 'before the meeting', sessionBody({ startsAt: '2027-03-11T12:00' }), 'body.startsAt'],
    ['POST', sessions, 'after the meeting', sessionBody({ endsAt: '2027-03-11T18:00' }), 'body.endsAt'],
    [
      'POST',
      sessions,
      'another day',
      sessionBody({ startsAt: '2027-03-12T14:00', endsAt: '2027-03-12T15:00' }),
      'body.endsAt',
    ],
    ['POST', sessions, 'ends before start', sessionBody({ endsAt: '2027-03-11T13:30' }), 'body.endsAt'],
    ['POST', `/admin/meetings/${unknown}/sessions`, 'unknown meeting', sessionBody(), 'meeting', 404],
    ['POST', '/admin/meetings/123/sessions', 'meeting id not a uuid', sessionBody(), 'params.id'],
    ['PATCH', one, 'capacity zero', { capacity: 0 }, 'body.capacity'],
    ['PATCH', one, 'capacity negative', { capacity: -3 }, 'body.capacity'],
    ['PATCH', one, 'capacity text', { capacity: '3' }, 'body.capacity'],
    ['PATCH', one, 'moved out of the meeting', { endsAt: '2027-03-11T19:00' }, 'body.endsAt'],
    ['PATCH', one, 'empty change', {}, 'body'],
    ['PATCH', `${sessions}/${unknown}`, 'unknown session', { capacity: 3 }, 'session', 404],
    ['PATCH', `${sessions}/nope`, 'session id not a uuid', { capacity: 3 }, 'params.sessionId'],
    ['DELETE', `${sessions}/${unknown}`, 'remove unknown session', undefined, 'session', 404],
    ['POST', register2, 'unknown session', person(9, { sessionIds: [unknown] }), 'body.sessionIds.0'],
    ['POST', register2, 'session id not a uuid', person(9, { sessionIds: ['x'] }), 'body.sessionIds.0'],
    ['POST', register2, 'sessionIds not a list', person(9, { sessionIds: session.id }), 'body.sessionIds'],
    [
      'POST',
      register2,
      'same time',
      person(9, { sessionIds: [session.id, overlapping.id] }),
      'body.sessionIds',
    ],
    [
      'POST',
      register2,
      'chosen twice',
      person(9, { sessionIds: [session.id, session.id] }),
      'body.sessionIds.1',
    ],
    ['PUT', manage, 'unknown session', { sessionIds: [unknown] }, 'body.sessionIds.0'],
    ['PUT', manage, 'same time', { sessionIds: [overlapping.id, session.id] }, 'body.sessionIds'],
    ['PUT', manage, 'ids not strings', { sessionIds: [1] }, 'body.sessionIds.0'],
    ['PUT', manage, 'no list', {}, 'body.sessionIds'],
    ['PUT', '/registrations/manage/short/sessions', 'bad token', { sessionIds: [] }, 'params.token'],
  ];
  for (const [method, url, name, payload, field, status = 400] of cases) {
    const res =
      method === 'PUT' || url.startsWith('/meetings/')
        ? await http.inject({
            method: method as 'PUT',
            url,
            ...(payload !== undefined ? { payload: payload as object } : {}),
          })
        : await admin(method as 'POST', url, payload as object | undefined);
    t.equal(res.statusCode, status, `${name}: status (${res.body})`);
    t.match(res.headers['content-type'], /application\/problem\+json/, `${name}: problem+json`);
    const body = res.json();
    const named =
      JSON.stringify(body.errors ?? []).includes(`"${field}"`) || String(body.detail).includes(field);
    t.ok(named, `${name}: names ${field} (${res.body})`);
  }
  t.same(await counts(), before, 'nothing written by any bad request');
  t.equal(await eventsSince(lastEvent?.id ?? 0), 0, 'no event written by any bad request');
  // Another meeting's session is unknown to this one.
  const elsewhere = await createMeeting(svc, { capacity: 5 });
  const foreign = await createSession(svc, elsewhere.id);
  const afterForeign = await counts();
  const res = await chooseSessions(svc, token, [foreign.id]);
  t.equal(res.statusCode, 400);
  t.same(await counts(), afterForeign, 'another meeting’s session: nothing written');
  t.equal(afterForeign[0], (before[0] as number) + 1, 'only the other meeting’s session was added');
});

t.test('a cancelled registration cannot choose; a started meeting takes no more changes', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5 });
  const session = await createSession(svc, meeting.id);
  const a = await register(meeting.id, 1);
  await http.inject({ method: 'POST', url: `/registrations/manage/${tokenOf(a.manageUrl)}/cancel` });
  const refused = await chooseSessions(svc, tokenOf(a.manageUrl), [session.id]);
  t.equal(refused.statusCode, 409);
  const b = await register(meeting.id, 2);
  const saved = clock.current;
  clock.current = new Date('2027-03-11T13:00:00Z');
  try {
    const late = await chooseSessions(svc, tokenOf(b.manageUrl), [session.id]);
    t.equal(late.statusCode, 409);
    t.match(late.headers['content-type'], /application\/problem\+json/);
  } finally {
    clock.current = saved;
  }
  t.same((await choicesOf(svc, session.id)).placed, []);
});
