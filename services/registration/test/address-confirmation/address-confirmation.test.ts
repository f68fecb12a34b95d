/**
 * The optional confirmation of the address before a seat is held (issue 17, item 16), on the real service
 * with Postgres and NATS: nothing is held until the mailed link is followed, the link works once and
 * expires, expired and erased requests are forgotten, and with the setting off nothing changes.
 */
import t from 'tap';
import { createServiceContext } from '../../src/context.ts';
import {
  adminHeaders,
  createMeeting,
  formPost,
  openForm,
  outboxEvents,
  person,
  registerPerson,
  type Service,
  shortType,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, { REGISTRATION_PROOF_OF_WORK: 'false' });
t.teardown(() => ctx.close());
const svc: Service = ctx.service;
const hour = 3_600_000;

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** The confirmation links announced so far for an address, newest last (what the mail will carry). */
async function confirmLinks(email: string): Promise<{ id: string; url: string; version: number }[]> {
  return (await outboxEvents(svc))
    .filter((e) => shortType(e.type) === 'attendee.confirmation_requested' && e.data.email === email)
    .map((e) => ({ id: e.data.registrationId, url: e.data.confirmUrl, version: e.data.version }));
}

const confirm = (token: string) =>
  svc.http.inject({ method: 'POST', url: `/registrations/confirmations/${token}` });

async function seats(meetingId: string) {
  const res = await svc.http.inject({ url: `/admin/meetings/${meetingId}`, headers: adminHeaders });
  return res.json().seats as { confirmed: number; waitlisted: number };
}

async function registrationCount(meetingId: string) {
  const rows = await svc.runtime.db
    .selectFrom('registration')
    .select('id')
    .where('meeting_id', '=', meetingId)
    .execute();
  return rows.length;
}

t.test('off by default: a registration is decided at once, as before', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5 });
  t.equal(meeting.addressConfirmation, false, 'the setting is off unless asked for');
  const res = await registerPerson(svc, meeting.id, person(1));
  t.equal(res.statusCode, 201);
  t.equal(res.json().status, 'confirmed');
  t.same(await confirmLinks(person(1).email), [], 'no confirmation is asked');
});

t.test('on: no seat and no waitlist place until the link is followed; then the usual decision', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1, addressConfirmation: true });
  t.equal(meeting.addressConfirmation, true);
  const anna = person(11, { language: 'en' });
  const bram = person(12);
  const first = await registerPerson(svc, meeting.id, anna);
  t.equal(first.statusCode, 202, 'held, not decided');
  t.same(Object.keys(first.json()).sort(), ['expiresAt', 'meetingId', 'status']);
  t.equal(first.json().status, 'awaiting_confirmation');
  t.equal((await registerPerson(svc, meeting.id, bram)).statusCode, 202);
  t.same(await seats(meeting.id), { capacity: 1, confirmed: 0, available: 1, waitlisted: 0 }, 'nothing held');
  t.equal(await registrationCount(meeting.id), 0, 'no registration exists yet');

  const [annaLink] = await confirmLinks(anna.email);
  const [bramLink] = await confirmLinks(bram.email);
  t.ok(annaLink && bramLink, 'each address is sent a link');
  t.match(annaLink!.url, /^https:\/\/cop\.example\.org\/aanmelding\/bevestigen\/[A-Za-z0-9_-]{32}$/);
  const stored = await svc.runtime.db.selectFrom('address_confirmation').selectAll().execute();
  t.notOk(
    stored.some((r) => JSON.stringify(r).includes(tokenOf(annaLink!.url))),
    'the token is not stored, only its hash',
  );

  // Bram confirms first and gets the one seat, although Anna asked first: the seat is not held for her.
  const bramDone = await confirm(tokenOf(bramLink!.url));
  t.equal(bramDone.statusCode, 201);
  t.equal(bramDone.json().status, 'confirmed');
  t.equal(bramDone.json().registrationId, bramLink!.id, 'the registration takes the request id');
  t.match(bramDone.json().manageUrl, /\/aanmelding\/beheren\//);
  const annaDone = await confirm(tokenOf(annaLink!.url));
  t.equal(annaDone.statusCode, 201);
  t.same([annaDone.json().status, annaDone.json().position], ['waitlisted', 1]);
  t.same(await seats(meeting.id), { capacity: 1, confirmed: 1, available: 0, waitlisted: 1 });

  const types = (await outboxEvents(svc))
    .filter((e) => [annaLink!.id, bramLink!.id].includes(e.data.registrationId))
    .map((e) => `${shortType(e.type)}:${e.data.registrationId === annaLink!.id ? 'anna' : 'bram'}`);
  t.same(types, [
    'attendee.confirmation_requested:anna',
    'attendee.confirmation_requested:bram',
    'attendee.registered:bram',
    'attendee.waitlisted:anna',
  ]);
  const confirmed = await svc.runtime.db
    .selectFrom('address_confirmation')
    .selectAll()
    .where('id', 'in', [annaLink!.id, bramLink!.id])
    .execute();
  t.same(
    confirmed.map((r) => [r.email_key, r.input]),
    [
      [null, null],
      [null, null],
    ],
    'a confirmed request keeps no personal data',
  );
});

