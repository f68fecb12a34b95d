// Questions per meeting through the HTTP API: the office's questions, answers at registration, on the manage
// link, in the export, after a question changes or goes, and after an erasure.
import { sql } from 'kysely';
import t from 'tap';
import {
  adminHeaders,
  countRows,
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
const svc = ctx.service;
const { http } = svc;

const PROBLEM = 'application/problem+json; charset=utf-8';

async function count(table: 'meeting_question' | 'registration_answer') {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(
    svc.runtime.db,
  );
  return rows[0]!.n;
}

async function addQuestion(meetingId: string, body: Record<string, unknown>) {
  const res = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${meetingId}/questions`,
    headers: adminHeaders,
    payload: body,
  });
  if (res.statusCode !== 201) throw new Error(`add question: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; choices: { id: string }[] } & Record<string, unknown>;
}

const label = (nl: string, en: string) => ({ nl, en });

/** A meeting with one question of each kind. */
async function meetingWithQuestions() {
  const meeting = await createMeeting(svc, { capacity: 10 });
  const organisation = await addQuestion(meeting.id, {
    kind: 'short_text',
    required: true,
    label: label('Uw afdeling', 'Your department'),
  });
  const motivation = await addQuestion(meeting.id, {
    kind: 'long_text',
    label: label('Wat wilt u leren?', 'What do you want to learn?'),
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
      { label: label('Wonen', 'Housing') },
      { label: label('Zorg', 'Care') },
      { label: label('Werk', 'Work') },
    ],
  });
  const drinks = await addQuestion(meeting.id, {
    kind: 'yes_no',
    required: true,
    label: label('Blijft u voor de borrel?', 'Will you stay for drinks?'),
  });
  return { meeting, q: { organisation, motivation, session, topics, drinks } };
}

t.test('the office adds questions; the public sees them in form order', async (t) => {
  const { meeting, q } = await meetingWithQuestions();
  t.equal(q.topics.choices.length, 3, 'choices without an id get one');
  t.not(q.topics.choices[0]!.id, q.topics.choices[1]!.id);
  const listed = (await http.inject(`/meetings/${meeting.id}/questions`)).json();
  t.same(
    listed.items.map((i: { id: string; position: number }) => [i.id, i.position]),
    [q.organisation.id, q.motivation.id, q.session.id, q.topics.id, q.drinks.id].map((id, i) => [id, i]),
  );
  t.match(listed.items[2], {
    kind: 'one_choice',
    required: true,
    label: { nl: 'Welke sessie?', en: 'Which session?' },
    choices: [{ id: 'mobiliteit', label: { nl: 'Mobiliteit', en: 'Mobility' } }, { id: 'energie' }],
  });
  const draft = await createMeeting(svc, { status: 'draft' });
  t.equal((await http.inject(`/meetings/${draft.id}/questions`)).statusCode, 404, 'not of a draft');
});

