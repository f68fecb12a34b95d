// Erasure on request and retention: what is anonymised and what is announced.
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { createServiceContext } from '../../src/context.ts';
import {
  adminHeaders,
  createMeeting,
  outboxEvents,
  person,
  registerPerson,
  shortType,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const { http } = ctx.service;
const svc = ctx.service;

function tokenOf(manageUrl: string): string {
  return manageUrl.split('/').pop()!;
}

async function ownView(token: string) {
  return (await http.inject(`/registrations/manage/${token}`)).json();
}

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
  const { eraseExpired } = await import('../../src/privacy/erasure.service.ts');
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
