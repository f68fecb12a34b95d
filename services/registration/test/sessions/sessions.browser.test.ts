/**
 * Sessions in a real browser (Debian's chromium through playwright-core, launched as
 * packages/fault-suite/test/public-pages.browser.test.ts does): a session chosen on the public form with the
 * proof of work solved by the browser, then changed on the manage page. Each page is checked with axe-core
 * (no serious or critical violation).
 */
import type { AddressInfo } from 'node:net';
import { eventually } from '@citydeals/testkit';
import { assertAccessible, phonePage } from '@citydeals/testkit/browser';
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { createMeeting, startRegistration, TestClock } from '../harness.ts';
import { choicesOf, createSession } from './session-harness.ts';

t.setTimeout(300_000);

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, { PROOF_OF_WORK_COST: '1000', PROOF_OF_WORK_MAX_COUNTER: '100' });
t.teardown(() => ctx.close());
const svc = ctx.service;
await svc.http.listen({ port: 0, host: '127.0.0.1' });
const origin = `http://127.0.0.1:${(svc.http.server.address() as AddressInfo).port}`;

const page = await phonePage(t);

const accessible = (t: Test, name: string, on: Page = page) => assertAccessible(t, name, on);

const meeting = await createMeeting(svc, { capacity: 10, title: 'Community of Practice City Deals' });
const design = await createSession(svc, meeting.id, { title: 'Ontwerpsessie', capacity: 2 });
const knowledge = await createSession(svc, meeting.id, {
  title: 'Kennissessie',
  startsAt: '2027-03-11T14:30',
  endsAt: '2027-03-11T15:30',
  capacity: 5,
});
let managePath = '';

t.test('a session chosen on the public form', async (t) => {
  await page.goto(`${origin}/bijeenkomsten/${meeting.slug}`);
  t.ok(await page.getByText('14:00–15:00 Ontwerpsessie (nog 2 plekken)').isVisible(), 'free places shown');
  await accessible(t, 'meeting with sessions');
  await page.getByRole('textbox', { name: 'Naam (verplicht)' }).fill('Iris de Boer');
  await page.getByRole('textbox', { name: 'E-mailadres (verplicht)' }).fill('iris.sessies@example.org');
  await page.getByRole('textbox', { name: 'Organisatie (verplicht)' }).fill('Gemeente Delft');
  await page.getByRole('combobox', { name: 'Rol (verplicht)' }).selectOption('projectsecretaris');
  await page.getByText('14:00–15:00 Ontwerpsessie').click();
  t.ok(await page.locator(`#session-${design.id}`).isChecked(), 'the label ticks the session');
  const solved = await eventually(
    async () =>
      (await page
        .locator('input[name="altcha"]')
        .inputValue()
        .catch(() => '')) || undefined,
    60_000,
    200,
  );
  t.ok(solved, 'the proof of work is solved in the browser');
  await page.getByRole('button', { name: 'Aanmelden' }).click();
  await page.waitForURL(/\/aanmelden$/);
  t.equal(await page.locator('h1').textContent(), 'Je bent aangemeld');
  managePath = new URL((await page.locator('a code').textContent()) ?? '').pathname;
  t.equal((await choicesOf(svc, design.id)).placed.length, 1, 'the place is taken');
});

t.test('the session changed on the manage page', async (t) => {
  await page.goto(`${origin}${managePath}`);
  t.equal(await page.locator('h1').textContent(), 'Je aanmelding');
  t.ok(await page.getByText('Je hebt een plek').isVisible(), 'the place is shown');
  await accessible(t, 'manage page with sessions');
  await page.getByText('14:00–15:00 Ontwerpsessie').click();
  await page.getByText('14:30–15:30 Kennissessie').click();
  await page.getByRole('button', { name: 'Sessies opslaan' }).click();
  await page.getByText('Je sessies zijn opgeslagen.').waitFor();
  t.ok(await page.locator(`#session-${knowledge.id}`).isChecked());
  t.notOk(await page.locator(`#session-${design.id}`).isChecked());
  t.same((await choicesOf(svc, design.id)).placed, [], 'the first place given up');
  t.equal((await choicesOf(svc, knowledge.id)).placed.length, 1, 'the new one taken');
  await accessible(t, 'manage page after saving');
});