t.test('a link works once; a reused, expired or unknown link is refused kindly', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5, addressConfirmation: true });
  await registerPerson(svc, meeting.id, person(21));
  await registerPerson(svc, meeting.id, person(22));
  const [used] = await confirmLinks(person(21).email);
  const [late] = await confirmLinks(person(22).email);
  t.equal((await confirm(tokenOf(used!.url))).statusCode, 201);

  const again = await confirm(tokenOf(used!.url));
  t.equal(again.statusCode, 409, 'a second use is refused');
  t.equal(again.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.match(again.json(), { type: /confirmation-link-used$/, detail: /confirmed with this link already/ });
  t.equal(await registrationCount(meeting.id), 1, 'and registers nobody twice');

  clock.advance(24 * hour + 1000);
  const expired = await confirm(tokenOf(late!.url));
  t.equal(expired.statusCode, 410);
  t.match(expired.json(), { type: /confirmation-link-expired$/, detail: /register again/ });
  t.equal(await registrationCount(meeting.id), 1, 'an expired link decides nothing');

  const unknown = await confirm('A'.repeat(32));
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json(), { type: /confirmation-link-unknown$/ });
  const malformed = await confirm('not-a-token');
  t.equal(malformed.statusCode, 400);
  t.match(malformed.json(), { errors: [{ field: 'params.token' }] });

  // The same in the browser: the page behind the link says so at once, and so does the button's post.
  const expiredGet = await svc.http.inject(`/aanmelding/bevestigen/${tokenOf(late!.url)}?lang=en`);
  t.equal(expiredGet.statusCode, 410);
  t.match(expiredGet.body, /Link expired/);
  const usedGet = await svc.http.inject(`/aanmelding/bevestigen/${tokenOf(used!.url)}`);
  t.equal(usedGet.statusCode, 409);
  t.match(usedGet.body, /Al bevestigd/);
  t.equal((await svc.http.inject(`/aanmelding/bevestigen/${'B'.repeat(32)}`)).statusCode, 404);
  const page = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
  const post = (token: string, cookie = page.cookie, csrf = page.csrf) =>
    svc.http.inject(formPost(`/aanmelding/bevestigen/${token}`, cookie, { csrf, language: 'en' }));
  const expiredPage = await post(tokenOf(late!.url));
  t.equal(expiredPage.statusCode, 410);
  t.match(expiredPage.body, /Link expired/);
  const usedPage = await post(tokenOf(used!.url));
  t.equal(usedPage.statusCode, 409);
  t.match(usedPage.body, /Already confirmed/);
  t.equal((await post(tokenOf(used!.url), page.cookie, 'forged')).statusCode, 403, 'CSRF is checked');
  clock.advance(-(24 * hour + 1000));
});

t.test('the HTML form: held, then confirmed by the button', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5, addressConfirmation: true });
  const form = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
  const res = await svc.http.inject(
    formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, form.cookie, {
      csrf: form.csrf,
      name: 'Carla Jansen',
      email: 'carla@example.org',
      organisation: 'Gemeente Zwolle',
      role: 'dealmaker',
      language: 'nl',
    }),
  );
  t.equal(res.statusCode, 202);
  t.match(res.body, /Bevestig je e-mailadres/);
  const [link] = await confirmLinks('carla@example.org');
  const page = await openForm(svc, `/aanmelding/bevestigen/${tokenOf(link!.url)}`, form.cookie);
  t.equal(page.page.headers['cache-control'], 'no-store');
  t.equal(await registrationCount(meeting.id), 0, 'opening the link (a GET) changes nothing');
  const done = await svc.http.inject(
    formPost(`/aanmelding/bevestigen/${tokenOf(link!.url)}`, form.cookie, {
      csrf: page.csrf,
      language: 'nl',
    }),
  );
  t.equal(done.statusCode, 201);
  t.match(
    done.body,
    /\/aanmelding\/beheren\/[A-Za-z0-9_-]{32}/,
    'the confirmation page shows the manage link',
  );
  t.equal(done.headers['referrer-policy'], 'no-referrer');
});

