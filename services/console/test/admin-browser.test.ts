// People and keys and deliveries in Debian's chromium: a beheerder issues a machine key, sees it accepted by
// the services, revokes it and sees all three refuse it; a webhook endpoint is made and tested; every page
// passes axe at phone and desktop size, works under the CSP, and has its screenshots.
import { mkdir } from 'node:fs/promises';
import { eventually } from '@citydeals/testkit';
import { launchChromium, seriousViolations } from '@citydeals/testkit/browser';
import type { BrowserContext, Page } from 'playwright-core';
import t from 'tap';

// Services as processes and a browser on a shared 2-core machine: far slower than tap's default limit.
t.setTimeout(600_000);

import { adminAuth, PASSWORD, people, startConsoleSystem } from './harness.ts';

const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;
const SCREENSHOTS = new URL('../../../test-artifacts/screenshots/', import.meta.url);
await mkdir(SCREENSHOTS, { recursive: true });

const browser = await launchChromium();
t.teardown(() => browser.close());
const cspViolations: string[] = [];
async function open(context: BrowserContext) {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return page;
}
async function logIn(page: Page, email: string) {
  await page.goto(`${stack.url}/login`);
  await page.getByLabel('E-mailadres').fill(email);
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL(`${stack.url}/`);
}
async function check(test: Pick<typeof t, 'same' | 'ok'>, page: Page, name: string) {
  test.same(await seriousViolations(page), [], `${name}: no serious or critical axe violation`);
  const width = await page.locator('html').evaluate((root) => root.scrollWidth);
  test.ok(width <= (page.viewportSize()?.width ?? 0) + 1, `${name}: nothing wider than the screen`);
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}
const withKey = (key: string) => ({ authorization: `Bearer ${key}` });
const probe = async (key: string) => ({
  deals: (await system.call('deal_tracking', 'GET', '/deals?limit=1', { headers: withKey(key) })).status,
  registration: (await system.call('registration', 'GET', '/admin/dead-letters', { headers: withKey(key) }))
    .status,
  notification: (await system.call('notification', 'GET', '/admin/dead-letters', { headers: withKey(key) }))
    .status,
});

const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const phone = await browser.newContext({
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
});
t.teardown(() => desktop.close());
t.teardown(() => phone.close());
const office = await open(desktop);
await logIn(office, people.beheerder.email);
const pocket = await open(phone);
await logIn(pocket, people.beheerder.email);

t.test('a beheerder issues a machine key, and revoking it is refused by all three services', async (t) => {
  await office.getByRole('link', { name: 'Mensen en sleutels' }).click();
  await office.waitForURL(`${stack.url}/people`);
  await check(t, office, 'people-desktop');
  await office.getByRole('link', { name: 'Machinesleutels' }).click();
  await check(t, office, 'keys-desktop');
  await office.getByLabel('Systeem').selectOption('evaluation');
  await office.getByLabel('Omschrijving').fill('Evaluatiebureau 2027');
  await office.getByLabel('Rechten').selectOption('read');
  await office.getByRole('button', { name: 'Uitgeven' }).click();
  const key = (await office.locator('code.secret').textContent())!.trim();
  t.match(key, /^cdk_[A-Za-z0-9_-]{43}$/, 'the key is shown once');
  await check(t, office, 'key-issued-desktop');
  t.same(
    await probe(key),
    { deals: 200, registration: 403, notification: 403 },
    'known at all three services',
  );

  await office.goto(`${stack.url}/keys`);
  t.notOk(await office.locator('code.secret').count(), 'not shown again');
  await office.getByRole('button', { name: 'Intrekken: Evaluatie Evaluatiebureau 2027' }).click();
  await office.getByRole('status').filter({ hasText: 'ingetrokken bij alle diensten' }).waitFor();
  t.same(await probe(key), { deals: 401, registration: 401, notification: 401 }, 'refused by all three');
  const row = office.locator('tr', { hasText: 'Evaluatiebureau 2027' });
  t.match(await row.textContent(), /ingetrokken[\s\S]*Bea Beheerder/, 'the page says who revoked it');

  await pocket.goto(`${stack.url}/people`);
  await check(t, pocket, 'people-phone');
  await pocket.goto(`${stack.url}/keys`);
  await check(t, pocket, 'keys-phone');
  await pocket.getByRole('link', { name: 'English' }).click();
  await pocket.getByRole('heading', { name: 'Machine keys' }).waitFor();
  t.ok(await pocket.getByRole('button', { name: 'Issue' }).count(), 'the English switch');
  await pocket.getByRole('link', { name: 'Nederlands' }).click();
  await pocket.getByRole('heading', { name: 'Machinesleutels' }).waitFor();
});

