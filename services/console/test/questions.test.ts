// The questions section of a meeting in the console, over HTTP: the office adds and removes questions as the
// person (registration records who), a bad question comes back with its problem, a reader changes nothing.
import t from 'tap';
import { listAudit } from '../src/audit/audit.repository.ts';
import { adminAuth, PASSWORD, people, type Role, startConsoleSystem, Visitor } from './harness.ts';

t.setTimeout(600_000);

const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;

const loggedIn = async (role: Role) => {
  const visitor = new Visitor(stack.url);
  const login = await visitor.login(people[role].email, PASSWORD);
  if (login.status !== 303) throw new Error(`login as ${role}: ${login.status}`);
  return visitor;
};

const created = await system.call('registration', 'POST', '/admin/meetings', {
  headers: adminAuth,
  body: {
    title: 'CoP met vragen',
    slug: `cop-vragen-${Date.now()}`,
    startsAt: '2027-03-11T13:00',
    endsAt: '2027-03-11T17:00',
    venue: { name: 'Hangar', address: 'Den Haag' },
    capacity: 20,
    status: 'published',
  },
});
if (created.status !== 201) throw new Error(`meeting: ${created.status} ${created.text}`);
const meetingId = created.body.id as string;
const questions = async () =>
  (await system.call('registration', 'GET', `/admin/meetings/${meetingId}/questions`, { headers: adminAuth }))
    .body.items as {
    id: string;
    kind: string;
    required: boolean;
    label: { nl: string; en: string };
    choices: { label: { nl: string; en: string } }[];
  }[];

t.test('the office adds a choice question and removes it', async (t) => {
  const bea = await loggedIn('beheerder');
  const meetingPage = await bea.get(`/meetings/${meetingId}`);
  t.match(meetingPage.text, `<a href="/meetings/${meetingId}/questions">Vragen op het aanmeldformulier</a>`);
  const path = `/meetings/${meetingId}/questions`;
  const bad = await bea.submit(path, path, {
    kind: 'one_choice',
    labelNl: 'Welke sessie?',
    labelEn: 'Which session?',
    choices: 'Alleen deze | Only this one',
  });
  t.equal(bad.status, 400, 'one choice is not a choice');
  t.match(bad.text, '<p class="error" id="choices-error">a choice question needs at least two choices</p>');
  t.match(bad.text, 'value="Welke sessie?"', 'what was typed stays');
  t.same(await questions(), [], 'nothing added');

  const added = await bea.submit(path, path, {
    kind: 'one_choice',
    required: '1',
    labelNl: 'Welke sessie?',
    labelEn: 'Which session?',
    choices: 'Mobiliteit | Mobility\nEnergie\n',
  });
  t.equal(added.status, 303);
  const [question] = await questions();
  t.match(question, {
    kind: 'one_choice',
    required: true,
    label: { nl: 'Welke sessie?', en: 'Which session?' },
    choices: [{ label: { nl: 'Mobiliteit', en: 'Mobility' } }, { label: { nl: 'Energie', en: 'Energie' } }],
  });
  const listed = await bea.get(`${path}?done=added`);
  t.match(listed.text, 'De vraag is toegevoegd.');
  t.match(listed.text, '<strong>Welke sessie?</strong> / Which session?');
  t.match(listed.text, 'één keuze · verplicht · 0 antwoorden');
  const history = await system.call('registration', 'GET', `/admin/meetings/${meetingId}/staff-actions`, {
    headers: adminAuth,
  });
  t.match(history.body.items[0], {
    action: 'POST /admin/meetings/:id/questions',
    actor: { name: `${people.beheerder.name} <${people.beheerder.email}>` },
  });

  const lex = await loggedIn('lezer');
  const refused = await lex.submit(`/meetings/${meetingId}`, `${path}/${question!.id}/remove`, {});
  t.ok(refused.status >= 400, `a reader is refused (${refused.status})`);
  t.equal((await questions()).length, 1, 'and removes nothing');

  const removed = await bea.submit(path, `${path}/${question!.id}/remove`, {});
  t.equal(removed.status, 303);
  t.same(await questions(), [], 'removed at registration');
  const audit = (await listAudit(stack.console.ctx.db, 20)).map((a) => a.action);
  t.ok(audit.includes('meeting.question-add') && audit.includes('meeting.question-remove'), 'audited');
});
