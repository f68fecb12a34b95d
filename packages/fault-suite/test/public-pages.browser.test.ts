/**
 * The public pages in a real browser (Debian's chromium through playwright-core), against the three services
 * as processes with a recording SMTP server: the meeting page and its form (with the proof of work solved by
 * the browser), the confirmation, "send me my link again" and the mail it causes, the manage page with its
 * cancel box, and the unsubscribe page behind the link in a reminder mail. Every page is checked with axe-core
 * (no serious or critical violation) and photographed at phone and desktop size into
 * test-artifacts/screenshots/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { eventually } from '@citydeals/testkit';
import { assertAccessible, launchChromium } from '@citydeals/testkit/browser';
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { adminAuth, repoRoot, System } from '../src/system.ts';
import { createMeeting } from '../src/workload.ts';

// Three service processes, a browser and about thirty page checks: more than the default file timeout.
t.setTimeout(400_000);

const screenshots = path.join(repoRoot, 'test-artifacts', 'screenshots');
const sizes = [
  ['phone', { width: 375, height: 812 }],
  ['desktop', { width: 1280, height: 900 }],
] as const;

const system = await System.start({
  deferStart: true,
  // A light proof of work: the browser still solves it in its worker, only faster than in production.
  env: { registration: { PROOF_OF_WORK_COST: '1000', PROOF_OF_WORK_MAX_COUNTER: '100' } },
});
t.teardown(() => system.close());
// Links in pages and mails point at the services themselves, as PUBLIC_BASE_URL does behind a proxy.
for (const p of [...system.processes.registration, ...system.processes.notification])
  p.env.PUBLIC_BASE_URL = p.url;
await system.startAll();

await mkdir(screenshots, { recursive: true });
const browser = await launchChromium({ t });
// axe opens pages of its own in the page's context: one made with newContext, not browser.newPage.
const page = await (await browser.newContext()).newPage();
const registration = system.url('registration');
const requestsElsewhere: string[] = [];
page.on('request', (request) => {
  const url = new URL(request.url());
  if (url.hostname !== '127.0.0.1') requestsElsewhere.push(request.url());
});

/**
 * Screenshots at both sizes; axe at phone size (where the layout is tightest; its rules hardly depend on the
 * width, and a run costs about a second): no serious or critical violation.
 */
async function check(t: Test, name: string, on: Page = page) {
  const started = Date.now();
  for (const [label, size] of [...sizes].reverse()) {
    await on.setViewportSize(size);
    await on.screenshot({ path: path.join(screenshots, `${name}-${label}.png`), fullPage: true });
  }
  await assertAccessible(t, name, on);
  checking += Date.now() - started;
}
let checking = 0;
const began = Date.now();
t.teardown(() =>
  t.comment(`browser test: ${Date.now() - began} ms in all, ${checking} ms in screenshots and axe`),
);

async function mailTo(address: string, kind: string, count = 1) {
  const found = await eventually(() => {
    const mails = system.mail.received.filter((m) => m.to === address && m.kind === kind);
    return mails.length >= count ? mails[count - 1] : undefined;
  }, 30_000);
  if (!found) throw new Error(`no ${kind} mail #${count} to ${address}`);
  return simpleParser(found.raw);
}

const linkIn = (text: string | undefined, base: string) =>
  new RegExp(`${base.replaceAll('.', '\\.')}/\\S+`).exec(text ?? '')?.[0];

const startsAt = new Date(Date.now() + 3 * 3600_000);
const meeting = await createMeeting(system, {
  title: 'Community of Practice City Deals',
  startsAt: startsAt.toISOString(),
  endsAt: new Date(startsAt.getTime() + 4 * 3600_000).toISOString(),
  venue: { name: 'Hangar op het voormalige PTT-terrein', address: 'Binckhorstlaan 36, 2516 BE Den Haag' },
  capacity: 10,
  language: 'nl',
  reminderOffsets: ['PT1H'],
});
const email = 'iris.browser@example.org';
let firstManageUrl = '';
let manageUrl = '';

