/**
 * The mail-text page in Debian's chromium: an editor opens it from the meeting, writes the texts of both
 * languages, previews the exact mail (nothing saved yet), saves them under their own name, and sees a field
 * error beside the text that is too long; a read-only account can read and preview but not save; the door
 * account is refused. Each page passes axe (nothing serious or critical) and the CSP.
 */
import { eventually } from '@citydeals/testkit';
import { launchChromium, seriousViolations } from '@citydeals/testkit/browser';
import type { Page } from 'playwright-core';
import t from 'tap';
import { listAudit } from '../src/audit/audit.repository.ts';
import { adminAuth, PASSWORD, people, startConsoleSystem, Visitor } from './harness.ts';

const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;

const texts = async (meetingId: string) =>
  (
    await system.call('notification', 'GET', `/admin/meetings/${meetingId}/mail-texts`, {
      headers: adminAuth,
    })
  ).body;

let meetingId = '';

t.before(async () => {
  const created = await system.call('registration', 'POST', '/admin/meetings', {
    headers: adminAuth,
    body: {
      title: 'CoP teksten',
      slug: `cop-teksten-${Date.now().toString(36)}`,
      startsAt: '2031-03-11T13:00',
      endsAt: '2031-03-11T17:00',
      venue: { name: 'Stadhuis', address: 'Spui 70, Den Haag' },
      capacity: 20,
      status: 'published',
    },
  });
  if (created.status !== 201) throw new Error(created.text);
  meetingId = created.body.id;
  await eventually(
    async () =>
      (
        await system.call('notification', 'GET', `/admin/meetings/${meetingId}/mail-texts`, {
          headers: adminAuth,
        })
      ).status === 200,
  );
});

