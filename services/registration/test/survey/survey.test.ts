/**
 * The feedback survey after a meeting (issue 21, item 2) on the real service with Postgres and NATS: who is
 * asked, single-use links kept as hashes, anonymous and named answers, results as JSON and CSV, bad input,
 * and what an erasure takes.
 */
import t from 'tap';
import { createServiceContext } from '../../src/context.ts';
import { sweepSurveys } from '../../src/survey/survey.service.ts';
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
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const svc: Service = ctx.service;
const day = 86_400_000;

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const admin = (method: 'GET' | 'POST', url: string, payload?: object) =>
  svc.http.inject({ method, url, headers: adminHeaders, ...(payload ? { payload } : {}) });
const answer = (token: string, payload: object) =>
  svc.http.inject({ method: 'POST', url: `/surveys/${token}/answers`, payload });
const sweepCtx = createServiceContext({
  db: svc.runtime.db,
  clock,
  newId: () => crypto.randomUUID(),
  publicBaseUrl: 'https://cop.example.org',
});

// One meeting: four register, three are checked in, one of them is later erased.
const meeting = await createMeeting(svc, { capacity: 10 });
const ids: string[] = [];
for (const i of [1, 2, 3, 4]) {
  const res = await registerPerson(svc, meeting.id, person(i, { language: i === 2 ? 'en' : 'nl' }));
  ids.push(res.json().registrationId);
}
for (const id of ids.slice(0, 3)) await admin('POST', `/admin/registrations/${id}/check-in`);

async function surveyLinks(): Promise<Map<string, string>> {
  const events = (await outboxEvents(svc)).filter((e) => shortType(e.type) === 'attendee.survey_requested');
  return new Map(events.map((e) => [e.data.registrationId as string, e.data.surveyUrl as string]));
}

t.test('not before the meeting; after it, once, to those checked in', async (t) => {
  const early = await admin('POST', `/admin/meetings/${meeting.id}/survey`);
  t.equal(early.statusCode, 409);
  t.match(early.json(), { type: /survey-not-yet$/ });
  t.equal(await sweepSurveys(sweepCtx), 0, 'the sweep waits for the end');

  clock.current = new Date('2027-03-11T17:00:00Z'); // the meeting ended at 17:30 Amsterdam time
  t.equal(await sweepSurveys(sweepCtx), 1);
  t.equal(await sweepSurveys(sweepCtx), 0, 'sent once');
  t.same((await admin('POST', `/admin/meetings/${meeting.id}/survey`)).json(), {
    invited: 0,
    alreadySent: true,
  });

  const links = await surveyLinks();
  t.same([...links.keys()].sort(), ids.slice(0, 3).sort(), 'checked in: asked; only confirmed: not asked');
  const events = (await outboxEvents(svc)).filter((e) => shortType(e.type) === 'attendee.survey_requested');
  t.same(
    events.map((e) => [e.data.version, e.data.status, e.subject === e.data.registrationId]),
    [
      [3, 'checked_in', true],
      [3, 'checked_in', true],
      [3, 'checked_in', true],
    ],
    'each announces a new version of the registration (registered 1, checked in 2)',
  );
  const stored = JSON.stringify(await svc.runtime.db.selectFrom('survey_invitation').selectAll().execute());
  for (const url of links.values()) t.notOk(stored.includes(tokenOf(url)), 'only the hash of a link is kept');
});

