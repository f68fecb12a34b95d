/**
 * The questions of a meeting in a real browser (Debian's chromium through playwright-core), against the
 * registration service listening on a port: the public form with its questions filled in (and the proof of
 * work solved by the browser), then the manage page showing the answers and taking a change. Every page is
 * checked with axe-core: no serious or critical violation.
 */
import { eventually, freePort } from '@citydeals/testkit';
import { assertAccessible, phonePage } from '@citydeals/testkit/browser';
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { adminHeaders, createMeeting, startRegistration, TestClock } from '../harness.ts';

t.setTimeout(300_000);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const clock = new TestClock(new Date());
const ctx = await startRegistration(clock, {
  PUBLIC_BASE_URL: base,
  // A light proof of work: the browser still solves it in its worker, only faster than in production.
  PROOF_OF_WORK_COST: '1000',
  PROOF_OF_WORK_MAX_COUNTER: '100',
});
t.teardown(() => ctx.close());
const svc = ctx.service;
await svc.http.listen({ port, host: '127.0.0.1' });

const page = await phonePage(t);

const axe = (t: Test, name: string, on: Page = page) => assertAccessible(t, name, on);

const startsAt = new Date(Date.now() + 7 * 24 * 3600_000);
const meeting = await createMeeting(svc, {
  startsAt: startsAt.toISOString(),
  endsAt: new Date(startsAt.getTime() + 4 * 3600_000).toISOString(),
  capacity: 10,
});
const label = (nl: string, en: string) => ({ nl, en });
async function addQuestion(body: Record<string, unknown>) {
  const res = await svc.http.inject({
    method: 'POST',
    url: `/admin/meetings/${meeting.id}/questions`,
    headers: adminHeaders,
    payload: body,
  });
  if (res.statusCode !== 201) throw new Error(`add question: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string };
}
await addQuestion({ kind: 'short_text', required: true, label: label('Je afdeling', 'Your department') });
await addQuestion({ kind: 'long_text', label: label('Wat wil je leren?', 'What do you want to learn?') });
await addQuestion({
  kind: 'one_choice',
  required: true,
  label: label('Welke sessie kies je?', 'Which session do you choose?'),
  choices: [
    { id: 'mobiliteit', label: label('Mobiliteit', 'Mobility') },
    { id: 'energie', label: label('Energie', 'Energy') },
  ],
});
await addQuestion({
  kind: 'several_choices',
  label: label('Welke onderwerpen?', 'Which topics?'),
  choices: [
    { id: 'wonen', label: label('Wonen', 'Housing') },
    { id: 'zorg', label: label('Zorg', 'Care') },
    { id: 'werk', label: label('Werk', 'Work') },
  ],
});
const drinks = await addQuestion({
  kind: 'yes_no',
  required: true,
  label: label('Blijf je voor de borrel?', 'Will you stay for drinks?'),
});

let manageUrl = '';

t.test('the public form with its questions, in a browser', async (t) => {
  await page.goto(`${base}/bijeenkomsten/${meeting.slug}`);
  await axe(t, 'meeting form with questions');
  await page.getByRole('textbox', { name: 'Naam (verplicht)' }).fill('Iris de Boer');
  await page.getByRole('textbox', { name: 'E-mailadres (verplicht)' }).fill('iris.vragen@example.org');
  await page.getByRole('textbox', { name: 'Organisatie (verplicht)' }).fill('Gemeente Delft');
  await page.getByRole('combobox', { name: 'Rol (verplicht)' }).selectOption('projectsecretaris');
  await page.getByRole('textbox', { name: 'Je afdeling (verplicht)' }).fill('Mobiliteit en ruimte');
  await page
    .getByRole('textbox', { name: 'Wat wil je leren?' })
    .fill('Hoe andere steden deelfietsen regelen');
  await page.getByRole('radio', { name: 'Energie' }).check();
  await page.getByText('Wonen').click();
  await page.getByText('Werk').click();
  t.ok(await page.getByRole('checkbox', { name: 'Werk' }).isChecked(), 'the label ticks its box');
  // The required yes/no question is left open: the form comes back with the problem named.
  const solved = () =>
    eventually(
      async () =>
        (await page
          .locator('input[name="altcha"]')
          .inputValue()
          .catch(() => '')) || undefined,
      60_000,
      200,
    );
  t.ok(await solved(), 'the proof of work is solved in the browser');
  await page.getByRole('button', { name: 'Aanmelden' }).click();
  await page.waitForURL(/\/aanmelden$/);
  t.ok(
    await page.getByRole('link', { name: 'Beantwoord deze vraag.' }).isVisible(),
    'the summary names the open question',
  );
  t.equal(await page.locator(`#q-${drinks.id}-error`).textContent(), 'Beantwoord deze vraag.');
  t.equal(
    await page.getByRole('textbox', { name: 'Je afdeling (verplicht)' }).inputValue(),
    'Mobiliteit en ruimte',
    'what was filled in stays',
  );
  t.ok(await page.getByRole('radio', { name: 'Energie' }).isChecked());
  await axe(t, 'meeting form with a problem');
  await page.getByRole('group', { name: 'Blijf je voor de borrel? (verplicht)' }).getByText('Ja').click();
  t.ok(await solved(), 'the proof of work is solved again');
  await page.getByRole('button', { name: 'Aanmelden' }).click();
  await page.waitForURL(/\/aanmelden$/);
  t.equal(await page.locator('h1').textContent(), 'Je bent aangemeld');
  manageUrl = (await page.locator('a code').textContent()) ?? '';
  t.match(manageUrl, `${base}/aanmelding/beheren/`);
});

t.test('the manage page shows the answers and takes a change', async (t) => {
  await page.goto(manageUrl);
  t.equal(await page.locator('h1').textContent(), 'Je aanmelding');
  const answers = page.locator('dl.answers');
  const shown = async () => (await answers.locator('dd').allTextContents()).map((s) => s.trim());
  t.same(await shown(), [
    'Mobiliteit en ruimte',
    'Hoe andere steden deelfietsen regelen',
    'Energie',
    'Wonen, Werk',
    'ja',
  ]);
  await axe(t, 'manage page with answers');
  await page.getByRole('radio', { name: 'Mobiliteit' }).check();
  await page.getByRole('group', { name: 'Blijf je voor de borrel? (verplicht)' }).getByText('Nee').click();
  await page.getByRole('button', { name: 'Antwoorden opslaan' }).click();
  t.ok(await page.getByText('Je antwoorden zijn opgeslagen.').isVisible());
  t.same(await shown(), [
    'Mobiliteit en ruimte',
    'Hoe andere steden deelfietsen regelen',
    'Mobiliteit',
    'Wonen, Werk',
    'nee',
  ]);
  await axe(t, 'manage page after the change');
});
