import { mkdir } from 'node:fs/promises';
import { eventually } from '@citydeals/testkit';
import { launchChromium, seriousViolations } from '@citydeals/testkit/browser';
import type { Page } from 'playwright-core';
import t from 'tap';
import { listAudit } from '../src/audit/audit.repository.ts';
import { CONTENT_SECURITY_POLICY } from '../src/sessions/session.plugin.ts';
import { adminAuth, PASSWORD, people, startConsole, startConsoleSystem, Visitor } from './harness.ts';

// Services as processes and a browser on a shared 2-core machine: far slower than tap's default limit.
t.setTimeout(600_000);

const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;

interface Deal {
  id: string;
  name: string;
  phase: string;
  version: number;
}
const deals = async (): Promise<Deal[]> =>
  (await system.call('deal_tracking', 'GET', '/deals?limit=500', { headers: adminAuth })).body.items;
const dealById = async (id: string): Promise<Deal> =>
  (await system.call('deal_tracking', 'GET', `/deals/${id}`, { headers: adminAuth })).body;

t.test('pages carry a strict CSP, no inline script or style, and need a login', async (t) => {
  const visitor = new Visitor(stack.url);
  const login = await visitor.get('/login');
  t.equal(login.status, 200);
  t.equal(login.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  t.notMatch(CONTENT_SECURITY_POLICY, /unsafe-inline/);
  t.notMatch(login.text, /<script>|<style|style="|onclick=/i, 'no inline code');
  t.match(login.text, /<html lang="nl">/);
  const overview = await visitor.get('/');
  t.equal(overview.status, 303);
  t.equal(overview.headers.get('location'), '/login?next=%2F');
  t.equal((await visitor.get('/language?to=en&back=/login')).status, 303);
  t.match((await visitor.get('/login')).text, /<html lang="en">[\s\S]*Log in/);
});

t.test('login: cookie flags, wrong password, CSRF, lockout, audit', async (t) => {
  const visitor = new Visitor(stack.url);
  const noToken = await visitor.submit(
    '/login',
    '/login',
    { email: people.lezer.email, password: PASSWORD },
    false,
  );
  t.equal(noToken.status, 403, 'login without the CSRF token is refused');
  t.notOk(visitor.cookies.has('cd_session'));

  const ok = await visitor.login(people.lezer.email);
  t.equal(ok.status, 303);
  const setCookie = ok.headers.getSetCookie().find((c) => c.startsWith('cd_session='));
  t.match(setCookie, /HttpOnly/i);
  t.match(setCookie, /SameSite=Lax/i);
  t.notMatch(setCookie, /Secure/i, 'over http the cookie cannot be Secure');
  t.equal((await visitor.get('/deals')).status, 200);
  await stack.console.ctx.db
    .updateTable('staff_session')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .execute();
  const expired = await visitor.get('/deals');
  t.equal(expired.status, 303, 'an expired session is no session');
  t.notOk(visitor.cookies.has('cd_session'), 'and its cookie is cleared');
  await visitor.login(people.lezer.email);
  const out = await visitor.submit('/deals', '/logout', {});
  t.equal(out.status, 303);
  t.equal((await visitor.get('/deals')).status, 303, 'logged out: back to the login page');

  const guesser = new Visitor(stack.url);
  for (let i = 0; i < 2; i++)
    t.equal((await guesser.login(people.redacteur.email, 'wrong password!')).status, 401);
  t.equal(
    (await guesser.login(people.redacteur.email, 'wrong password!')).status,
    423,
    'third failure locks',
  );
  const locked = await guesser.login(people.redacteur.email, PASSWORD);
  t.equal(locked.status, 423, 'even the right password is refused while locked');
  t.notOk(guesser.cookies.has('cd_session'));
  await stack.console.ctx.db
    .updateTable('staff_account')
    .set({ locked_until: null, failed_logins: 0 })
    .where('email', '=', people.redacteur.email)
    .execute();

  const trail = await listAudit(stack.console.ctx.db, 50);
  t.ok(trail.some((e) => e.action === 'login' && e.outcome === 'ok' && e.who === people.lezer.email && e.ip));
  t.ok(trail.some((e) => e.action === 'logout' && e.who.includes(people.lezer.name)));
  t.ok(
    trail.some((e) => e.action === 'login' && e.outcome === 'refused' && e.who === people.redacteur.email),
  );
});

t.test(
  'served over https behind a proxy: Secure host-only cookie, the person’s address audited',
  async (t) => {
    const { createAccount } = await import('../src/accounts/account.service.ts');
    const https = await startConsole({
      CONSOLE_SIGNING_KEY: stack.keys.privatePem,
      PUBLIC_BASE_URL: 'https://console.example.org',
      TRUST_PROXY: '127.0.0.1',
    });
    t.teardown(() => https.close());
    await createAccount(https.service.ctx, { ...people.lezer, role: 'lezer', password: PASSWORD });
    const page = await https.service.http.inject('/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const loginCookie = page.cookies.find((c) => c.name === 'cd_login_csrf')!;
    t.equal(loginCookie.secure, true);
    const login = await https.service.http.inject({
      method: 'POST',
      url: '/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `cd_login_csrf=${loginCookie.value}`,
        'x-forwarded-for': '203.0.113.7',
      },
      payload: new URLSearchParams({ email: people.lezer.email, password: PASSWORD, _csrf: csrf }).toString(),
    });
    t.equal(login.statusCode, 303);
    const session = login.cookies.find((c) => c.name === '__Host-cd_session')!;
    t.match(session, { secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    t.notOk(session.domain, 'host-only');
    const [entry] = await listAudit(https.service.ctx.db, 1);
    t.match(
      entry,
      { action: 'login', outcome: 'ok', ip: '203.0.113.7' },
      'the address behind the trusted proxy',
    );
  },
);

t.test('a redacteur moves a deal; deal-tracking records the person, not a key', async (t) => {
  const visitor = new Visitor(stack.url);
  await visitor.login(people.redacteur.email);
  const deal = (await deals()).find((d) => d.phase === 'delivering')!;
  const page = await visitor.get(`/deals/${deal.id}`);
  t.equal(page.status, 200);
  const options = [...page.text.matchAll(/<option value="([a-z]+)"/g)].map((m) => m[1]);
  t.same(options, ['securing', 'discontinued'], 'only the allowed phases are offered');

  const refused = await visitor.submit(
    `/deals/${deal.id}`,
    `/deals/${deal.id}/transitions`,
    { to: 'securing', reason: 'zonder token', version: String(deal.version) },
    false,
  );
  t.equal(refused.status, 403, 'no CSRF token: refused');
  t.equal((await dealById(deal.id)).phase, 'delivering', 'nothing changed');

  const moved = await visitor.submit(`/deals/${deal.id}`, `/deals/${deal.id}/transitions`, {
    to: 'securing',
    reason: 'Resultaten zijn geborgd bij de partners.',
    version: String(deal.version),
  });
  t.equal(moved.status, 303);
  t.equal((await dealById(deal.id)).phase, 'securing');
  const history = await system.call('deal_tracking', 'GET', `/deals/${deal.id}/history`, {
    headers: adminAuth,
  });
  const last = history.body.items.at(-1);
  t.same(last.actor, {
    type: 'user',
    id: last.actor.id,
    name: `${people.redacteur.name} <${people.redacteur.email}>`,
  });
  t.match(last.actor.id, /^staff:/);
  const after = await visitor.get(`/deals/${deal.id}`);
  t.match(after.text, /Rik Redacteur/, 'the console shows who did it');
  t.match(after.text, /Resultaten zijn geborgd/);

  const stale = await visitor.submit(`/deals/${deal.id}`, `/deals/${deal.id}/transitions`, {
    to: 'completed',
    reason: 'op een oude versie',
    version: String(deal.version),
  });
  t.equal(stale.status, 409, 'a change on an old version is refused');
  t.equal((await dealById(deal.id)).phase, 'securing');
  const trail = await listAudit(stack.console.ctx.db, 20);
  t.ok(
    trail.some((e) => e.action === 'deal.transition' && e.outcome === 'ok' && e.target === `deal:${deal.id}`),
  );
});

t.test('a lezer reads but cannot change; the service refuses its token too', async (t) => {
  const visitor = new Visitor(stack.url);
  await visitor.login(people.lezer.email);
  const deal = (await deals()).find((d) => d.phase === 'building')!;
  const page = await visitor.get(`/deals/${deal.id}`);
  t.equal(page.status, 200);
  t.notMatch(page.text, /action="\/deals\/[^"]+\/transitions"/, 'no transition form for a lezer');
  const overview = await visitor.get('/');
  t.equal(overview.status, 200);
  t.match(overview.text, /<svg[^>]*role="img"/);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
  const tried = await visitor.request('POST', `/deals/${deal.id}/transitions`, {
    _csrf: token,
    to: 'delivering',
    reason: 'mag niet',
    version: String(deal.version),
  });
  t.equal(tried.status, 403);
  t.equal((await dealById(deal.id)).phase, 'building', 'nothing changed');

  const { signStaffToken, staffSigningKey } = await import('@citydeals/service-kit');
  const lezerToken = await signStaffToken(
    staffSigningKey(stack.keys.privatePem),
    { id: 'x', name: 'Lex', email: people.lezer.email, role: 'lezer' },
    new Date(),
  );
  const direct = await system.call('deal_tracking', 'POST', `/deals/${deal.id}/transitions`, {
    body: { to: 'delivering', reason: 'mag niet' },
    headers: { authorization: `Bearer ${lezerToken}` },
  });
  t.equal(direct.status, 403, 'deal-tracking refuses a lezer token a change');
  const read = await system.call('deal_tracking', 'GET', `/deals/${deal.id}`, {
    headers: { authorization: `Bearer ${lezerToken}` },
  });
  t.equal(read.status, 200, '…and lets it read');
  const forged = await system.call('deal_tracking', 'GET', `/deals/${deal.id}`, {
    headers: { authorization: `Bearer ${lezerToken.slice(0, -4)}AAAA` },
  });
  t.equal(forged.status, 401, 'a token with a broken signature is refused');
  t.equal((await dealById(deal.id)).phase, 'building');
});

t.test('a deur sees the door only', async (t) => {
  const visitor = new Visitor(stack.url);
  const login = await visitor.login(people.deur.email);
  t.equal(login.headers.get('location'), '/door');
  t.equal((await visitor.get('/')).headers.get('location'), '/door');
  t.equal((await visitor.get('/deals')).status, 403);
});

const meetingBody = (title: string, startsAt: Date) => ({
  title,
  slug: `m-${Math.random().toString(36).slice(2, 10)}`,
  startsAt: startsAt.toISOString(),
  endsAt: new Date(startsAt.getTime() + 10 * 60_000).toISOString(),
  timeZone: 'Europe/Amsterdam',
  venue: { name: 'Hangar', address: 'Binckhorstlaan 36, Den Haag' },
  capacity: 50,
  status: 'published',
});
async function meetingWith(title: string, startsAt: Date, names: string[]) {
  const meeting = await system.call('registration', 'POST', '/admin/meetings', {
    body: meetingBody(title, startsAt),
    headers: adminAuth,
  });
  if (meeting.status !== 201) throw new Error(meeting.text);
  const ids: string[] = [];
  for (const name of names) {
    const res = await system.call('registration', 'POST', `/meetings/${meeting.body.id}/registrations`, {
      body: {
        name,
        email: `${name.toLowerCase().replace(/\W+/g, '.')}@gemeente.example.nl`,
        organisation: 'Gemeente Proef',
        role: 'projectleider',
      },
    });
    if (res.status !== 201) throw new Error(res.text);
    ids.push(res.body.registrationId);
  }
  return { id: meeting.body.id as string, registrations: ids };
}
const registrationStatus = async (id: string) =>
  (await system.call('registration', 'GET', `/admin/registrations/${id}`, { headers: adminAuth })).body
    .status;

let todayMeeting: { id: string; registrations: string[] } | undefined;
t.test('the door: today’s meeting, search, one tap to check in; other meetings refused', async (t) => {
  const today = await meetingWith('Deurtest vandaag', new Date(Date.now() + 5 * 60_000), [
    'Anna de Vries',
    'Bram Jansen',
  ]);
  todayMeeting = today;
  const later = await meetingWith('Later', new Date(Date.now() + 9 * 24 * 3600_000), ['Carla Later']);
  const visitor = new Visitor(stack.url);
  await visitor.login(people.deur.email);
  const door = await visitor.get('/door');
  t.equal(door.status, 200);
  t.match(door.text, /Deurtest vandaag/);
  t.match(door.text, /Anna de Vries/);
  const found = await visitor.get('/door/results?q=bram');
  t.match(found.text, /Bram Jansen/);
  t.notMatch(found.text, /Anna de Vries/, 'search by name narrows the list');

  const checkIn = await visitor.submit('/door?q=anna', '/door/check-in', {
    meetingId: today.id,
    registrationId: today.registrations[0]!,
    q: 'anna',
  });
  t.equal(checkIn.status, 303);
  t.equal(await registrationStatus(today.registrations[0]!), 'checked_in');
  t.match((await visitor.get('/door?q=anna')).text, /Ingecheckt/);

  const { signStaffToken, staffSigningKey } = await import('@citydeals/service-kit');
  const deurToken = await signStaffToken(
    staffSigningKey(stack.keys.privatePem),
    { id: 'd', name: people.deur.name, email: people.deur.email, role: 'deur' },
    new Date(),
  );
  const auth = { authorization: `Bearer ${deurToken}` };
  const otherList = await system.call('registration', 'GET', `/admin/meetings/${later.id}/registrations`, {
    headers: auth,
  });
  t.equal(otherList.status, 403, 'a deur cannot read attendees of another meeting');
  t.notMatch(otherList.text, /Carla/);
  const otherCheckIn = await system.call(
    'registration',
    'POST',
    `/admin/registrations/${later.registrations[0]}/check-in`,
    {
      headers: auth,
    },
  );
  t.equal(otherCheckIn.status, 403);
  t.equal(await registrationStatus(later.registrations[0]!), 'confirmed', 'nothing changed');
  t.equal((await system.call('registration', 'GET', '/admin/meetings', { headers: auth })).status, 403);
  const todayList = await system.call('registration', 'GET', `/admin/meetings/${today.id}/registrations`, {
    headers: auth,
  });
  t.equal(todayList.status, 200, 'today’s attendees are readable by the door');
  const trail = await listAudit(stack.console.ctx.db, 20);
  t.ok(trail.some((e) => e.action === 'door.check-in' && e.who.includes(people.deur.name)));
});

const SCREENSHOTS = new URL('../../../test-artifacts/screenshots/', import.meta.url);

t.test(
  'in a real browser: log in, check in on a phone, move a deal; axe finds nothing serious',
  async (t) => {
    await mkdir(SCREENSHOTS, { recursive: true });
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const cspViolations: string[] = [];
    const watch = (page: Page) =>
      page.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
      });
    const checkPage = async (page: Page, name: string) => {
      t.same(await seriousViolations(page), [], `${name}: no serious or critical axe violation`);
      await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
    };
    const logIn = async (page: Page, email: string) => {
      await page.goto(`${stack.url}/login`);
      await page.getByLabel('E-mailadres').fill(email);
      await page.getByLabel('Wachtwoord').fill(PASSWORD);
      await page.getByRole('button', { name: 'Inloggen' }).click();
    };

    // The door, on a phone.
    const guest = await meetingWithAttendee(todayMeeting!.id, 'Yara Zonneveld');
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const door = await phone.newPage();
    watch(door);
    await door.goto(`${stack.url}/login`);
    await checkPage(door, 'login-phone');
    await logIn(door, people.deur.email);
    await door.waitForURL(/\/door$/);
    await checkPage(door, 'door-phone');
    await door.getByLabel('Zoek op naam').pressSequentially('zonnev', { delay: 20 });
    // Polled from here: the page's CSP refuses the string evaluation waitForFunction would need.
    await eventually(async () => (await door.locator('#attendees li').count()) === 1, 10_000);
    const row = door.locator('#attendees li', { hasText: 'Yara Zonneveld' });
    t.equal(await row.count(), 1, 'the list follows the typing, without a page load');
    await row.getByRole('button', { name: /Inchecken/ }).tap();
    await door.waitForURL(/\/door\?q=zonnev$/);
    await row.filter({ hasText: 'Ingecheckt' }).waitFor();
    t.equal(await registrationStatus(guest), 'checked_in', 'one tap checked the guest in');

    // Deals, on a desktop.
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const office = await desktop.newPage();
    watch(office);
    await logIn(office, people.beheerder.email);
    await office.waitForURL(`${stack.url}/`);
    await checkPage(office, 'overview-desktop');
    await office.getByRole('link', { name: 'Deals', exact: true }).click();
    await checkPage(office, 'deals-desktop');
    const deal = (await deals()).find((d) => d.phase === 'signed')!;
    await office.getByRole('link', { name: deal.name }).click();
    await office.getByLabel('Naar fase').selectOption('building');
    await office.getByLabel('Reden').fill('De uitvoeringsorganisatie staat.');
    await office.getByRole('button', { name: 'Verplaatsen' }).click();
    await office.getByRole('status').waitFor();
    await checkPage(office, 'deal-desktop');
    const history = await system.call('deal_tracking', 'GET', `/deals/${deal.id}/history`, {
      headers: adminAuth,
    });
    t.equal(history.body.items.at(-1).actor.name, `${people.beheerder.name} <${people.beheerder.email}>`);
    t.equal(history.body.items.at(-1).data.reason, 'De uitvoeringsorganisatie staat.');
    const phoneOverview = await phone.newPage();
    await phoneOverview.goto(`${stack.url}/deals/${deal.id}`);
    await checkPage(phoneOverview, 'refused-phone');
    t.same(cspViolations, [], 'the pages work under the CSP');
  },
);

async function meetingWithAttendee(meetingId: string, name: string) {
  const res = await system.call('registration', 'POST', `/meetings/${meetingId}/registrations`, {
    body: { name, email: 'yara@gemeente.example.nl', organisation: 'Gemeente Proef', role: 'projectleider' },
  });
  if (res.status !== 201) throw new Error(res.text);
  return res.body.registrationId as string;
}

t.test('login attempts from one address are limited, whoever they are for', async (t) => {
  const visitor = new Visitor(stack.url);
  let status = 0;
  for (let i = 0; i < 61 && status !== 429; i++) {
    status = (await visitor.login(`nobody-${i}@example.nl`, 'not a password')).status;
  }
  t.equal(status, 429, 'the limit is reached');
  const right = await visitor.login(people.beheerder.email);
  t.equal(right.status, 429, 'then even a right password waits');
  t.notOk(visitor.cookies.has('cd_session'));
});