t.test('a beheerder adds a person', async (t) => {
  await office.goto(`${stack.url}/people`);
  await office.getByLabel('Naam', { exact: true }).fill('Pim Pagina');
  await office.getByLabel('E-mailadres').fill('pim@programmabureau.example.nl');
  await office.getByLabel('Rol', { exact: true }).selectOption('deur');
  await office.getByRole('button', { name: 'Toevoegen' }).click();
  const password = (await office.locator('code.secret').textContent())!.trim();
  t.ok(password.length >= 20);
  const pim = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  t.teardown(() => pim.close());
  const door = await open(pim);
  await door.goto(`${stack.url}/login`);
  await door.getByLabel('E-mailadres').fill('pim@programmabureau.example.nl');
  await door.getByLabel('Wachtwoord').fill(password);
  await door.getByRole('button', { name: 'Inloggen' }).click();
  await door.waitForURL(`${stack.url}/door`);
  t.notOk(await door.getByRole('link', { name: 'Mensen en sleutels' }).count(), 'a deur has no people link');
});

t.test(
  'deliveries: a webhook made, tested and followed to its attempts; mail log; dead letters',
  async (t) => {
    await office.getByRole('link', { name: 'Verzendingen' }).click();
    await office.waitForURL(`${stack.url}/deliveries`);
    await check(t, office, 'deliveries-desktop');
    await office.getByLabel('Adres (URL)').fill(system.hooks.url);
    await office.getByLabel('Omschrijving').fill('Dashboard ministerie');
    await office.getByRole('button', { name: 'Toevoegen' }).click();
    t.match(await office.locator('code.secret').textContent(), /^whsec_/);
    await check(t, office, 'webhook-desktop');
    const endpointPath = (await office.locator('form[action$="/test"]').getAttribute('action'))!.replace(
      /\/test$/,
      '',
    );
    await office.getByRole('button', { name: 'Testbericht sturen' }).click();
    await office.getByRole('status').filter({ hasText: 'Testbericht staat klaar' }).waitFor();
    const messagePath = /\/deliveries\/messages\/[^/]+/.exec(
      (await office.locator('form[action$="/retry"]').getAttribute('action'))!,
    )![0];
    await eventually(async () => {
      await office.goto(`${stack.url}${messagePath}`);
      return (await office.locator('#message-status').textContent()) === 'afgeleverd';
    }, 30_000);
    t.ok(
      system.hooks.received.some((d) => d.eventType === 'nl.citydeals.notification.webhook.test.v1'),
      'the receiver got it',
    );
    await check(t, office, 'webhook-message-desktop');
    await office.getByRole('link', { name: 'Maillogboek' }).click();
    await check(t, office, 'mails-desktop');
    await office.getByRole('link', { name: 'Onverwerkte berichten' }).click();
    await check(t, office, 'dead-letters-desktop');

    for (const [path, name] of [
      ['/deliveries', 'deliveries-phone'],
      [endpointPath, 'webhook-phone'],
      [messagePath, 'webhook-message-phone'],
      ['/deliveries/mails', 'mails-phone'],
      ['/deliveries/dead-letters', 'dead-letters-phone'],
    ] as const) {
      await pocket.goto(`${stack.url}${path}`);
      await check(t, pocket, name);
    }
    const endpoints = await system.call('notification', 'GET', '/webhooks/endpoints', { headers: adminAuth });
    t.equal(endpoints.body.items.length, 1);
    t.same(cspViolations, [], 'every page works under the CSP');
  },
);
