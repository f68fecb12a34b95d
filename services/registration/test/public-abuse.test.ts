/**
 * The brakes on public registration and the "send me my link again" route, with the budgets set low: per
 * client address and meeting (behind a trusted proxy, so the client comes from X-Forwarded-For), per email
 * address, the bounded waitlist, and link requests. Refused requests write nothing.
 */
import { sql } from 'kysely';
import t from 'tap';
import {
  countRows,
  createMeeting,
  formPost,
  openForm,
  outboxEvents,
  person,
  shortType,
  startRegistration,
  TestClock,
} from './harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, {
  REGISTRATIONS_PER_CLIENT_PER_HOUR: '2',
  REGISTRATIONS_PER_ADDRESS_PER_HOUR: '2',
  LINK_REQUESTS_PER_CLIENT_PER_HOUR: '3',
  LINK_MAILS_PER_ADDRESS_PER_HOUR: '3',
  WAITLIST_LIMIT: '1',
  TRUST_PROXY: '127.0.0.1',
});
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;

const from = (client: string) => ({ 'x-forwarded-for': client });
const registerFrom = (client: string, meetingId: string, body: Record<string, unknown>) =>
  http.inject({
    method: 'POST',
    url: `/meetings/${meetingId}/registrations`,
    headers: from(client),
    payload: body,
  });

async function written() {
  const budgets = await sql<{
    n: number;
  }>`select coalesce(sum(used), 0)::int as n from request_budget`.execute(svc.runtime.db);
  return {
    registrations: await countRows(svc, 'registration'),
    events: await countRows(svc, 'outbox'),
    budget: budgets.rows[0]!.n,
  };
}

t.test('per client and meeting: the third registration from one client is 429, others go on', async (t) => {
  const meeting = await createMeeting(svc);
  const other = await createMeeting(svc);
  for (const i of [1, 2]) {
    t.equal((await registerFrom('203.0.113.1', meeting.id, person(100 + i))).statusCode, 201);
  }
  const before = await written();
  const third = await registerFrom('203.0.113.1', meeting.id, person(103));
  t.equal(third.statusCode, 429);
  t.match(third.headers['content-type'], /^application\/problem\+json/);
  t.match(third.json(), { type: /registration-budget$/, status: 429 });
  t.same(await written(), before, 'nothing written for the refused one');
  t.equal(
    (await registerFrom('203.0.113.2', meeting.id, person(104))).statusCode,
    201,
    'another client behind the same proxy has its own budget',
  );
  t.equal((await registerFrom('203.0.113.1', other.id, person(105))).statusCode, 201, 'another meeting too');
  clock.advance(60 * 60 * 1000);
  t.equal(
    (await registerFrom('203.0.113.1', meeting.id, person(106))).statusCode,
    201,
    'a new hour, a new budget',
  );
});

t.test('per email address: at most two new registrations an hour, over all meetings', async (t) => {
  const meetings = [await createMeeting(svc), await createMeeting(svc), await createMeeting(svc)];
  const body = person(200, { email: 'veel-aanmeldingen@example.org' });
  t.equal((await registerFrom('198.51.100.1', meetings[0]!.id, body)).statusCode, 201);
  t.equal((await registerFrom('198.51.100.2', meetings[1]!.id, body)).statusCode, 201);
  const before = await written();
  const third = await registerFrom('198.51.100.3', meetings[2]!.id, body);
  t.equal(third.statusCode, 429, 'whichever client sends it');
  t.same(await written(), before);
});

t.test('a full meeting with a full waitlist refuses: 409 waitlist-full, nothing written', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  t.equal((await registerFrom('192.0.2.1', meeting.id, person(301))).json().status, 'confirmed');
  t.equal((await registerFrom('192.0.2.2', meeting.id, person(302))).json().status, 'waitlisted');
  const before = await written();
  const third = await registerFrom('192.0.2.3', meeting.id, person(303));
  t.equal(third.statusCode, 409);
  t.match(third.json(), { type: /waitlist-full$/ });
  t.same(await written(), before);
  const page = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
  t.ok(page.page.body.includes('name="csrf"'), 'the page still offers the form');
});