t.test('answers: anonymous unless named, once per link, bad input refused', async (t) => {
  const links = await surveyLinks();
  const [anon, named, late] = ids.slice(0, 3).map((id) => tokenOf(links.get(id)!));

  const bad = await answer(anon!, { rating: 6, mostUseful: 'x' });
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { errors: [{ field: 'body.rating' }] });
  const nul = await answer(anon!, { rating: 3, suggestions: 'a\u0000b' });
  t.equal(nul.statusCode, 400, 'a NUL byte is refused too');
  t.equal(
    (await svc.runtime.db.selectFrom('survey_answer').selectAll().execute()).length,
    0,
    'nothing written',
  );

  t.equal(
    (await answer(anon!, { rating: 4, mostUseful: '=HYPERLINK("x")', suggestions: null })).statusCode,
    201,
  );
  const again = await answer(anon!, { rating: 1 });
  t.equal(again.statusCode, 409, 'one answer per link');
  t.match(again.json(), { type: /survey-answered$/ });

  // The named one through the page, as a browser does.
  const form = await openForm(svc, `/evaluatie/${named}?lang=en`);
  t.equal(form.page.statusCode, 200);
  t.equal(form.page.headers['cache-control'], 'no-store');
  t.match(form.page.body, /How was the meeting\?/);
  const missing = await svc.http.inject(
    formPost(`/evaluatie/${named}`, form.cookie, { csrf: form.csrf, language: 'en' }),
  );
  t.equal(missing.statusCode, 400);
  t.match(missing.body, /Choose a mark from 1 to 5/);
  const sent = await svc.http.inject(
    formPost(`/evaluatie/${named}`, form.cookie, {
      csrf: form.csrf,
      language: 'en',
      rating: '5',
      mostUseful: 'Meeting the other deals',
      giveName: 'ja',
    }),
  );
  t.equal(sent.statusCode, 201);
  t.match(sent.body, /Thank you/);
  t.equal((await svc.http.inject(`/evaluatie/${named}`)).statusCode, 409, 'the page says it was answered');

  const rows = await svc.runtime.db.selectFrom('survey_answer').selectAll().orderBy('rating').execute();
  t.same(
    rows.map((r) => [r.rating, r.registration_id, r.respondent_name]),
    [
      [4, null, null],
      [5, ids[1], 'Deelnemer 2'],
    ],
    'the anonymous answer names nobody; the named one its registration and name',
  );
  const anonymousRow = JSON.stringify(rows[0]);
  t.notOk(anonymousRow.includes(ids[0]!), 'nothing in the anonymous answer points at its person');
  t.match(String(rows[0]!.answered_on), /2027-03-11|Thu Mar 11 2027/, 'only the day is kept');

  clock.advance(15 * day);
  const closed = await answer(late!, { rating: 3 });
  t.equal(closed.statusCode, 410, 'the survey closes after two weeks');
  t.equal((await svc.http.inject(`/evaluatie/${late}`)).statusCode, 410);
  t.equal((await svc.http.inject(`/evaluatie/${'A'.repeat(32)}`)).statusCode, 404);
  clock.advance(-15 * day);
});

t.test('results per meeting for the office, as JSON and CSV', async (t) => {
  const res = await admin('GET', `/admin/meetings/${meeting.id}/survey`);
  t.equal(res.statusCode, 200);
  t.match(res.json(), {
    meetingId: meeting.id,
    invited: 3,
    answered: 2,
    averageRating: 4.5,
    ratings: { '1': 0, '2': 0, '3': 0, '4': 1, '5': 1 },
  });
  t.same(
    res.json().answers.map((a: { rating: number; name: string | null }) => [a.rating, a.name]),
    [
      [5, 'Deelnemer 2'],
      [4, null],
    ],
  );
  const csv = await admin('GET', `/admin/meetings/${meeting.id}/survey.csv`);
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /^text\/csv/);
  t.match(csv.body, /"'=HYPERLINK\(""x""\)"/, 'a formula in an answer is neutralised');
  t.equal((await svc.http.inject(`/admin/meetings/${meeting.id}/survey`)).statusCode, 401, 'office only');
});

t.test('erased with the person: named answers and links go, anonymous answers stay', async (t) => {
  const erase = async (email: string) => {
    const res = await admin('POST', '/admin/erasures', { email });
    t.equal(res.statusCode, 200, res.body);
  };
  await erase(person(2).email); // answered with their name
  await erase(person(1).email); // answered anonymously
  const rows = await svc.runtime.db.selectFrom('survey_answer').selectAll().execute();
  t.same(
    rows.map((r) => [r.rating, r.registration_id, r.respondent_name]),
    [[4, null, null]],
    'the named answer is gone; the anonymous one cannot be told to be theirs, and stays',
  );
  const invitations = await svc.runtime.db
    .selectFrom('survey_invitation')
    .select('registration_id')
    .execute();
  t.same(
    invitations.map((i) => i.registration_id),
    [ids[2]],
    'the erased people have no survey link left',
  );
  const results = (await admin('GET', `/admin/meetings/${meeting.id}/survey`)).json();
  t.notOk(JSON.stringify(results).includes('Deelnemer 2'), 'the results no longer name them');
});