t.test('asking again renews the one request; an address already registered learns nothing new', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5, addressConfirmation: true });
  await registerPerson(svc, meeting.id, person(31));
  await registerPerson(svc, meeting.id, person(31, { name: 'Deelnemer Eenendertig' }));
  const links = await confirmLinks(person(31).email);
  t.equal(links.length, 2);
  t.equal(links[0]!.id, links[1]!.id, 'one request per address and meeting');
  t.same([links[0]!.version, links[1]!.version], [1, 2]);
  t.equal((await confirm(tokenOf(links[0]!.url))).statusCode, 404, 'the old link stopped working');
  const done = await confirm(tokenOf(links[1]!.url));
  t.equal(done.statusCode, 201);

  const before = (await outboxEvents(svc)).length;
  const again = await registerPerson(svc, meeting.id, person(31));
  t.equal(again.statusCode, 202, 'the same answer as for a new address');
  t.same(Object.keys(again.json()).sort(), ['expiresAt', 'meetingId', 'status']);
  const after = (await outboxEvents(svc)).slice(before).map((e) => shortType(e.type));
  t.same(after, ['attendee.link_reissued'], 'the registered person gets their link instead');
});

t.test('expired requests are swept and announced as erased; erasure takes open requests', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5, addressConfirmation: true });
  await registerPerson(svc, meeting.id, person(41));
  await registerPerson(svc, meeting.id, person(42));
  const [expiring] = await confirmLinks(person(41).email);
  const [erased] = await confirmLinks(person(42).email);

  const erasure = await svc.http.inject({
    method: 'POST',
    url: '/admin/erasures',
    headers: adminHeaders,
    payload: { email: person(42).email },
  });
  t.equal(erasure.statusCode, 200, erasure.body);
  const open = (id: string) =>
    svc.runtime.db.selectFrom('address_confirmation').select('id').where('id', '=', id).execute();
  t.same(await open(erased!.id), [], 'the erased person has no request left');
  t.equal((await confirm(tokenOf(erased!.url))).statusCode, 404);

  const { sweepExpiredConfirmations } = await import(
    '../../src/address-confirmation/address-confirmation.service.ts'
  );
  const sweepCtx = createServiceContext({
    db: svc.runtime.db,
    clock,
    newId: () => crypto.randomUUID(),
    publicBaseUrl: '',
  });
  t.equal(await sweepExpiredConfirmations(sweepCtx), 0, 'nothing has expired yet');
  clock.advance(25 * hour);
  t.ok((await sweepExpiredConfirmations(sweepCtx)) >= 1);
  t.same(await open(expiring!.id), [], 'an expired request is forgotten');
  clock.advance(-25 * hour);

  const ends = (await outboxEvents(svc)).filter(
    (e) =>
      shortType(e.type) === 'attendee.erased' && [expiring!.id, erased!.id].includes(e.data.registrationId),
  );
  t.same(
    ends.map((e) => [e.data.registrationId, e.data.version]).sort(),
    [
      [expiring!.id, 2],
      [erased!.id, 2],
    ].sort(),
    'both ends are announced, so the mail and the event are erased elsewhere too',
  );
});

t.test('the setting is part of the meeting and its update event', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5 });
  const res = await svc.http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${meeting.id}`,
    headers: adminHeaders,
    payload: { addressConfirmation: true },
  });
  t.equal(res.statusCode, 200);
  t.equal(res.json().addressConfirmation, true);
  const updated = (await outboxEvents(svc)).filter(
    (e) => shortType(e.type) === 'meeting.updated' && e.data.meetingId === meeting.id,
  );
  t.same(updated.at(-1)?.data.changedFields, ['addressConfirmation']);
  t.equal((await registerPerson(svc, meeting.id, person(51))).statusCode, 202, 'takes effect at once');
  const bad = await svc.http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${meeting.id}`,
    headers: adminHeaders,
    payload: { addressConfirmation: 'yes' },
  });
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { errors: [{ field: 'body.addressConfirmation' }] });
});
