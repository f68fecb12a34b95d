// Bad input on every endpoint: a 4xx problem naming the field, and nothing written.
import t from 'tap';
import {
  adminHeaders,
  countRows,
  createMeeting,
  person,
  registerPerson,
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
