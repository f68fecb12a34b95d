/**
 * Issue 20, "who else is coming", against real Postgres and NATS: the list behind each attendee's manage
 * link shows exactly the seated attendees of that meeting who consented, with organisation and deal; never
 * someone who did not consent (also not after they withdraw it, cancel or are erased), never someone of
 * another meeting, and it is not open to an unknown link or a cancelled registration.
 */
import t from 'tap';
import { appearsOnList } from '../../src/attendee-list/attendee-list.rules.ts';
import {
  adminHeaders,
  createMeeting,
  formPost,
  insertDeals,
  openForm,
  person,
  registerPerson,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const { http } = ctx.service;

const dealId = '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f';
await insertDeals(ctx.service, [{ id: dealId, name: 'Klimaatadaptatie', phase: 'uitvoering' }]);

interface Person {
  i: number;
  token: string;
  registrationId: string;
  consent: boolean;
  status: string;
  erased: boolean;
}

const tokenOf = (manageUrl: string) => manageUrl.slice(manageUrl.lastIndexOf('/') + 1);
const list = (token: string) => http.inject({ url: `/registrations/manage/${token}/attendees` });

/** What the list must show to an attendee of the meeting, by the rule, from what the test did. */
const expected = (people: Person[]) =>
  people
    .filter((p) => appearsOnList({ status: p.status, consentAttendeeList: p.consent, erased: p.erased }))
    .map((p) => `Deelnemer ${p.i}`)
    .sort();

t.test('the list shows exactly those who consented, through every change', async (t) => {
  const meeting = await createMeeting(ctx.service, { slug: 'cop-list', capacity: 8 });
  const other = await createMeeting(ctx.service, { slug: 'cop-other', capacity: 8 });
  const outsider = (
    await registerPerson(ctx.service, other.id, person(99, { consents: { attendeeList: true } }))
  ).json();
  // Ten people: 8 seats, 2 waiting. Every third leaves consent out (off by default), others choose.
  const people: Person[] = [];
  for (let i = 0; i < 10; i++) {
    const consents = i % 3 === 0 ? undefined : { attendeeList: i % 2 === 0, photo: true };
    const res = await registerPerson(ctx.service, meeting.id, {
      ...person(i),
      ...(i < 4 ? { dealId } : {}),
      ...(consents ? { consents } : {}),
    });
    t.equal(res.statusCode, 201, `Deelnemer ${i} registers`);
    const body = res.json();
    people.push({
      i,
      token: tokenOf(body.manageUrl),
      registrationId: body.registrationId,
      consent: consents?.attendeeList ?? false,
      status: body.status,
      erased: false,
    });
  }
  const check = async (label: string) => {
    for (const viewer of people.filter((p) => !p.erased && p.status !== 'cancelled')) {
      const res = await list(viewer.token);
      if (res.statusCode !== 200) {
        t.fail(`${label}: Deelnemer ${viewer.i} gets ${res.statusCode} ${res.body}`);
        return;
      }
      const names = res.json().attendees.map((a: { name: string }) => a.name);
      if (JSON.stringify([...names].sort()) !== JSON.stringify(expected(people))) {
        t.fail(`${label}: Deelnemer ${viewer.i} sees ${names}, not ${expected(people)}`);
        return;
      }
    }
    t.pass(`${label}: every attendee sees exactly ${expected(people).length} who consented`);
  };
  await check('after registering');
  t.ok(expected(people).length > 0 && expected(people).length < 8, 'some consented, some did not');

  const first = (await list(people[2]!.token)).json();
  const two = first.attendees.find((a: { name: string }) => a.name === 'Deelnemer 2');
  t.same(
    two,
    {
      name: 'Deelnemer 2',
      organisation: 'Gemeente Voorbeeld',
      deal: { id: dealId, name: 'Klimaatadaptatie' },
      you: true,
    },
    'name, organisation, deal; the viewer is marked',
  );
  t.notOk(
    first.attendees.some((a: { name: string }) => a.name === 'Deelnemer 99'),
    'nobody of another meeting',
  );

  // Consent given and withdrawn on the manage API.
  const patch = (p: Person, attendeeList: boolean) =>
    http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${p.token}`,
      payload: { consents: { attendeeList } },
    });
  t.equal((await patch(people[3]!, true)).statusCode, 200);
  people[3]!.consent = true;
  t.equal((await patch(people[4]!, false)).statusCode, 200);
  people[4]!.consent = false;
  await check('after changes on the manage API');

  // And on the manage page: the box reflects the consent; posting the form without it withdraws it.
  const path = `/aanmelding/beheren/${people[2]!.token}`;
  const opened = await openForm(ctx.service, path);
  t.match(opened.page.body, /id="consentAttendeeList" name="consentAttendeeList" value="ja" checked/);
  t.match(opened.page.body, 'Wie komen er nog meer');
  t.match(opened.page.body, /Deelnemer 2 \(jij\), Gemeente Voorbeeld – Klimaatadaptatie/);
  const saved = await http.inject(
    formPost(`${path}/wensen`, opened.cookie, { csrf: opened.csrf, language: 'nl' }),
  );
  t.equal(saved.statusCode, 200);
  people[2]!.consent = false;
  t.notMatch(saved.body, /Deelnemer 2 \(jij\)/, 'gone from the list on the page');
  await check('after withdrawing on the page');
  const again = await openForm(ctx.service, `/aanmelding/beheren/${people[6]!.token}`);
  const given = await http.inject(
    formPost(`/aanmelding/beheren/${people[6]!.token}/wensen`, again.cookie, {
      csrf: again.csrf,
      language: 'nl',
      consentAttendeeList: 'ja',
    }),
  );
  t.match(given.body, /Deelnemer 6 \(jij\)/, 'consent given on the page');
  people[6]!.consent = true;

  // Someone seated who consented cancels: off the list, the head of the waitlist takes the seat.
  const leaving = people.find((p) => p.consent && p.status === 'confirmed')!;
  const cancel = await http.inject({ method: 'POST', url: `/registrations/manage/${leaving.token}/cancel` });
  t.equal(cancel.statusCode, 200);
  leaving.status = 'cancelled';
  const promoted = people.find((p) => p.status === 'waitlisted')!;
  promoted.status = 'confirmed';
  await check('after a cancellation and a promotion');
  t.equal((await list(leaving.token)).statusCode, 403, 'not open after cancelling');

  // Someone who consented is erased: gone from the list, their link opens nothing.
  const erasedPerson = people.find((p) => p.consent && p.status === 'confirmed')!;
  const erasure = await http.inject({
    method: 'POST',
    url: '/admin/erasures',
    headers: adminHeaders,
    payload: { email: `deelnemer${erasedPerson.i}@example.org` },
  });
  t.equal(erasure.statusCode, 200, erasure.body);
  erasedPerson.erased = true;
  await check('after an erasure');
  t.equal((await list(erasedPerson.token)).statusCode, 404);

  t.equal((await list('x'.repeat(32))).statusCode, 404, 'an unknown link sees nothing');
  const outsiderList = (await list(tokenOf(outsider.manageUrl))).json();
  t.same(
    outsiderList.attendees.map((a: { name: string }) => a.name),
    ['Deelnemer 99'],
    'the other meeting has its own list',
  );
});