t.test('bad question definitions: 4xx naming the field, nothing written', async (t) => {
  const meeting = await createMeeting(svc);
  const asked = await addQuestion(meeting.id, { kind: 'yes_no', label: label('Ja?', 'Yes?') });
  const two = [{ label: label('A', 'A') }, { label: label('B', 'B') }];
  const before = [await count('meeting_question'), await countRows(svc, 'outbox')];
  const base = `/admin/meetings/${meeting.id}/questions`;
  const cases: [string, string, string, unknown, string, number?][] = [
    ['POST', base, 'unknown kind', { kind: 'slider', label: label('a', 'b') }, 'body.kind'],
    ['POST', base, 'no kind', { label: label('a', 'b') }, 'body.kind'],
    ['POST', base, 'no English label', { kind: 'yes_no', label: { nl: 'a' } }, 'body.label.en'],
    ['POST', base, 'blank label', { kind: 'yes_no', label: label(' ', 'b') }, 'body.label.nl'],
    ['POST', base, 'label too long', { kind: 'yes_no', label: label('x'.repeat(301), 'b') }, 'body.label.nl'],
    [
      'POST',
      base,
      'required not a boolean',
      { kind: 'yes_no', label: label('a', 'b'), required: 'ja' },
      'body.required',
    ],
    [
      'POST',
      base,
      'one choice with one choice',
      { kind: 'one_choice', label: label('a', 'b'), choices: [two[0]] },
      'body.choices',
    ],
    [
      'POST',
      base,
      'choices on a text question',
      { kind: 'short_text', label: label('a', 'b'), choices: two },
      'body.choices',
    ],
    [
      'POST',
      base,
      'a choice id twice',
      { kind: 'several_choices', label: label('a', 'b'), choices: two.map((c) => ({ ...c, id: 'zelfde' })) },
      'body.choices.1.id',
    ],
    [
      'POST',
      base,
      'a choice id with spaces',
      { kind: 'one_choice', label: label('a', 'b'), choices: [{ ...two[0], id: 'Met Spatie' }, two[1]] },
      'body.choices.0.id',
    ],
    [
      'POST',
      base,
      'too many choices',
      { kind: 'one_choice', label: label('a', 'b'), choices: Array.from({ length: 21 }, () => two[0]) },
      'body.choices',
    ],
    [
      'POST',
      base,
      'a negative position',
      { kind: 'yes_no', label: label('a', 'b'), position: -1 },
      'body.position',
    ],
    [
      'POST',
      '/admin/meetings/nope/questions',
      'meeting id not a uuid',
      { kind: 'yes_no', label: label('a', 'b') },
      'params.id',
    ],
    ['PATCH', `${base}/${asked.id}`, 'empty change', {}, 'body'],
    ['PATCH', `${base}/${asked.id}`, 'choices on yes/no', { choices: two }, 'body.choices'],
    ['PATCH', `${base}/${asked.id}`, 'kind not a kind', { kind: 'emoji' }, 'body.kind'],
    ['PATCH', `${base}/nope`, 'question id not a uuid', { required: true }, 'params.questionId'],
    ['DELETE', `${base}/nope`, 'question id not a uuid', undefined, 'params.questionId'],
  ];
  for (const [method, url, what, payload, field, status = 400] of cases) {
    const res = await http.inject({
      method: method as 'POST',
      url,
      headers: adminHeaders,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    t.equal(res.statusCode, status, `${what}: ${status}`);
    t.equal(res.headers['content-type'], PROBLEM, `${what}: problem+json`);
    t.ok(
      (res.json().errors ?? []).some((e: { field: string }) => e.field === field),
      `${what}: names ${field}`,
      { body: res.json() },
    );
  }
  const unknown = '01936a10-0000-7000-8000-000000000000';
  for (const [method, url] of [
    ['POST', `/admin/meetings/${unknown}/questions`],
    ['PATCH', `${base}/${unknown}`],
    ['DELETE', `${base}/${unknown}`],
  ] as const) {
    const res = await http.inject({
      method,
      url,
      headers: adminHeaders,
      ...(method === 'DELETE' ? {} : { payload: { kind: 'yes_no', label: label('a', 'b') } }),
    });
    t.equal(res.statusCode, 404, `${method} ${url}: 404`);
  }
  const noKey = await http.inject({
    method: 'POST',
    url: base,
    payload: { kind: 'yes_no', label: label('a', 'b') },
  });
  t.equal(noKey.statusCode, 401, 'no key');
  t.same([await count('meeting_question'), await countRows(svc, 'outbox')], before, 'nothing was written');
});

t.test('register with answers: kept as given, trimmed, never in an event', async (t) => {
  const { meeting, q } = await meetingWithQuestions();
  const res = await registerPerson(
    svc,
    meeting.id,
    person(1, {
      answers: {
        [q.organisation.id]: '  Ruimtelijke ordening ',
        [q.motivation.id]: '',
        [q.session.id]: 'energie',
        [q.topics.id]: [q.topics.choices[2]!.id, q.topics.choices[0]!.id, q.topics.choices[2]!.id],
        [q.drinks.id]: false,
      },
    }),
  );
  t.equal(res.statusCode, 201, res.body);
  const id = res.json().registrationId;
  const rows = await svc.runtime.db
    .selectFrom('registration_answer')
    .select(['question_id', 'value'])
    .where('registration_id', '=', id)
    .execute();
  t.same(
    Object.fromEntries(rows.map((r) => [r.question_id, r.value])),
    {
      [q.organisation.id]: 'Ruimtelijke ordening',
      [q.session.id]: 'energie',
      [q.topics.id]: [q.topics.choices[0]!.id, q.topics.choices[2]!.id],
      [q.drinks.id]: false,
    },
    'a blank optional answer is no answer; several choices in question order, once each',
  );
  const events = JSON.stringify(await outboxEvents(svc));
  t.notOk(events.includes('Ruimtelijke ordening'), 'no answer in any event');
  t.notOk(events.includes(q.session.id), 'no question in any event');
});

t.test('bad answers: 400 naming the answer, nothing written', async (t) => {
  const { meeting, q } = await meetingWithQuestions();
  const good = {
    [q.organisation.id]: 'Wonen',
    [q.session.id]: 'mobiliteit',
    [q.drinks.id]: true,
  };
  const before = [
    await countRows(svc, 'registration'),
    await count('registration_answer'),
    await countRows(svc, 'outbox'),
  ];
  const unknownId = '01936a10-0000-7000-8000-0000000000aa';
  const cases: [string, unknown, string][] = [
    ['a required text missing', { ...good, [q.organisation.id]: undefined }, q.organisation.id],
    ['a required text blank', { ...good, [q.organisation.id]: '   ' }, q.organisation.id],
    ['a required yes/no missing', { ...good, [q.drinks.id]: null }, q.drinks.id],
    ['a required choice missing', { ...good, [q.session.id]: undefined }, q.session.id],
    ['a choice that is not one', { ...good, [q.session.id]: 'cultuur' }, q.session.id],
    [
      'one of several not a choice',
      { ...good, [q.topics.id]: [q.topics.choices[0]!.id, 'sport'] },
      q.topics.id,
    ],
    ['a short text too long', { ...good, [q.organisation.id]: 'x'.repeat(201) }, q.organisation.id],
    ['a long text too long', { ...good, [q.motivation.id]: 'x'.repeat(2001) }, q.motivation.id],
    ['an unknown question', { ...good, [unknownId]: 'ja' }, unknownId],
    ['a question of another meeting', { ...good, 'niet-een-vraag': 'ja' }, 'niet-een-vraag'],
    ['yes/no as text', { ...good, [q.drinks.id]: 'ja' }, q.drinks.id],
    ['text as a number', { ...good, [q.organisation.id]: 12 }, q.organisation.id],
    ['one choice as a list', { ...good, [q.session.id]: ['mobiliteit'] }, q.session.id],
    ['several as text', { ...good, [q.topics.id]: q.topics.choices[0]!.id }, q.topics.id],
    ['text as a boolean', { ...good, [q.motivation.id]: true }, q.motivation.id],
  ];
  for (const [what, answers, questionId] of cases) {
    const res = await registerPerson(svc, meeting.id, person(2, { answers }));
    t.equal(res.statusCode, 400, `${what}: 400`);
    t.equal(res.headers['content-type'], PROBLEM, `${what}: problem+json`);
    t.ok(
      (res.json().errors ?? []).some((e: { field: string }) => e.field === `body.answers.${questionId}`),
      `${what}: names body.answers.${questionId}`,
      { body: res.json() },
    );
  }
  const notAnObject = await registerPerson(svc, meeting.id, person(2, { answers: ['ja'] }));
  t.equal(notAnObject.statusCode, 400);
  t.ok(notAnObject.json().errors.some((e: { field: string }) => e.field === 'body.answers'));
  const none = await registerPerson(svc, meeting.id, person(2));
  t.equal(none.statusCode, 400, 'no answers at all to required questions');
  t.same(
    none
      .json()
      .errors.map((e: { field: string }) => e.field)
      .sort(),
    [q.organisation.id, q.session.id, q.drinks.id].map((id) => `body.answers.${id}`).sort(),
  );
  t.same(
    [
      await countRows(svc, 'registration'),
      await count('registration_answer'),
      await countRows(svc, 'outbox'),
    ],
    before,
    'nothing was written by any of them',
  );
  const ok = await registerPerson(svc, meeting.id, person(2, { answers: good }));
  t.equal(ok.statusCode, 201, 'the same person with good answers is registered');
});

t.test('a question added after the meeting was read is asked of the next registration', async (t) => {
  // The first registration leaves the meeting, with its questions, in the service's open-meetings cache.
  const meeting = await createMeeting(svc, { capacity: 10 });
  t.equal((await registerPerson(svc, meeting.id, person(700))).statusCode, 201, 'no questions yet');
  const required = await addQuestion(meeting.id, {
    kind: 'yes_no',
    required: true,
    label: label('Komt u met de trein?', 'Are you coming by train?'),
  });
  const before = await countRows(svc, 'registration');
  const res = await registerPerson(svc, meeting.id, person(701));
  t.equal(res.statusCode, 400, 'the cached questions are not used once a question was added');
  t.match(res.json().errors, [{ field: `body.answers.${required.id}` }]);
  t.equal(await countRows(svc, 'registration'), before, 'nothing written');
  const answered = await registerPerson(svc, meeting.id, person(702, { answers: { [required.id]: true } }));
  t.equal(answered.statusCode, 201);
});

t.test('the attendee sees and changes their answers with the manage link', async (t) => {
  const { meeting, q } = await meetingWithQuestions();
  const reg = (
    await registerPerson(
      svc,
      meeting.id,
      person(3, {
        answers: { [q.organisation.id]: 'Mobiliteit', [q.session.id]: 'energie', [q.drinks.id]: true },
      }),
    )
  ).json();
  const token = reg.manageUrl.split('/').pop();
  const seen = (await http.inject(`/registrations/manage/${token}/answers`)).json();
  t.same(
    seen.questions.map((x: { id: string; answer: unknown }) => [x.id, x.answer]),
    [
      [q.organisation.id, 'Mobiliteit'],
      [q.motivation.id, null],
      [q.session.id, 'energie'],
      [q.topics.id, null],
      [q.drinks.id, true],
    ],
  );
  const changed = await http.inject({
    method: 'PUT',
    url: `/registrations/manage/${token}/answers`,
    payload: {
      answers: {
        [q.organisation.id]: 'Mobiliteit',
        [q.motivation.id]: 'Alles over deelfietsen',
        [q.session.id]: 'mobiliteit',
        [q.drinks.id]: false,
      },
    },
  });
  t.equal(changed.statusCode, 200, changed.body);
  t.match(changed.json().questions[1], { answer: 'Alles over deelfietsen' });
  const stored = async () =>
    (
      await svc.runtime.db
        .selectFrom('registration_answer')
        .select(['question_id', 'value'])
        .where('registration_id', '=', reg.registrationId)
        .orderBy('question_id')
        .execute()
    ).map((r) => [r.question_id, r.value]);
  const after = await stored();
  t.equal(after.length, 4);
  const bad = await http.inject({
    method: 'PUT',
    url: `/registrations/manage/${token}/answers`,
    payload: { answers: { [q.session.id]: 'cultuur' } },
  });
  t.equal(bad.statusCode, 400);
  t.same(
    bad
      .json()
      .errors.map((e: { field: string }) => e.field)
      .sort(),
    [q.organisation.id, q.session.id, q.drinks.id].map((id) => `body.answers.${id}`).sort(),
  );
  t.same(await stored(), after, 'a refused change changes nothing');
  const cancel = await http.inject({ method: 'POST', url: `/registrations/manage/${token}/cancel` });
  t.equal(cancel.statusCode, 200);
  const late = await http.inject({
    method: 'PUT',
    url: `/registrations/manage/${token}/answers`,
    payload: { answers: { [q.organisation.id]: 'x', [q.session.id]: 'energie', [q.drinks.id]: true } },
  });
  t.equal(late.statusCode, 409, 'a cancelled registration keeps its answers as they were');
  t.same(await stored(), after);
});

t.test('answers in the attendee export, one column per question', async (t) => {
  const { meeting, q } = await meetingWithQuestions();
  await registerPerson(
    svc,
    meeting.id,
    person(4, {
      answers: {
        [q.organisation.id]: 'Economie',
        [q.session.id]: 'mobiliteit',
        [q.topics.id]: [q.topics.choices[0]!.id, q.topics.choices[1]!.id],
        [q.drinks.id]: true,
      },
    }),
  );
  const csv = await http.inject({
    url: `/admin/meetings/${meeting.id}/registrations.csv`,
    headers: adminHeaders,
  });
  t.equal(csv.statusCode, 200);
  const [header, row] = csv.body.replace('\uFEFF', '').split('\r\n');
  t.match(
    header,
    /;"Ingecheckt op";"Uw afdeling";"Wat wilt u leren\?";"Welke sessie\?";"Onderwerpen";"Blijft u voor de borrel\?"$/,
  );
  t.match(row, /;"Economie";"";"Mobiliteit";"Wonen, Zorg";"ja"$/);
});

t.test('changing and removing answered questions', async (t) => {
  const { meeting, q } = await meetingWithQuestions();
  await registerPerson(
    svc,
    meeting.id,
    person(5, {
      answers: {
        [q.organisation.id]: 'Wonen',
        [q.session.id]: 'energie',
        [q.topics.id]: [q.topics.choices[1]!.id],
        [q.drinks.id]: true,
      },
    }),
  );
  const path = (id: string) => `/admin/meetings/${meeting.id}/questions/${id}`;
  const patch = (id: string, payload: object) =>
    http.inject({ method: 'PATCH', url: path(id), headers: adminHeaders, payload });
  const kind = await patch(q.organisation.id, { kind: 'long_text' });
  t.equal(kind.statusCode, 409, 'the kind of an answered question stays');
  t.equal(kind.json().errors[0].field, 'body.kind');
  const dropChosen = await patch(q.session.id, {
    choices: [{ id: 'mobiliteit', label: label('M', 'M') }, { label: label('Cultuur', 'Culture') }],
  });
  t.equal(dropChosen.statusCode, 409, 'a choice someone took stays');
  t.equal(dropChosen.json().errors[0].field, 'body.choices');
  const unanswered = await patch(q.motivation.id, { kind: 'short_text' });
  t.equal(unanswered.statusCode, 200, 'an unanswered question may change kind');
  const relabel = await patch(q.session.id, {
    required: false,
    label: label('Sessie', 'Session'),
    choices: [
      { id: 'energie', label: label('Energie en warmte', 'Energy and heat') },
      { label: label('Cultuur', 'Culture') },
    ],
  });
  t.equal(relabel.statusCode, 200, 'labels, required and an unchosen choice may change');
  t.match(relabel.json(), { required: false, choices: [{ id: 'energie' }, { label: { nl: 'Cultuur' } }] });
  t.equal(
    (await http.inject({ url: `/admin/meetings/${meeting.id}/questions`, headers: adminHeaders })).json()
      .items[2].answers,
    1,
  );

  const answersTo = async (id: string) =>
    (
      await svc.runtime.db
        .selectFrom('registration_answer')
        .select('registration_id')
        .where('question_id', '=', id)
        .execute()
    ).length;
  t.equal(await answersTo(q.topics.id), 1);
  const removed = await http.inject({ method: 'DELETE', url: path(q.topics.id), headers: adminHeaders });
  t.equal(removed.statusCode, 200);
  t.same(removed.json(), { removed: true, answersDeleted: 1 });
  t.equal(await answersTo(q.topics.id), 0, 'its answers are gone');
  const listed = (await http.inject(`/meetings/${meeting.id}/questions`)).json();
  t.notOk(
    listed.items.some((i: { id: string }) => i.id === q.topics.id),
    'it is off the form',
  );
  const csv = await http.inject({
    url: `/admin/meetings/${meeting.id}/registrations.csv`,
    headers: adminHeaders,
  });
  t.notOk(csv.body.includes('Onderwerpen'), 'and out of the export');
  t.equal((await patch(q.topics.id, { required: true })).statusCode, 404, 'a removed question is gone');
  const late = await registerPerson(
    svc,
    meeting.id,
    person(6, { answers: { [q.organisation.id]: 'x', [q.drinks.id]: true, [q.topics.id]: [] } }),
  );
  t.equal(late.statusCode, 400, 'answering a removed question is answering an unknown one');
  t.equal(late.json().errors[0].field, `body.answers.${q.topics.id}`);
});

t.test('answers go with the person when they are erased', async (t) => {
  const { meeting, q } = await meetingWithQuestions();
  const email = 'vergeet.mij@example.org';
  const answers = { [q.organisation.id]: 'Geheim', [q.session.id]: 'energie', [q.drinks.id]: true };
  const erased = (await registerPerson(svc, meeting.id, person(7, { email, answers }))).json();
  const kept = (await registerPerson(svc, meeting.id, person(8, { answers }))).json();
  const of = async (id: string) =>
    (
      await svc.runtime.db
        .selectFrom('registration_answer')
        .select('value')
        .where('registration_id', '=', id)
        .execute()
    ).length;
  t.equal(await of(erased.registrationId), 3);
  const res = await http.inject({
    method: 'POST',
    url: '/admin/erasures',
    headers: adminHeaders,
    payload: { email },
  });
  t.equal(res.statusCode, 200);
  t.equal(await of(erased.registrationId), 0, 'the erased person has no answers left');
  t.equal(await of(kept.registrationId), 3, 'others keep theirs');
  const csv = await http.inject({
    url: `/admin/meetings/${meeting.id}/registrations.csv`,
    headers: adminHeaders,
  });
  t.equal(csv.body.match(/Geheim/g)?.length, 1, 'only the other person’s answer is exported');
});

t.test('a meeting that confirms addresses first keeps the answers until the link is followed', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5, addressConfirmation: true });
  const drinks = await addQuestion(meeting.id, {
    kind: 'yes_no',
    required: true,
    label: label('Borrel?', 'Drinks?'),
  });
  const email = 'bevestig.eerst@example.org';
  const bad = await registerPerson(svc, meeting.id, person(9, { email, answers: {} }));
  t.equal(bad.statusCode, 400, 'checked before anything is held');
  t.equal(bad.json().errors[0].field, `body.answers.${drinks.id}`);
  const held = await registerPerson(svc, meeting.id, person(9, { email, answers: { [drinks.id]: true } }));
  t.equal(held.statusCode, 202);
  const url = (await outboxEvents(svc))
    .filter((e) => shortType(e.type) === 'attendee.confirmation_requested' && e.data.email === email)
    .at(-1)?.data.confirmUrl as string;
  const confirmed = await http.inject({
    method: 'POST',
    url: `/registrations/confirmations/${url.slice(url.lastIndexOf('/') + 1)}`,
  });
  t.equal(confirmed.statusCode, 201, confirmed.body);
  const rows = await svc.runtime.db
    .selectFrom('registration_answer')
    .select('value')
    .where('registration_id', '=', confirmed.json().registrationId)
    .execute();
  t.same(
    rows.map((r) => r.value),
    [true],
    'the answer given at registration is kept once the address is confirmed',
  );
});