t.test('send me my link again (JSON): same answer for every address; old link dies; budgets', async (t) => {
  const meeting = await createMeeting(svc);
  const known = (await registerFrom('192.0.2.10', meeting.id, person(400))).json();
  const ask = (email: unknown, client = '192.0.2.20') =>
    http.inject({
      method: 'POST',
      url: '/registrations/manage-links',
      headers: from(client),
      payload: { email },
    });
  const eventsBefore = (await outboxEvents(svc)).length;
  const forKnown = await ask('Deelnemer400@example.org');
  const forUnknown = await ask('niemand@example.org');
  t.equal(forKnown.statusCode, 202);
  t.equal(forUnknown.statusCode, 202);
  t.equal(forKnown.body, forUnknown.body, 'the same answer whether or not the address is registered');
  const reissued = (await outboxEvents(svc)).slice(eventsBefore);
  t.same(
    reissued.map((e) => [shortType(e.type), e.subject, e.data.reason]),
    [['attendee.link_reissued', known.registrationId, 'requested']],
    'only the registered address gets a mail',
  );
  const token = (url: string) => url.split('/').pop()!;
  t.equal(
    (await http.inject(`/registrations/manage/${token(known.manageUrl)}`)).statusCode,
    404,
    'old link dead',
  );
  t.equal(
    (await http.inject(`/registrations/manage/${token(reissued[0]!.data.manageUrl)}`)).json().registrationId,
    known.registrationId,
    'the mailed link works',
  );

  const before = await written();
  for (const bad of ['geen-adres', '', 42, null]) {
    const res = await ask(bad);
    t.equal(res.statusCode, 400, `email ${JSON.stringify(bad)}`);
    t.match(res.json().errors, [{ field: 'body.email' }], 'the problem names the field');
  }
  t.same(await written(), before, 'bad input writes nothing');

  t.equal((await ask('niemand@example.org')).statusCode, 202, 'the third request of this client');
  const afterThird = await written();
  const fourth = await ask('niemand@example.org');
  t.equal(fourth.statusCode, 429, 'a fourth in the hour from one client');
  t.match(fourth.headers['content-type'], /^application\/problem\+json/);
  t.same(await written(), afterThird, 'the refused fourth wrote nothing');
});

t.test(
  'send me my link again (page): CSRF, errors next to the field, same page for every address',
  async (t) => {
    const meeting = await createMeeting(svc);
    await registerFrom('192.0.2.30', meeting.id, person(500));
    const opened = await openForm(svc, '/aanmelding/link-opnieuw');
    t.equal(opened.page.statusCode, 200);
    t.match(opened.page.body, '<h1>Stuur mij mijn link opnieuw</h1>');
    const send = (fields: Record<string, string>, cookie = opened.cookie, client = '192.0.2.31') =>
      http.inject({
        ...formPost('/aanmelding/link-opnieuw', cookie, { csrf: opened.csrf, language: 'nl', ...fields }),
        headers: { ...formPost('', cookie, {}).headers, ...from(client) },
      });
    const before = await written();
    const bad = await send({ email: 'geen-adres' });
    t.equal(bad.statusCode, 400);
    t.match(bad.body, '<p class="error" id="email-error">');
    const forged = await send({ email: 'deelnemer500@example.org' }, 'cdcop_csrf=AAAAAAAAAAAAAAAAAAAAAA');
    t.equal(forged.statusCode, 403, 'the field of another cookie');
    t.same(await written(), before, 'nothing written');
    const known = await send({ email: 'deelnemer500@example.org' });
    const unknown = await send({ email: 'onbekend@example.org' }, opened.cookie, '192.0.2.32');
    t.equal(known.statusCode, 200);
    t.equal(known.body, unknown.body, 'one page whatever the address');
    t.match(known.body, 'Kijk in je mailbox');
  },
);
