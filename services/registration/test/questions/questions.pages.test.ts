// The questions on the server-rendered pages: the public form asks them in the page's language and sends
// the answers; the manage page shows them and takes changes. (questions.browser.test.ts does it in a browser.)
import t from 'tap';
import {
  adminHeaders,
  countRows,
  createMeeting,
  formPost,
  openForm,
  solveProofOfWork,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, { PROOF_OF_WORK_COST: '1', PROOF_OF_WORK_MAX_COUNTER: '20' });
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;

const label = (nl: string, en: string) => ({ nl, en });
async function addQuestion(meetingId: string, body: Record<string, unknown>) {
  const res = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${meetingId}/questions`,
    headers: adminHeaders,
    payload: body,
  });
  if (res.statusCode !== 201) throw new Error(`add question: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; choices: { id: string }[] };
}

const meeting = await createMeeting(svc, { capacity: 10 });
const unit = await addQuestion(meeting.id, {
  kind: 'short_text',
  required: true,
  label: label('Uw afdeling', 'Your department'),
});
const session = await addQuestion(meeting.id, {
  kind: 'one_choice',
  required: true,
  label: label('Welke sessie?', 'Which session?'),
  choices: [
    { id: 'mobiliteit', label: label('Mobiliteit', 'Mobility') },
    { id: 'energie', label: label('Energie', 'Energy') },
  ],
});
const topics = await addQuestion(meeting.id, {
  kind: 'several_choices',
  label: label('Onderwerpen', 'Topics'),
  choices: [
    { id: 'wonen', label: label('Wonen', 'Housing') },
    { id: 'zorg', label: label('Zorg', 'Care') },
  ],
});
const drinks = await addQuestion(meeting.id, {
  kind: 'yes_no',
  required: true,
  label: label('Blijft u voor de borrel?', 'Will you stay for drinks?'),
});
const answersOf = async (registrationId?: string) =>
  (
    await svc.runtime.db
      .selectFrom('registration_answer')
      .select(['registration_id', 'question_id', 'value'])
      .$if(registrationId !== undefined, (qb) => qb.where('registration_id', '=', registrationId!))
      .execute()
  ).length;

t.test('the form asks the questions in the page language', async (t) => {
  const nl = (await http.inject(`/bijeenkomsten/${meeting.slug}`)).body;
  t.match(nl, `<label for="q-${unit.id}">Uw afdeling <span class="req">(verplicht)</span></label>`);
  t.match(nl, `<fieldset id="q-${session.id}"><legend>Welke sessie? <span class="req">(verplicht)</span>`);
  t.match(nl, `name="answers.${topics.id}.wonen" value="ja"`);
  t.match(nl, `id="q-${drinks.id}-nee" name="answers.${drinks.id}" value="nee"`);
  const en = (await http.inject(`/bijeenkomsten/${meeting.slug}?lang=en`)).body;
  t.match(en, 'Your department <span class="req">(required)</span>');
  t.match(en, '<span>Mobility</span>');
  t.notMatch(en, 'Welke sessie?');
});

t.test(
  'a form post with answers registers them; a bad one shows the problem and writes nothing',
  async (t) => {
    const opened = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
    const person = {
      csrf: opened.csrf,
      name: 'Iris',
      email: 'iris@example.org',
      organisation: 'Gemeente Delft',
      role: 'projectsecretaris',
      language: 'nl',
    };
    const before = [await countRows(svc, 'registration'), await answersOf()];
    const missing = await http.inject(
      formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, opened.cookie, {
        ...person,
        name: '',
        [`answers.${unit.id}`]: 'x'.repeat(201),
        [`answers.${session.id}`]: 'cultuur',
        altcha: await solveProofOfWork(svc),
      }),
    );
    t.equal(missing.statusCode, 400);
    t.match(missing.body, `<a href="#q-${unit.id}">Dit antwoord past niet bij de vraag`);
    t.match(missing.body, `<a href="#q-${drinks.id}">Beantwoord deze vraag.</a>`);
    t.match(missing.body, '<a href="#name">', 'with the other fields’ problems at once');
    t.match(missing.body, `<p class="error" id="q-${session.id}-error">`);
    t.match(
      missing.body,
      `id="q-${unit.id}" name="answers.${unit.id}" maxlength="200" value="${'x'.repeat(201)}" aria-required="true" aria-invalid="true"`,
      'what was typed stays',
    );
    t.same([await countRows(svc, 'registration'), await answersOf()], before, 'nothing written');

    const ok = await http.inject(
      formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, opened.cookie, {
        ...person,
        [`answers.${unit.id}`]: 'Ruimte',
        [`answers.${session.id}`]: 'energie',
        [`answers.${topics.id}.zorg`]: 'ja',
        [`answers.${drinks.id}`]: 'nee',
        altcha: await solveProofOfWork(svc),
      }),
    );
    t.equal(ok.statusCode, 201, ok.body);
    const manage = new URL(
      /href="(https:\/\/cop\.example\.org\/aanmelding\/beheren\/[^"]+)"/.exec(ok.body)![1]!,
    ).pathname;
    const page = await http.inject(manage);
    t.match(page.body, '<dt>Uw afdeling</dt><dd>Ruimte</dd>');
    t.match(page.body, '<dt>Welke sessie?</dt><dd>Energie</dd>');
    t.match(page.body, '<dt>Onderwerpen</dt><dd>Zorg</dd>');
    t.match(page.body, '<dt>Blijft u voor de borrel?</dt><dd>nee</dd>');
    t.match(
      page.body,
      `id="q-${drinks.id}-nee" name="answers.${drinks.id}" value="nee" checked`,
      'the form shows them',
    );

    const opened2 = await openForm(svc, manage, opened.cookie);
    const change = (fields: Record<string, string>) =>
      http.inject(
        formPost(`${manage}/antwoorden`, opened2.cookie, { csrf: opened2.csrf, language: 'nl', ...fields }),
      );
    const kept = await answersOf();
    const refused = await change({ [`answers.${unit.id}`]: '', [`answers.${session.id}`]: 'energie' });
    t.equal(refused.statusCode, 400);
    t.match(refused.body, `<p class="error" id="q-${unit.id}-error">Beantwoord deze vraag.</p>`);
    t.match(refused.body, '<dd>Ruimte</dd>', 'the answers as kept');
    t.equal(await answersOf(), kept);
    const saved = await change({
      [`answers.${unit.id}`]: 'Wonen en werken',
      [`answers.${session.id}`]: 'mobiliteit',
      [`answers.${topics.id}.wonen`]: 'ja',
      [`answers.${topics.id}.zorg`]: 'ja',
      [`answers.${drinks.id}`]: 'ja',
    });
    t.equal(saved.statusCode, 200);
    t.match(saved.body, 'Je antwoorden zijn opgeslagen.');
    t.match(saved.body, '<dt>Onderwerpen</dt><dd>Wonen, Zorg</dd>');
    t.match(saved.body, '<dt>Blijft u voor de borrel?</dt><dd>ja</dd>');
    const noCsrf = await http.inject(
      formPost(`${manage}/antwoorden`, '', { language: 'nl', [`answers.${unit.id}`]: 'x' }),
    );
    t.equal(noCsrf.statusCode, 403);
    t.match(
      (await http.inject(manage)).body,
      '<dd>Wonen en werken</dd>',
      'a post without CSRF changes nothing',
    );
  },
);
