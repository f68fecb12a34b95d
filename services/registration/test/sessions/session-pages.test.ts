// Sessions on the server-rendered pages: free places on the public form in the page language, a choice
// posted with the registration, and changed on the manage page.
import t from 'tap';
import {
  createMeeting,
  formPost,
  openForm,
  solveProofOfWork,
  startRegistration,
  TestClock,
} from '../harness.ts';
import { choicesOf, createSession } from './session-harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, { PROOF_OF_WORK_COST: '1', PROOF_OF_WORK_MAX_COUNTER: '20' });
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;

t.test('choose a session on the public form, change it on the manage page', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5 });
  const first = await createSession(svc, meeting.id, { title: 'Ontwerpsessie', capacity: 1 });
  const same = await createSession(svc, meeting.id, {
    title: 'Kennissessie',
    startsAt: '2027-03-11T14:30',
    endsAt: '2027-03-11T15:30',
    capacity: 3,
  });
  const page = await http.inject(`/bijeenkomsten/${meeting.slug}`);
  t.match(page.body, '<legend>Sessies (kies er per tijdvak één)</legend>');
  t.match(page.body, `name="session-${first.id}" value="ja"`);
  t.match(page.body, '14:00–15:00 Ontwerpsessie (nog 1 plek)');
  t.match(
    (await http.inject(`/bijeenkomsten/${meeting.slug}?lang=en`)).body,
    '14:30–15:30 Kennissessie (3 places left)',
  );

  const opened = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
  const iris = {
    csrf: opened.csrf,
    name: 'Iris',
    email: 'iris@example.org',
    organisation: 'Gemeente Utrecht',
    role: 'projectleider',
    language: 'nl',
  };
  const post = async (fields: Record<string, string>) =>
    http.inject(
      formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, opened.cookie, {
        ...fields,
        altcha: await solveProofOfWork(svc),
      }),
    );
  const clash = await post({ ...iris, [`session-${first.id}`]: 'ja', [`session-${same.id}`]: 'ja' });
  t.equal(clash.statusCode, 400, 'two sessions at the same time');
  t.match(
    clash.body,
    '<p class="error" id="sessionIds-error">Kies alleen sessies van deze bijeenkomst, en per tijdvak één.',
  );
  t.match(
    clash.body,
    `id="session-${first.id}" name="session-${first.id}" value="ja" checked`,
    'the choice kept',
  );
  t.same((await choicesOf(svc, first.id)).placed, [], 'nothing written');

  const done = await post({ ...iris, [`session-${first.id}`]: 'ja' });
  t.equal(done.statusCode, 201);
  const manageUrl = /href="([^"]*\/aanmelding\/beheren\/[^"]+)"/.exec(done.body)![1]!;
  const path = new URL(manageUrl).pathname;
  t.equal((await choicesOf(svc, first.id)).placed.length, 1, 'the place is taken');
  t.match(
    (await http.inject(`/bijeenkomsten/${meeting.slug}`)).body,
    'Ontwerpsessie (vol, 0 op de wachtlijst)',
  );

  const manage = await openForm(svc, path);
  t.match(manage.page.body, `id="session-${first.id}" name="session-${first.id}" value="ja" checked`);
  t.match(manage.page.body, 'Je hebt een plek');
  const changed = await http.inject(
    formPost(`${path}/sessies`, manage.cookie, {
      csrf: manage.csrf,
      language: 'en',
      [`session-${same.id}`]: 'ja',
    }),
  );
  t.equal(changed.statusCode, 200);
  t.match(changed.body, 'Your sessions are saved.');
  t.match(changed.body, `id="session-${same.id}" name="session-${same.id}" value="ja" checked`);
  t.same((await choicesOf(svc, first.id)).placed, [], 'the first place given up');
  t.equal((await choicesOf(svc, same.id)).placed.length, 1);

  const forged = await http.inject(
    formPost(`${path}/sessies`, manage.cookie, {
      csrf: 'nep',
      language: 'nl',
      [`session-${first.id}`]: 'ja',
    }),
  );
  t.equal(forged.statusCode, 403, 'without its CSRF field: nothing changes');
  t.same((await choicesOf(svc, first.id)).placed, []);
  const bogus = await http.inject(
    formPost(`${path}/sessies`, manage.cookie, { csrf: manage.csrf, language: 'nl', 'session-nope': 'ja' }),
  );
  t.equal(bogus.statusCode, 400);
  t.match(bogus.body, 'id="sessionIds-error"');
});
