/**
 * Waitlist offers against real Postgres (and NATS under the service): an offer is made when a seat comes
 * free, held while open, accepted, declined or expired and passed on; answers too late change nothing; bad
 * input on every new endpoint is a 4xx naming the field; the page behind the link accepts only on a post.
 */
import { sql } from 'kysely';
import t from 'tap';
import { createServiceContext } from '../../src/context.ts';
import { expireDueOffers } from '../../src/offers/offer.service.ts';
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
  startRegistration,
  TestClock,
} from '../harness.ts';

// The meetings of meetingBody start 2027-03-11 13:00 Amsterdam; this is weeks before.
const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
// The sweep runs when a test asks, so "nothing changed" is not raced by the service's own worker.
const ctx = await startRegistration(clock, { OFFER_SWEEP_MS: '3600000' });
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;
const db = svc.runtime.db;
const sweep = () =>
  expireDueOffers(
    createServiceContext({
      db,
      clock,
      newId: () => crypto.randomUUID(),
      publicBaseUrl: 'https://cop.example.org',
    }),
  );

const post = (url: string, payload?: unknown) =>
  http.inject({ method: 'POST', url, headers: adminHeaders, ...(payload ? { payload } : {}) });

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** The offer events of a meeting, in commit order. */
async function offersMade(meetingId: string) {
  return (await outboxEvents(svc))
    .filter((e) => shortType(e.type) === 'attendee.seat_offered' && e.data.meetingId === meetingId)
    .map((e) => ({
      registrationId: e.data.registrationId as string,
      token: tokenOf(e.data.acceptUrl as string),
      expiresAt: new Date(e.data.expiresAt as string),
      data: e.data,
    }));
}

async function stateOf(meetingId: string) {
  const { rows } = await sql<{
    capacity: number;
    seats_taken: number;
    waitlist_length: number;
    taken: number;
    waiting: number;
    open_offers: number;
  }>`select m.capacity, m.seats_taken, m.waitlist_length,
      (select count(*)::int from registration r
        where r.meeting_id = m.id and r.status in ('confirmed', 'checked_in', 'no_show')) as taken,
      (select count(*)::int from registration r where r.meeting_id = m.id and r.status = 'waitlisted') as waiting,
      (select count(*)::int from waitlist_offer o where o.meeting_id = m.id and o.status = 'open') as open_offers
    from meeting m where m.id = ${meetingId}`.execute(db);
  return rows[0]!;
}

const statusOf = async (registrationId: string) =>
  (
    await db
      .selectFrom('registration')
      .select(['status', 'cancelled_by'])
      .where('id', '=', registrationId)
      .executeTakeFirstOrThrow()
  ).status;

/** A full meeting that offers seats: one confirmed, `waiting` on the waitlist. */
async function fullOfferMeeting(waiting: number, overrides: Record<string, unknown> = {}) {
  const meeting = await createMeeting(svc, { capacity: 1, waitlistPromotion: 'offer', ...overrides });
  const seated = (await registerPerson(svc, meeting.id, person(1))).json();
  const queue = [];
  for (let i = 0; i < waiting; i += 1) {
    queue.push(
      (await registerPerson(svc, meeting.id, person(10 + i, { language: i % 2 ? 'en' : 'nl' }))).json(),
    );
  }
  return { meeting, seated, queue };
}