t.test('meeting page, form with proof of work, confirmation', async (t) => {
  await page.goto(`${registration}/bijeenkomsten/${meeting.slug}`);
  t.equal(await page.locator('h1').textContent(), 'Community of Practice City Deals');
  t.ok(await page.getByText('Binckhorstlaan 36, 2516 BE Den Haag').isVisible(), 'the venue address is shown');
  await check(t, 'meeting');
  await page.getByRole('textbox', { name: 'Naam (verplicht)' }).fill('Iris de Boer');
  await page.getByRole('textbox', { name: 'E-mailadres (verplicht)' }).fill(email);
  await page.getByRole('textbox', { name: 'Organisatie (verplicht)' }).fill('Gemeente Delft');
  await page.getByRole('combobox', { name: 'Rol (verplicht)' }).selectOption('projectsecretaris');
  await page.getByText('Ik mag op foto’s van de bijeenkomst staan').click();
  t.ok(await page.locator('#consentPhoto').isChecked(), 'clicking the label text ticks its box');
  // The widget solves the challenge in a worker once the form has focus, then fills its hidden field.
  // Read from Playwright's own world: the page's CSP forbids evaluating strings in the page itself.
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
  await check(t, 'meeting-form-filled');
  await page.getByRole('button', { name: 'Aanmelden' }).click();
  await page.waitForURL(/\/aanmelden$/);
  t.equal(await page.locator('h1').textContent(), 'Je bent aangemeld');
  firstManageUrl = (await page.locator('a code').textContent()) ?? '';
  t.match(firstManageUrl, `${registration}/aanmelding/beheren/`);
  await check(t, 'confirmation');
});

t.test('send me my link again: a fresh link by mail, the old one stops working', async (t) => {
  await page.goto(`${registration}/aanmelding/link-opnieuw`);
  await check(t, 'resend-link');
  await page.getByRole('textbox', { name: 'E-mailadres (verplicht)' }).fill(email);
  await page.getByRole('button', { name: 'Stuur nieuwe link' }).click();
  t.equal(await page.locator('h1').textContent(), 'Kijk in je mailbox');
  await check(t, 'resend-link-sent');
  const mail = await mailTo(email, 'manage_link');
  manageUrl = linkIn(mail.text, `${registration}/aanmelding/beheren`) ?? '';
  t.ok(manageUrl && manageUrl !== firstManageUrl, 'the mail carries a new link');
  await page.goto(firstManageUrl);
  t.equal(await page.locator('h1').textContent(), 'Link niet gevonden', 'the old link no longer works');
  await check(t, 'manage-old-link');
  await page.goto(manageUrl);
  t.equal(await page.locator('h1').textContent(), 'Je aanmelding');
  await check(t, 'manage');
});

t.test('the unsubscribe link in a reminder: a page with one button, and a way back', async (t) => {
  // Bring the reminder forward to a few seconds from now; notification plans it again for the seated.
  const offset = `PT${Math.floor((startsAt.getTime() - Date.now()) / 1000) - 3}S`;
  const edit = await system.call('registration', 'PATCH', `/admin/meetings/${meeting.id}`, {
    body: { reminderOffsets: [offset] },
    headers: adminAuth,
  });
  t.equal(edit.status, 200);
  const reminder = await mailTo(email, 'reminder');
  const link = linkIn(reminder.text, `${system.url('notification')}/unsubscribe`);
  t.ok(link, 'the reminder body carries the unsubscribe link');
  await page.goto(link!);
  t.equal(await page.getByRole('button').count(), 1, 'one button');
  await check(t, 'unsubscribe');
  await page.getByRole('button').click();
  t.equal(await page.locator('h1').textContent(), 'Je bent afgemeld voor herinneringen');
  await check(t, 'unsubscribed');
  await page.getByRole('button', { name: 'Toch weer herinneringen ontvangen' }).click();
  t.equal(await page.locator('h1').textContent(), 'Je ontvangt weer herinneringen');
  await check(t, 'resubscribed');
});

t.test('manage page: the cancel box is ticked through its label; cancelled', async (t) => {
  await page.goto(manageUrl);
  await page.getByRole('button', { name: 'Afmelden' }).click();
  t.equal(
    await page.locator('#confirm:invalid').count(),
    1,
    'the browser holds the form back without the box',
  );
  t.equal(await page.locator('h1').textContent(), 'Je aanmelding', 'still on the manage page');
  await page.getByText('Ja, ik meld mij af voor deze bijeenkomst').click();
  t.ok(await page.locator('#confirm').isChecked(), 'the label ticks the box');
  await page.getByRole('button', { name: 'Afmelden' }).click();
  t.equal(await page.locator('h1').textContent(), 'Je bent afgemeld');
  await check(t, 'cancelled');
  t.same(requestsElsewhere, [], 'the pages load nothing from another host');
});
