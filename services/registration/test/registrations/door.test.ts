// At the door: the attendee list, check-in, no-shows and the CSV.
import t from 'tap';
import {
  adminHeaders,
  createMeeting,
  dealIds,
  insertDeals,
  outboxEvents,
  person,
  projectedDeals,
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
await insertDeals(svc, projectedDeals);

async function eventsSince(count: number) {
  return (await outboxEvents(svc)).slice(count);
}

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
