// The evaluation's attendance report against the real service: meetings held, check-ins at the door, years.
import t from 'tap';
import {
  adminHeaders,
  createMeeting,
  insertDeals,
  registerPerson,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const { http } = ctx.service;

const deals = {
  a: '01936a11-0000-7000-8000-00000000000a',
  b: '01936a11-0000-7000-8000-00000000000b',
  c: '01936a11-0000-7000-8000-00000000000c',
  done: '01936a11-0000-7000-8000-00000000000d',
};
await insertDeals(ctx.service, [
  { id: deals.a, name: 'Fietsen voor Iedereen', phase: 'building' },
  { id: deals.b, name: 'Slim Maatwerk', phase: 'delivering' },
  { id: deals.c, name: 'Kennis Maken', phase: 'securing' },
  { id: deals.done, name: 'Openbare Ruimte', phase: 'completed' },
]);

let serial = 0;
async function attend(meetingId: string, dealId: string | null, checkIn: boolean) {
  const res = await registerPerson(ctx.service, meetingId, {
    name: `Deelnemer ${++serial}`,
    email: `deelnemer${serial}@example.org`,
    organisation: 'Gemeente Voorbeeld',
    role: 'projectleider',
    dealId,
  });
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
  return { id: res.json().registrationId as string, checkIn };
}

const m1 = await createMeeting(ctx.service, { startsAt: '2027-03-11T13:00', endsAt: '2027-03-11T17:00' });
const m2 = await createMeeting(ctx.service, { startsAt: '2027-11-20T13:00', endsAt: '2027-11-20T17:00' });
const m3 = await createMeeting(ctx.service, { startsAt: '2028-03-10T13:00', endsAt: '2028-03-10T17:00' });
const cancelled = await createMeeting(ctx.service, {
  startsAt: '2027-06-01T13:00',
  endsAt: '2027-06-01T17:00',
});
const future = await createMeeting(ctx.service, { startsAt: '2029-03-01T13:00', endsAt: '2029-03-01T17:00' });
const people = [
  await attend(m1.id, deals.a, true),
  await attend(m1.id, deals.a, true),
  await attend(m1.id, deals.b, false),
  await attend(m1.id, null, true),
  await attend(m2.id, deals.a, true),
  await attend(m3.id, deals.a, true),
  await attend(cancelled.id, deals.c, false),
  await attend(future.id, deals.c, false),
];
const cancel = await http.inject({
  method: 'POST',
  url: `/admin/meetings/${cancelled.id}/cancel`,
  headers: adminHeaders,
  payload: { reason: 'zaal niet beschikbaar' },
});
if (cancel.statusCode !== 200) throw new Error(`cancel: ${cancel.statusCode} ${cancel.body}`);

clock.current = new Date('2028-06-01T10:00:00Z');
for (const person of people.filter((p) => p.checkIn)) {
  const res = await http.inject({
    method: 'POST',
    url: `/admin/registrations/${person.id}/check-in`,
    headers: adminHeaders,
  });
  if (res.statusCode >= 300) throw new Error(`check-in: ${res.statusCode} ${res.body}`);
}

const report = async (query: string) =>
  http.inject({ method: 'GET', url: `/admin/reports/attendance${query}`, headers: adminHeaders });

t.test('attendance per deal over the meetings held, per year', async (t) => {
  const res = await report('?rarelyAtMost=0.34');
  t.equal(res.statusCode, 200, res.body);
  const body = res.json();
  t.same(
    body.meetings.map((m: { id: string; year: number }) => [m.id, m.year]),
    [
      [m1.id, 2027],
      [m2.id, 2027],
      [m3.id, 2028],
    ],
    'held meetings only: not the cancelled one, not the future one',
  );
  const a = body.deals.find((d: { dealId: string }) => d.dealId === deals.a);
  t.match(a, { name: 'Fietsen voor Iedereen', meetingsRepresented: 3, people: 4 });
  t.same(a.perYear, [
    { year: 2027, meetings: 2, meetingsRepresented: 2, people: 3 },
    { year: 2028, meetings: 1, meetingsRepresented: 1, people: 1 },
  ]);
  t.equal(body.withoutDeal, 1, 'the guest without a deal');
  t.same(
    body.neverRepresented,
    [
      { dealId: deals.c, name: 'Kennis Maken' },
      { dealId: deals.b, name: 'Slim Maatwerk' },
    ],
    'b registered but did not come; c only for the cancelled and the future meeting; the completed deal is not missed',
  );

  const byRegistration = (await report('?basis=registration&rarelyAtMost=0.34')).json();
  t.same(
    byRegistration.rarelyRepresented,
    [{ dealId: deals.b, name: 'Slim Maatwerk', meetingsRepresented: 1 }],
    'counted by seats held, b was there once in three',
  );

  const only2028 = (await report('?from=2028&to=2028')).json();
  t.same(
    only2028.meetings.map((m: { id: string }) => m.id),
    [m3.id],
  );
});

t.test('as CSV for Excel', async (t) => {
  const res = await http.inject({
    method: 'GET',
    url: '/admin/reports/attendance.csv?from=2027',
    headers: adminHeaders,
  });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/csv/);
  t.match(res.headers['content-disposition'], /aanwezigheid-per-deal-2027-\.csv/);
  const lines = res.body.replace(/^\uFEFF/, '').split('\r\n');
  t.equal(
    lines[0],
    '"Deal";"Soort";"Fase";"Bijeenkomsten vertegenwoordigd (van 3)";"Aanwezigen";"2027: bijeenkomsten";"2027: personen";"2028: bijeenkomsten";"2028: personen"',
  );
  t.equal(lines[1], '"Fietsen voor Iedereen";"city_deal";"building";"3";"4";"2 van 2";"3";"1 van 1";"1"');
});

t.test('bad input: a problem naming the field', async (t) => {
  for (const [query, field] of [
    ['?from=2028&to=2027', 'querystring.to'],
    ['?rarelyAtMost=2', 'querystring.rarelyAtMost'],
    ['?from=twenty', 'querystring.from'],
    ['?basis=guess', 'querystring.basis'],
  ] as const) {
    const res = await report(query);
    t.equal(res.statusCode, 400, query);
    t.match(res.headers['content-type'], /application\/problem\+json/);
    t.ok(
      res.json().errors?.some((e: { field: string }) => e.field === field),
      `${query} names ${field}`,
      { body: res.json() },
    );
  }
  const anonymous = await http.inject({ method: 'GET', url: '/admin/reports/attendance' });
  t.equal(anonymous.statusCode, 401, 'an admin key is needed');
});