t.test('a free seat is offered to the next in line and held until accepted', async (t) => {
  const { meeting, seated, queue } = await fullOfferMeeting(2);
  const [bram, carla] = queue;
  t.equal(bram.status, 'waitlisted');
  t.equal((await post(`/admin/registrations/${seated.registrationId}/cancel`)).statusCode, 200);

  const [offer, ...more] = await offersMade(meeting.id);
  t.equal(more.length, 0, 'one seat, one offer');
  t.equal(offer!.registrationId, bram.registrationId, 'to the longest waiting');
  t.match(offer!.data, { status: 'waitlisted', position: 1, email: person(10).email, version: 2 });
  t.match(offer!.data.acceptUrl, /^https:\/\/cop\.example\.org\/aanmelding\/plek\/[A-Za-z0-9_-]{32}$/);
  t.equal(
    offer!.expiresAt.getTime(),
    clock.now().getTime() + 48 * 3600_000,
    'weeks before the meeting the configured 48 hours',
  );
  t.equal(await statusOf(bram.registrationId), 'waitlisted', 'an offer is not a seat yet');
  t.match(await stateOf(meeting.id), { seats_taken: 0, waitlist_length: 2, open_offers: 1 });

  const late = (await registerPerson(svc, meeting.id, person(30))).json();
  t.match(late, { status: 'waitlisted', position: 3 }, 'the held seat goes to nobody else');
  const raised = await http.inject({
    method: 'PUT',
    url: `/admin/meetings/${meeting.id}/capacity`,
    headers: adminHeaders,
    payload: { capacity: 2 },
  });
  t.equal(raised.statusCode, 200);
  t.same(
    (await offersMade(meeting.id)).map((o) => o.registrationId),
    [bram.registrationId, carla.registrationId],
    'one more seat, one more offer, to the next: none for the seat already held',
  );
  t.match(await stateOf(meeting.id), { seats_taken: 0, waitlist_length: 3, open_offers: 2 });
  const before = await countRows(svc, 'outbox');
  const view = await http.inject({ url: `/registrations/offers/${offer!.token}` });
  t.equal(view.statusCode, 200);
  t.match(view.json(), { status: 'open', registrationId: bram.registrationId, meeting: { id: meeting.id } });
  const page = await http.inject({ url: `/aanmelding/plek/${offer!.token}` });
  t.equal(page.statusCode, 200, 'the page opens');
  t.match(page.body, /Er is een plek vrij voor je/);
  t.equal(await countRows(svc, 'outbox'), before, 'reading the offer, by API or page, changes nothing');
  t.equal(await statusOf(bram.registrationId), 'waitlisted');

  const accepted = await http.inject({ method: 'POST', url: `/registrations/offers/${offer!.token}/accept` });
  t.equal(accepted.statusCode, 200);
  t.same(accepted.json(), {
    offerId: offer!.data.offerId,
    registrationId: bram.registrationId,
    status: 'accepted',
    registrationStatus: 'confirmed',
  });
  t.equal(await statusOf(bram.registrationId), 'confirmed');
  t.match(await stateOf(meeting.id), {
    seats_taken: 1,
    taken: 1,
    waitlist_length: 2,
    waiting: 2,
    open_offers: 1,
  });
  const promoted = (await outboxEvents(svc)).filter(
    (e) => shortType(e.type) === 'attendee.promoted' && e.data.registrationId === bram.registrationId,
  );
  t.equal(promoted.length, 1, 'accepting is announced as a promotion (the usual promoted mail)');
  t.match(promoted[0]!.data, { status: 'confirmed', previousPosition: 1, version: 3 });

  const again = await http.inject({ method: 'POST', url: `/registrations/offers/${offer!.token}/accept` });
  t.equal(again.statusCode, 200, 'accepting twice answers the same');
  const decline = await http.inject({ method: 'POST', url: `/registrations/offers/${offer!.token}/decline` });
  t.equal(decline.statusCode, 409, 'declining an accepted seat is refused');
  t.equal(decline.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(await statusOf(bram.registrationId), 'confirmed');
  t.equal(await statusOf(carla.registrationId), 'waitlisted');
});

t.test('a declined offer passes to the next in line and ends the waitlist place', async (t) => {
  const { meeting, seated, queue } = await fullOfferMeeting(2);
  const [bram, carla] = queue;
  await post(`/admin/registrations/${seated.registrationId}/cancel`);
  const [first] = await offersMade(meeting.id);
  const res = await http.inject({ method: 'POST', url: `/registrations/offers/${first!.token}/decline` });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { status: 'declined', registrationStatus: 'cancelled' });
  t.equal(await statusOf(bram.registrationId), 'cancelled');
  const cancelled = (await outboxEvents(svc)).find(
    (e) => shortType(e.type) === 'attendee.cancelled' && e.data.registrationId === bram.registrationId,
  );
  t.match(cancelled!.data, { previousStatus: 'waitlisted', cancelledBy: 'attendee' });
  const offers = await offersMade(meeting.id);
  t.equal(offers.length, 2);
  t.equal(offers[1]!.registrationId, carla.registrationId, 'the seat is offered to the next');
  t.match(await stateOf(meeting.id), { seats_taken: 0, waitlist_length: 1, open_offers: 1 });
  const late = await http.inject({ method: 'POST', url: `/registrations/offers/${first!.token}/accept` });
  t.equal(late.statusCode, 409, 'a declined offer cannot be accepted after all');
});