t.test('in a real browser: write, preview the exact mail, save; read-only and door roles', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const cspViolations: string[] = [];
  const open = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    return page;
  };
  const axe = async (page: Page, name: string) => {
    t.same(await seriousViolations(page), [], `${name}: no serious or critical axe violation`);
  };
  const logIn = async (page: Page, email: string) => {
    await page.goto(`${stack.url}/login`);
    await page.getByLabel('E-mailadres').fill(email);
    await page.getByLabel('Wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  };

  const office = await open();
  await logIn(office, people.redacteur.email);
  await office.goto(`${stack.url}/meetings/${meetingId}`);
  await office.getByRole('link', { name: 'Teksten in de mails' }).click();
  await office.getByRole('heading', { name: 'Teksten in de mails: CoP teksten' }).waitFor();
  await axe(office, 'mail-texts');

  await office
    .getByLabel('Introductie (Nederlands)')
    .fill('Welkom bij de <CoP> & de parade!\n\nNeem je poster mee.');
  await office.getByLabel('Praktische informatie (Nederlands)').fill('De zaal is open vanaf 12:30.');
  await office.getByLabel('Introductie (Engels)').fill('Welcome to the CoP!');
  await office.getByLabel('Mail', { exact: true }).selectOption('reminder');
  await office.getByLabel('Taal', { exact: true }).selectOption('nl');
  await office.getByRole('button', { name: 'Voorbeeld bekijken' }).click();
  await office.locator('#preview-subject').waitFor();
  t.match(await office.locator('#preview-subject').textContent(), /^Herinnering: CoP teksten/);
  const frame = office.frameLocator('#preview-html');
  t.equal(
    await frame.locator('p', { hasText: 'Welkom bij de' }).textContent(),
    'Welkom bij de <CoP> & de parade!',
    'the introduction in the HTML mail, as text (escaped), not markup',
  );
  t.equal(await frame.locator('h2').textContent(), 'Praktische informatie');
  t.match(
    await office.locator('#preview-text').textContent(),
    'Welkom bij de <CoP> & de parade!\n\nNeem je poster mee.\n\nWat:',
    'the text part as it is sent',
  );
  t.equal(
    await office.getByLabel('Introductie (Engels)').inputValue(),
    'Welcome to the CoP!',
    'what was typed stays in the form',
  );
  t.same((await texts(meetingId)).texts, [], 'a preview saves nothing');
  const exact = await system.call('notification', 'POST', `/admin/meetings/${meetingId}/mail-preview`, {
    headers: adminAuth,
    body: {
      kind: 'reminder',
      language: 'nl',
      texts: {
        introduction: 'Welkom bij de <CoP> & de parade!\n\nNeem je poster mee.',
        practical: 'De zaal is open vanaf 12:30.',
      },
    },
  });
  t.equal(
    await office.locator('#preview-html').getAttribute('srcdoc'),
    exact.body.html,
    'the frame holds exactly the mail notification composes',
  );
  await axe(office, 'mail-texts-preview');

  // Too long: the field says so and nothing is saved.
  await office.getByLabel('Praktische informatie (Engels)').evaluate((el) => el.removeAttribute('maxlength'));
  await office.getByLabel('Praktische informatie (Engels)').fill('x'.repeat(4001));
  await office.getByRole('button', { name: 'Opslaan' }).click();
  await office.getByRole('alert').waitFor();
  t.equal(await office.getByLabel('Praktische informatie (Engels)').getAttribute('aria-invalid'), 'true');
  t.match(await office.locator('#en_practical-error').textContent(), /4000/);
  t.same((await texts(meetingId)).texts, [], 'refused: nothing saved');
  await axe(office, 'mail-texts-error');

  await office.getByLabel('Praktische informatie (Engels)').fill('The room opens at 12:30.');
  await office.getByRole('button', { name: 'Opslaan' }).click();
  await office.getByRole('status').filter({ hasText: 'Opgeslagen' }).waitFor();
  const saved = await texts(meetingId);
  const rik = `${people.redacteur.name} <${people.redacteur.email}>`;
  t.match(saved.texts, [
    {
      language: 'en',
      introduction: 'Welcome to the CoP!',
      practical: 'The room opens at 12:30.',
      updatedBy: { name: rik },
    },
    {
      language: 'nl',
      introduction: 'Welkom bij de <CoP> & de parade!\n\nNeem je poster mee.',
      practical: 'De zaal is open vanaf 12:30.',
      updatedBy: { name: rik, id: /^staff:/ },
    },
  ]);
  t.match(await office.locator('main').textContent(), `Laatst opgeslagen door ${rik}`);
  const trail = await listAudit(stack.console.ctx.db, 50);
  t.ok(
    trail.some((e) => e.action === 'meeting.mail-texts' && e.outcome === 'ok'),
    'in the audit trail',
  );

  // Read-only: sees the texts, may preview, has no save button; a save posted anyway is refused.
  const reader = await open();
  await logIn(reader, people.lezer.email);
  await reader.goto(`${stack.url}/meetings/${meetingId}/mail-texts`);
  t.equal(await reader.getByLabel('Introductie (Engels)').inputValue(), 'Welcome to the CoP!');
  t.ok(
    (await reader.getByLabel('Introductie (Engels)').getAttribute('readonly')) !== null,
    'read-only fields',
  );
  t.equal(await reader.getByRole('button', { name: 'Opslaan' }).count(), 0, 'no save button');
  await axe(reader, 'mail-texts-reader');
  await reader.getByLabel('Taal', { exact: true }).selectOption('en');
  await reader.getByRole('button', { name: 'Voorbeeld bekijken' }).click();
  t.match(await reader.locator('#preview-subject').textContent(), /^Registration confirmed/);
  const lezer = new Visitor(stack.url);
  await lezer.login(people.lezer.email);
  const refused = await lezer.submit(
    `/meetings/${meetingId}/mail-texts`,
    `/meetings/${meetingId}/mail-texts`,
    {
      nl_introduction: 'Overschreven',
      nl_practical: '',
      en_introduction: '',
      en_practical: '',
    },
  );
  t.equal(refused.status, 403, 'the read-only role may not save');
  const lex = `${people.lezer.name} <${people.lezer.email}>`;
  t.ok(
    (await listAudit(stack.console.ctx.db, 50)).some(
      (e) => e.who === lex && e.outcome === 'refused' && e.action === 'POST /meetings/:id/mail-texts',
    ),
    'refused by the console itself, before any call to notification',
  );
  const door = new Visitor(stack.url);
  await door.login(people.deur.email);
  t.equal((await door.get(`/meetings/${meetingId}/mail-texts`)).status, 403, 'the door role may not look');
  t.same((await texts(meetingId)).texts, saved.texts, 'nothing changed by the refused');
  t.same(cspViolations, [], 'the pages work under the CSP');
});