t.test('an expired offer is refused kindly, changes nothing, and the sweep passes it on', async (t) => {
  const { meeting, seated, queue } = await fullOfferMeeting(2);
  const [bram, carla] = queue;
  await post(`/admin/registrations/${seated.registrationId}/cancel`);
  const [offer] = await offersMade(meeting.id);
  const saved = clock.current;
  clock.current = offer!.expiresAt;
  try {
    const outboxBefore = await countRows(svc, 'outbox');
    const stateBefore = await stateOf(meeting.id);
    const api = await http.inject({ method: 'POST', url: `/registrations/offers/${offer!.token}/accept` });
    t.equal(api.statusCode, 410, 'too late: 410');
    t.equal(api.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(api.json(), { type: /offer-expired$/, detail: /nothing was changed/ });
    const view = await http.inject({ url: `/registrations/offers/${offer!.token}` });
    t.equal(view.json().status, 'expired', 'expired for its reader before the sweep came by');
    const page = await http.inject({ url: `/aanmelding/plek/${offer!.token}` });
    t.equal(page.statusCode, 410, 'the page says so kindly');
    t.match(page.body, /De tijd om te bevestigen is voorbij/);
    t.notMatch(page.body, /<form/, 'and offers no button');
    const { cookie, csrf } = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
    const form = await http.inject(
      formPost(`/aanmelding/plek/${offer!.token}`, cookie, { csrf, language: 'en' }),
    );
    t.equal(form.statusCode, 410, 'a button pressed too late');
    t.match(form.body, /The time to confirm is over/);
    t.equal(await countRows(svc, 'outbox'), outboxBefore, 'no event');
    t.same(await stateOf(meeting.id), stateBefore, 'no seat, counter or offer changed');
    t.equal(await statusOf(bram.registrationId), 'waitlisted');

    // Offers of the tests before, made at the same time, expire with it.
    t.ok((await sweep()) >= 1, 'the sweep closes the offer');
    t.equal(await sweep(), 0, 'once');
    t.equal(await statusOf(bram.registrationId), 'cancelled');
    const cancelled = (await outboxEvents(svc)).find(
      (e) => shortType(e.type) === 'attendee.cancelled' && e.data.registrationId === bram.registrationId,
    );
    t.match(cancelled!.data, { previousStatus: 'waitlisted', cancelledBy: 'system' });
    const offers = await offersMade(meeting.id);
    t.equal(offers.length, 2);
    t.equal(offers[1]!.registrationId, carla.registrationId, 'passed to the next in line');
    t.match(await stateOf(meeting.id), { seats_taken: 0, waitlist_length: 1, open_offers: 1 });
    const still = await http.inject({ method: 'POST', url: `/registrations/offers/${offer!.token}/accept` });
    t.equal(still.statusCode, 410, 'and stays refused after the sweep');
  } finally {
    clock.current = saved;
  }
});

t.test('close to the meeting the window shortens', async (t) => {
  const { meeting, seated } = await fullOfferMeeting(1, { offerHours: 48 });
  const saved = clock.current;
  // 2027-03-11 13:00 Amsterdam is 12:00Z: a day before.
  clock.current = new Date('2027-03-10T12:00:00Z');
  try {
    await post(`/admin/registrations/${seated.registrationId}/cancel`);
    const [offer] = await offersMade(meeting.id);
    t.equal(offer!.expiresAt.toISOString(), '2027-03-10T18:00:00.000Z', 'a quarter of the day left');
  } finally {
    clock.current = saved;
  }
});

t.test('someone holding an offer who leaves frees the held seat for the next', async (t) => {
  const { meeting, seated, queue } = await fullOfferMeeting(2);
  const [bram, carla] = queue;
  await post(`/admin/registrations/${seated.registrationId}/cancel`);
  const [offer] = await offersMade(meeting.id);
  const cancel = await http.inject({
    method: 'POST',
    url: `/registrations/manage/${tokenOf(bram.manageUrl)}/cancel`,
  });
  t.equal(cancel.statusCode, 200);
  const offers = await offersMade(meeting.id);
  t.equal(offers.at(-1)!.registrationId, carla.registrationId, 'offered to the next');
  t.match(await stateOf(meeting.id), { seats_taken: 0, waitlist_length: 1, open_offers: 1 });
  const withdrawn = await http.inject({
    method: 'POST',
    url: `/registrations/offers/${offer!.token}/accept`,
  });
  t.equal(withdrawn.statusCode, 409, 'the withdrawn offer cannot be accepted');

  // Erasure does the same for the next one.
  t.equal((await post('/admin/erasures', { email: person(11).email })).statusCode, 200);
  t.match(await stateOf(meeting.id), { seats_taken: 0, waitlist_length: 0, open_offers: 0 });
  const free = (await registerPerson(svc, meeting.id, person(40))).json();
  t.equal(free.status, 'confirmed', 'nobody waits any more: the seat is free for a newcomer');
});

t.test('automatic promotion stays the default', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  t.match(meeting, { waitlistPromotion: 'automatic', offerHours: 48 });
  const a = (await registerPerson(svc, meeting.id, person(1))).json();
  const b = (await registerPerson(svc, meeting.id, person(2))).json();
  await post(`/admin/registrations/${a.registrationId}/cancel`);
  t.equal(await statusOf(b.registrationId), 'confirmed');
  t.equal((await offersMade(meeting.id)).length, 0);
  const edited = await http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${meeting.id}`,
    headers: adminHeaders,
    payload: { waitlistPromotion: 'offer', offerHours: 12 },
  });
  t.equal(edited.statusCode, 200);
  t.match(edited.json(), { waitlistPromotion: 'offer', offerHours: 12 });
  const updated = (await outboxEvents(svc)).filter(
    (e) => shortType(e.type) === 'meeting.updated' && e.data.meetingId === meeting.id,
  );
  t.same(updated.at(-1)!.data.changedFields, ['waitlistPromotion']);
});

t.test('bad input on every new endpoint: 4xx problem naming the field, nothing written', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  const counts = async () => [
    await countRows(svc, 'meeting'),
    await countRows(svc, 'registration'),
    await countRows(svc, 'outbox'),
    Number((await sql<{ n: number }>`select count(*)::int as n from waitlist_offer`.execute(db)).rows[0]!.n),
  ];
  const before = await counts();
  const base = {
    title: 'x',
    slug: 'bad-offer-input',
    startsAt: '2027-03-11T13:00',
    endsAt: '2027-03-11T17:00',
    venue: { name: 'v', address: 'a' },
    capacity: 10,
  };
  const cases: [string, string, string, unknown, string][] = [
    ['GET', '/registrations/offers/kort', 'short token', undefined, 'params.token'],
    ['POST', '/registrations/offers/kort/accept', 'short token', undefined, 'params.token'],
    ['POST', `/registrations/offers/${'!'.repeat(32)}/decline`, 'bad characters', undefined, 'params.token'],
    [
      'POST',
      '/admin/meetings',
      'unknown mode',
      { ...base, waitlistPromotion: 'soms' },
      'body.waitlistPromotion',
    ],
    ['POST', '/admin/meetings', 'zero hours', { ...base, offerHours: 0 }, 'body.offerHours'],
    ['POST', '/admin/meetings', 'too many hours', { ...base, offerHours: 337 }, 'body.offerHours'],
    ['POST', '/admin/meetings', 'hours not a number', { ...base, offerHours: 'lang' }, 'body.offerHours'],
    ['PATCH', `/admin/meetings/${meeting.id}`, 'fractional hours', { offerHours: 1.5 }, 'body.offerHours'],
    [
      'PATCH',
      `/admin/meetings/${meeting.id}`,
      'mode null',
      { waitlistPromotion: null },
      'body.waitlistPromotion',
    ],
  ];
  for (const [method, url, what, payload, field] of cases) {
    const res = await http.inject({
      method: method as 'POST',
      url,
      headers: adminHeaders,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    t.equal(res.statusCode, 400, `${what}: 400`);
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', `${what}: problem+json`);
    t.ok(
      (res.json().errors ?? []).some((e: { field: string }) => e.field === field),
      `${what}: names ${field}`,
      { body: res.json() },
    );
  }
  const unknown = await http.inject({
    method: 'POST',
    url: `/registrations/offers/${'a'.repeat(32)}/accept`,
  });
  t.equal(unknown.statusCode, 404, 'an unknown token: 404');
  t.equal(unknown.headers['content-type'], 'application/problem+json; charset=utf-8');
  const page = await http.inject({ url: `/aanmelding/plek/${'a'.repeat(32)}` });
  t.equal(page.statusCode, 404, 'the page of an unknown link: 404');
  t.same(await counts(), before, 'nothing was written by any of them');
});

t.test('the page accepts only on its button, with the CSRF guard', async (t) => {
  const { meeting, seated, queue } = await fullOfferMeeting(1);
  const [bram] = queue;
  await post(`/admin/registrations/${seated.registrationId}/cancel`);
  const [offer] = await offersMade(meeting.id);
  const path = `/aanmelding/plek/${offer!.token}`;
  const { cookie, csrf, page } = await openForm(svc, path);
  t.match(page.body, /Bevestig vóór/);
  t.equal(page.headers['cache-control'], 'no-store');
  const forged = await http.inject(formPost(path, cookie, { csrf: 'vals', language: 'nl' }));
  t.equal(forged.statusCode, 403, 'without a valid CSRF field: the page again');
  t.equal(await statusOf(bram.registrationId), 'waitlisted', 'and nothing accepted');
  const accepted = await http.inject(formPost(path, cookie, { csrf, language: 'nl' }));
  t.equal(accepted.statusCode, 200);
  t.match(accepted.body, /Je plek is bevestigd/);
  t.equal(await statusOf(bram.registrationId), 'confirmed');
  const reopened = await http.inject({ url: path });
  t.equal(reopened.statusCode, 200);
  t.match(reopened.body, /Je plek is bevestigd/, 'the link then says the seat is yours');
});

t.test('a seat beyond those held goes to a newcomer once everyone waiting holds an offer', async (t) => {
  const { meeting, seated, queue } = await fullOfferMeeting(1);
  const [bram] = queue;
  await post(`/admin/registrations/${seated.registrationId}/cancel`);
  const raised = await http.inject({
    method: 'PUT',
    url: `/admin/meetings/${meeting.id}/capacity`,
    headers: adminHeaders,
    payload: { capacity: 2 },
  });
  t.equal(raised.statusCode, 200);
  t.match(raised.json().meeting.seats, { capacity: 2, confirmed: 0, available: 1, waitlisted: 1 });
  t.same(
    (await offersMade(meeting.id)).map((o) => o.registrationId),
    [bram.registrationId],
    'nobody else waits: no second offer',
  );
  const newcomer = (await registerPerson(svc, meeting.id, person(50))).json();
  t.match(newcomer, { status: 'confirmed' }, 'the free seat is not left empty behind the held one');
  const next = (await registerPerson(svc, meeting.id, person(51))).json();
  t.match(next, { status: 'waitlisted', position: 2 }, 'the held seat still goes to nobody else');
  t.match(await stateOf(meeting.id), { seats_taken: 1, waitlist_length: 2, open_offers: 1 });
});

t.test('cancelling the meeting withdraws its open offers at once, in the same transaction', async (t) => {
  const { meeting, seated, queue } = await fullOfferMeeting(2);
  const [bram, carla] = queue;
  await post(`/admin/registrations/${seated.registrationId}/cancel`);
  const raised = await http.inject({
    method: 'PUT',
    url: `/admin/meetings/${meeting.id}/capacity`,
    headers: adminHeaders,
    payload: { capacity: 2 },
  });
  t.equal(raised.statusCode, 200);
  const offers = await offersMade(meeting.id);
  t.same(
    offers.map((o) => o.registrationId),
    [bram.registrationId, carla.registrationId],
    'two open offers',
  );
  t.match(await stateOf(meeting.id), { open_offers: 2 });
  // A browser that opened the offer page before the cancellation, to press its button after.
  const { cookie, csrf } = await openForm(svc, `/aanmelding/plek/${offers[1]!.token}`);
  const outboxBefore = await countRows(svc, 'outbox');

  const cancelled = await post(`/admin/meetings/${meeting.id}/cancel`, { reason: 'Zaal dicht' });
  t.equal(cancelled.statusCode, 200);
  const rows = await db
    .selectFrom('waitlist_offer')
    .select(['registration_id', 'status', 'closed_at'])
    .where('meeting_id', '=', meeting.id)
    .orderBy('offered_at')
    .orderBy('registration_id')
    .execute();
  t.same(
    rows.map((r) => [r.status, r.closed_at?.getTime()]),
    [
      ['withdrawn', clock.now().getTime()],
      ['withdrawn', clock.now().getTime()],
    ],
    'both offers withdrawn at the cancellation',
  );
  const { seats_offered } = await db
    .selectFrom('meeting')
    .select('seats_offered')
    .where('id', '=', meeting.id)
    .executeTakeFirstOrThrow();
  t.equal(seats_offered, 0, 'the meeting holds no seat for an offer any more');
  t.match(
    await stateOf(meeting.id),
    { open_offers: 0, waitlist_length: 2, waiting: 2 },
    'counters match the rows',
  );
  t.equal(await statusOf(bram.registrationId), 'waitlisted', 'registrations stay as they are');
  const events = (await outboxEvents(svc)).slice(outboxBefore).map((e) => shortType(e.type));
  t.same(events, ['meeting.cancelled'], 'the cancellation is the one event: it tells the waitlist too');

  const view = await http.inject({ url: `/registrations/offers/${offers[0]!.token}` });
  t.equal(view.statusCode, 200);
  t.match(
    view.json(),
    { status: 'withdrawn', meeting: { id: meeting.id, status: 'cancelled' } },
    'the API view: withdrawn, the meeting cancelled',
  );
  const page = await http.inject({ url: `/aanmelding/plek/${offers[0]!.token}` });
  t.equal(page.statusCode, 409, 'the page: no longer open');
  t.match(page.body, /De bijeenkomst is afgelast/, 'and says the meeting is cancelled');
  t.match(page.body, /geldt dit aanbod niet meer/, 'and that the offer no longer stands');
  t.notMatch(page.body, /<form/, 'with no button');

  const stateBefore = await stateOf(meeting.id);
  const outboxAfter = await countRows(svc, 'outbox');
  const api = await http.inject({ method: 'POST', url: `/registrations/offers/${offers[1]!.token}/accept` });
  t.equal(api.statusCode, 409);
  t.equal(api.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.match(
    api.json(),
    { type: /\/meeting-cancelled$/, detail: /nothing was changed/ },
    'accepting: 409 meeting-cancelled',
  );
  const form = await http.inject(
    formPost(`/aanmelding/plek/${offers[1]!.token}`, cookie, { csrf, language: 'en' }),
  );
  t.equal(form.statusCode, 409, 'a button pressed after the cancellation');
  t.match(form.body, /The meeting was cancelled/);
  t.equal(await countRows(svc, 'outbox'), outboxAfter, 'no event');
  t.same(await stateOf(meeting.id), stateBefore, 'nothing changed');
  t.equal(await statusOf(carla.registrationId), 'waitlisted');

  const saved = clock.current;
  clock.current = offers[0]!.expiresAt;
  try {
    await sweep();
    t.equal(await statusOf(bram.registrationId), 'waitlisted', 'the sweep has nothing left to close');
    t.same(
      (await outboxEvents(svc)).slice(outboxAfter).filter((e) => e.data.meetingId === meeting.id),
      [],
      'and announces nothing for the cancelled meeting',
    );
  } finally {
    clock.current = saved;
  }
});

t.test('the migration withdraws the offers that cancellations before it left open', async (t) => {
  const { migrations } = await import('../../src/db/migrations.ts');
  const cancelled = await fullOfferMeeting(1);
  await post(`/admin/registrations/${cancelled.seated.registrationId}/cancel`);
  await post(`/admin/meetings/${cancelled.meeting.id}/cancel`, { reason: 'Zaal dicht' });
  // As a cancellation left it before: the offer open, its seat held.
  await sql`update waitlist_offer set status = 'open', closed_at = null
    where meeting_id = ${cancelled.meeting.id}`.execute(db);
  await sql`update meeting set seats_offered = 1 where id = ${cancelled.meeting.id}`.execute(db);
  const open = await fullOfferMeeting(1);
  await post(`/admin/registrations/${open.seated.registrationId}/cancel`);

  await db.transaction().execute((trx) => migrations['0015_offer_withdrawal']!.up(trx));
  const offerOf = (meetingId: string) =>
    db
      .selectFrom('waitlist_offer as o')
      .innerJoin('meeting as m', 'm.id', 'o.meeting_id')
      .select(['o.status', 'o.closed_at', 'm.cancelled_at', 'm.seats_offered'])
      .where('o.meeting_id', '=', meetingId)
      .executeTakeFirstOrThrow();
  const withdrawn = await offerOf(cancelled.meeting.id);
  t.equal(withdrawn.status, 'withdrawn', 'the cancelled meeting’s offer is withdrawn');
  t.same(withdrawn.closed_at, withdrawn.cancelled_at, 'as of the cancellation');
  t.equal(withdrawn.seats_offered, 0, 'and holds no seat');
  t.match(await offerOf(open.meeting.id), { status: 'open', seats_offered: 1 }, 'an open meeting’s stays');
});
