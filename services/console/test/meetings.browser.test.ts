/**
 * The meeting and door pages in Debian's chromium: an editor creates and publishes a meeting (seeing what
 * publishing does before confirming), someone registers on the public page, the editor finds them in the
 * attendee list, raises the capacity after being told who moves up from the waitlist, adds a speaker above
 * capacity and exports the list; the door checks the attendee in on a phone and undoes it. Each page passes
 * axe (nothing serious or critical) at phone and desktop size, with screenshots. Then every role that may not
 * is tried against every meeting page and action: refused, nothing changed.
 */
import { mkdir } from 'node:fs/promises';
import { eventually } from '@citydeals/testkit';
import { launchChromium, seriousViolations } from '@citydeals/testkit/browser';
import type { BrowserContext, Page } from 'playwright-core';
import t from 'tap';
import { listAudit } from '../src/audit/audit.repository.ts';
import { adminAuth, PASSWORD, people, startConsoleSystem, Visitor } from './harness.ts';

t.setTimeout(600_000);
const stack = await startConsoleSystem(
  {},
  { registration: { PROOF_OF_WORK_COST: '1000', PROOF_OF_WORK_MAX_COUNTER: '100' } },
);
t.teardown(() => stack.close());
const { system } = stack;
const SCREENSHOTS = new URL('../../../test-artifacts/screenshots/', import.meta.url);

const registrationCall = (method: string, path: string, body?: unknown) =>
  system.call('registration', method as 'GET', path, { headers: adminAuth, ...(body ? { body } : {}) });

/** Wall-clock time in Amsterdam as a datetime-local field takes it. */
const amsterdamLocal = (instant: Date) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Amsterdam',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  })
    .format(instant)
    .replace(' ', 'T');

let meetingId = '';
let meetingSlug = '';
let attendeeId = '';

t.test(
  'in a real browser: a meeting from creation to the door, each change confirmed with its consequences',
  async (t) => {
    await mkdir(SCREENSHOTS, { recursive: true });
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const cspViolations: string[] = [];
    const open = async (context: BrowserContext) => {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
      });
      return page;
    };
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const phoneOffice = await open(phone);
    /** axe on the page and a screenshot; the same address once more at the other size. */
    const checkPage = async (page: Page, name: string, size: 'desktop' | 'phone') => {
      t.same(await seriousViolations(page), [], `${name}-${size}: no serious or critical axe violation`);
      await page.screenshot({ path: new URL(`${name}-${size}.png`, SCREENSHOTS).pathname, fullPage: true });
    };
    const logIn = async (page: Page, email: string) => {
      await page.goto(`${stack.url}/login`);
      await page.getByLabel('E-mailadres').fill(email);
      await page.getByLabel('Wachtwoord').fill(PASSWORD);
      await page.getByRole('button', { name: 'Inloggen' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
    };
    /** Same page on the phone, for its axe run and screenshot (GET pages only). */
    const alsoOnPhone = async (url: string, name: string) => {
      await phoneOffice.goto(url);
      await checkPage(phoneOffice, name, 'phone');
    };

    const office = await open(desktop);
    await logIn(office, people.redacteur.email);
    await logIn(phoneOffice, people.redacteur.email);

    // Create, as a draft.
    await office.getByRole('link', { name: 'Bijeenkomsten' }).click();
    await checkPage(office, 'meetings', 'desktop');
    await alsoOnPhone(office.url(), 'meetings');
    await office.getByRole('link', { name: 'Nieuwe bijeenkomst' }).click();
    await checkPage(office, 'meeting-new', 'desktop');
    await alsoOnPhone(office.url(), 'meeting-new');
    const start = new Date(Date.now() + 20 * 60_000);
    meetingSlug = `cop-browser-${Date.now().toString(36)}`;
    await office.getByLabel('Titel').fill('CoP browserproef');
    await office.getByLabel('Korte naam in de link (slug)').fill(meetingSlug);
    await office.getByLabel('Begint').fill(amsterdamLocal(start));
    await office.getByLabel('Eindigt').fill(amsterdamLocal(new Date(start.getTime() + 2 * 3600_000)));
    await office.getByLabel('Capaciteit').fill('1');
    await office.getByLabel('Locatie').fill('Stadhuis');
    await office.getByLabel('Adres').fill('Spui 70, Den Haag');
    await office.getByRole('button', { name: 'Aanmaken' }).click();
    await office.getByRole('status').filter({ hasText: 'Doorgevoerd' }).waitFor();
    meetingId = new URL(office.url()).pathname.split('/')[2]!;
    t.equal((await registrationCall('GET', `/admin/meetings/${meetingId}`)).body.status, 'draft');

    // Publish: first what it does, then done.
    await office.getByRole('button', { name: 'Publiceren' }).click();
    await office.getByText('De bijeenkomst komt op de openbare pagina en aanmelden gaat open.').waitFor();
    t.equal(
      (await registrationCall('GET', `/admin/meetings/${meetingId}`)).body.status,
      'draft',
      'not before confirming',
    );
    await checkPage(office, 'meeting-confirm', 'desktop');
    await office.getByRole('button', { name: 'Ja, doorvoeren' }).click();
    await office.getByRole('status').filter({ hasText: 'Doorgevoerd' }).waitFor();
    t.equal((await registrationCall('GET', `/admin/meetings/${meetingId}`)).body.status, 'published');

    // Someone registers on the public page (with its proof of work solved in the browser).
    const visitor = await open(phone);
    await visitor.goto(`${system.url('registration')}/bijeenkomsten/${meetingSlug}`);
    await visitor.getByRole('textbox', { name: 'Naam (verplicht)' }).fill('Iris de Boer');
    await visitor.getByRole('textbox', { name: 'E-mailadres (verplicht)' }).fill('iris.console@example.org');
    await visitor.getByRole('textbox', { name: 'Organisatie (verplicht)' }).fill('Gemeente Delft');
    await visitor.getByRole('combobox', { name: 'Rol (verplicht)' }).selectOption('projectsecretaris');
    await eventually(
      async () =>
        (await visitor
          .locator('input[name="altcha"]')
          .inputValue()
          .catch(() => '')) || undefined,
      60_000,
      200,
    );
    await visitor.getByRole('button', { name: 'Aanmelden' }).click();
    await visitor.waitForURL(/\/aanmelden$/);
    // A second one lands on the waitlist (capacity 1).
    const waiting = await system.call('registration', 'POST', `/meetings/${meetingId}/registrations`, {
      body: { name: 'Wim Wachter', email: 'wim@example.org', organisation: 'Provincie', role: 'partner' },
    });
    t.equal(waiting.body.status, 'waitlisted');

    // The attendee appears in the console's list; search and filter narrow it.
    await office.goto(`${stack.url}/meetings/${meetingId}`);
    await office.locator('#attendee-table', { hasText: 'Iris de Boer' }).waitFor();
    await checkPage(office, 'meeting', 'desktop');
    await alsoOnPhone(office.url(), 'meeting');
    await office.getByLabel('Zoek op naam, e-mail of organisatie').fill('delft');
    await office.getByRole('button', { name: 'Filteren' }).click();
    t.equal(await office.locator('#attendee-table tbody tr').count(), 1, 'search narrows the list');
    await office.getByLabel('Zoek op naam, e-mail of organisatie').fill('');
    await office.getByLabel('Status').selectOption('waitlisted');
    await office.getByRole('button', { name: 'Filteren' }).click();
    t.match(await office.locator('#attendee-table tbody').textContent(), /Wim Wachter/);
    t.notMatch(await office.locator('#attendee-table tbody').textContent(), /Iris/, 'the status filter too');
    const csv = await office.request.get(`${stack.url}/meetings/${meetingId}/attendees.csv`);
    t.equal(csv.status(), 200);
    t.match(csv.headers()['content-type'], /text\/csv/);
    t.match(await csv.text(), /Iris de Boer/, 'the CSV export carries the attendees');

    // Capacity up: told first that one moves up from the waitlist.
    await office.goto(`${stack.url}/meetings/${meetingId}`);
    await office.getByLabel('Capaciteit').fill('2');
    await office.getByRole('button', { name: 'Capaciteit wijzigen' }).click();
    await office.getByText('1 van de wachtlijst krijgt een plaats.').waitFor();
    t.equal(
      (await registrationCall('GET', `/admin/meetings/${meetingId}`)).body.capacity,
      1,
      'not before confirming',
    );
    await office.getByRole('button', { name: 'Ja, doorvoeren' }).click();
    await office.getByRole('status').filter({ hasText: 'Doorgevoerd' }).waitFor();
    const seats = (await registrationCall('GET', `/admin/meetings/${meetingId}`)).body.seats;
    t.match(seats, { capacity: 2, confirmed: 2, waitlisted: 0 }, 'the one waiting got the seat');

    await phoneOffice.goto(`${stack.url}/meetings/${meetingId}`);
    await phoneOffice.getByLabel('Capaciteit').fill('3');
    await phoneOffice.getByRole('button', { name: 'Capaciteit wijzigen' }).tap();
    await phoneOffice.getByText('Wat er gebeurt').waitFor();
    await checkPage(phoneOffice, 'meeting-confirm', 'phone');

    // Reschedule: the page says who will be told; going back changes nothing.
    await office.locator('#r-start').fill(amsterdamLocal(new Date(start.getTime() + 10 * 60_000)));
    await office.getByRole('button', { name: 'Verplaatsen' }).click();
    await office.getByText('2 deelnemers krijgen hierover een mail.').waitFor();
    await office.getByRole('link', { name: 'Terug' }).click();

    // A speaker above capacity.
    await office.getByRole('link', { name: 'Deelnemer toevoegen' }).click();
    await checkPage(office, 'attendee-new', 'desktop');
    await alsoOnPhone(office.url(), 'attendee-new');
    await office.getByLabel('Naam').fill('Sam Spreker');
    await office.getByLabel('E-mailadres').fill('sam@example.org');
    await office.getByRole('button', { name: 'Toevoegen' }).click();
    await office.getByRole('alert').waitFor();
    await office.getByLabel('Ook boven de capaciteit (spreker, gast)').check();
    await office.getByRole('button', { name: 'Toevoegen' }).click();
    await office.getByRole('status').filter({ hasText: 'Deelnemer toegevoegd' }).waitFor();
    t.match(
      (await registrationCall('GET', `/admin/meetings/${meetingId}`)).body.seats,
      { capacity: 2, confirmed: 3 },
      'a seat above capacity',
    );

    // Wim cannot come; a colleague takes his seat.
    await office.goto(`${stack.url}/meetings/${meetingId}`);
    await office.getByRole('link', { name: 'wijzigen: Wim Wachter' }).click();
    await checkPage(office, 'attendee-change', 'desktop');
    await alsoOnPhone(office.url(), 'attendee-change');
    await office.getByLabel('Naam').fill('Vera Vervanger');
    await office.getByLabel('E-mailadres').fill('vera@example.org');
    await office.getByLabel(/Iemand anders neemt deze plaats over/).check();
    await office.getByRole('button', { name: 'Opslaan' }).click();
    await office.getByRole('status').filter({ hasText: 'Doorgevoerd' }).waitFor();
    const wim = waiting.body.registrationId as string;
    t.match(
      (await registrationCall('GET', `/admin/registrations/${wim}`)).body,
      { name: 'Vera Vervanger', email: 'vera@example.org', status: 'confirmed' },
      'the seat is Vera’s now',
    );
    t.match(await office.locator('#attendee-table').textContent(), /Vera Vervanger/);

    // A meeting held last year where one person of a deal came, for the attendance picture.
    const deal = (await system.call('registration', 'GET', '/deals')).body.items[0] as {
      id: string;
      name: string;
    };
    const held = await registrationCall('POST', '/admin/meetings', {
      title: 'CoP vorig jaar',
      slug: `cop-held-${Date.now().toString(36)}`,
      startsAt: '2025-11-20T13:00',
      endsAt: '2025-11-20T17:00',
      venue: { name: 'Hangar', address: 'Den Haag' },
      capacity: 10,
      status: 'published',
    });
    const came = await registrationCall('POST', `/admin/meetings/${held.body.id}/registrations`, {
      name: 'Cas Gekomen',
      email: 'cas@example.org',
      dealId: deal.id,
    });
    await registrationCall('POST', `/admin/registrations/${came.body.registrationId}/check-in`);

    // Overview and attendance pictures.
    await office.goto(`${stack.url}/`);
    t.equal(
      await office.locator('#registrations-chart-title').count(),
      1,
      'registrations over time as a chart',
    );
    await checkPage(office, 'overview-chart', 'desktop');
    await alsoOnPhone(`${stack.url}/`, 'overview-chart');
    await office.getByRole('link', { name: 'Aanwezigheid per deal' }).click();
    t.match(
      await office.locator('#attendance-chart-title').textContent(),
      `${deal.name}: 1 van 1`,
      'attendance per deal as a picture, from registration’s report',
    );
    await checkPage(office, 'attendance', 'desktop');
    await alsoOnPhone(office.url(), 'attendance');

    // The door, on a phone: check in, then undo.
    const list = await registrationCall('GET', `/admin/meetings/${meetingId}/registrations?q=iris`);
    attendeeId = list.body.items[0].registrationId;
    // Own contexts: a browser context shares its cookies, and the editor is logged in in the others.
    const doorPhone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const door = await open(doorPhone);
    await logIn(door, people.deur.email);
    await door.goto(`${stack.url}/door`);
    await door.getByLabel('Zoek op naam').pressSequentially('iris', { delay: 20 });
    await eventually(async () => (await door.locator('#attendees li').count()) === 1, 10_000);
    const row = door.locator('#attendees li', { hasText: 'Iris de Boer' });
    await row.getByRole('button', { name: /Inchecken/ }).tap();
    await row.filter({ hasText: 'Ingecheckt' }).waitFor();
    t.equal((await registrationCall('GET', `/admin/registrations/${attendeeId}`)).body.status, 'checked_in');
    await checkPage(door, 'door-undo', 'phone');
    const doorDesktop = await open(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    await logIn(doorDesktop, people.deur.email);
    await doorDesktop.goto(`${stack.url}/door`);
    await checkPage(doorDesktop, 'door-undo', 'desktop');
    await row.getByRole('button', { name: /Ongedaan maken/ }).tap();
    await row.getByRole('button', { name: /Inchecken/ }).waitFor();
    t.equal(
      (await registrationCall('GET', `/admin/registrations/${attendeeId}`)).body.status,
      'confirmed',
      'undone',
    );

    // What the QR code in the mail opens: the attendee with one button.
    await door.goto(`${stack.url}/door/scan/${attendeeId}`);
    await checkPage(door, 'door-scan', 'phone');
    await door.getByRole('button', { name: /Inchecken/ }).tap();
    await door.waitForURL(/\/door$/);
    t.equal(
      (await registrationCall('GET', `/admin/registrations/${attendeeId}`)).body.status,
      'checked_in',
      'scan, tap, in',
    );
    const desktopDoor = await open(await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    await logIn(desktopDoor, people.deur.email);
    await desktopDoor.goto(`${stack.url}/door/scan/${attendeeId}`);
    await checkPage(desktopDoor, 'door-scan', 'desktop');

    // Each change in registration under the person's name, and in the console's audit trail.
    const actions = (await registrationCall('GET', `/admin/meetings/${meetingId}/staff-actions`)).body
      .items as {
      action: string;
      actor: { name: string };
    }[];
    const who = (action: string) => actions.filter((a) => a.action === action).map((a) => a.actor.name);
    const rik = `${people.redacteur.name} <${people.redacteur.email}>`;
    const dora = `${people.deur.name} <${people.deur.email}>`;
    t.same(who('POST /admin/meetings/:id/publish'), [rik]);
    t.same(who('PUT /admin/meetings/:id/capacity'), [rik]);
    t.same(who('POST /admin/meetings/:id/registrations'), [rik]);
    t.same(who('PATCH /admin/registrations/:id'), [rik]);
    t.same(who('POST /admin/registrations/:id/check-in/undo'), [dora]);
    t.same(who('POST /admin/registrations/:id/check-in'), [dora, dora]);
    const trail = await listAudit(stack.console.ctx.db, 200);
    for (const action of [
      'meeting.create',
      'meeting.publish',
      'meeting.capacity',
      'meeting.add-attendee',
      'door.undo-check-in',
    ]) {
      t.ok(
        trail.some((e) => e.action === action && e.outcome === 'ok'),
        `${action} in the console's audit trail`,
      );
    }
    t.same(cspViolations, [], 'the pages work under the CSP');
  },
);

t.test(
  'the door scanner: where the browser reads QR codes, a code opens its check-in on this site',
  async (t) => {
    // Where the browser has a BarcodeDetector (Chrome on Android) the console uses it; Debian's chromium has
    // none, so it is stood in for here — a detector that "sees" a code naming another host — and the camera
    // is chromium's fake device.
    // What runs is the console's own script: the button appears, the camera starts, the code's door path is
    // followed on the console itself.
    const browser = await launchChromium({
      args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
    t.teardown(() => browser.close());
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await context.grantPermissions(['camera'], { origin: stack.url });
    const plain = await context.newPage();
    await plain.goto(`${stack.url}/login`);
    await plain.getByLabel('E-mailadres').fill(people.deur.email);
    await plain.getByLabel('Wachtwoord').fill(PASSWORD);
    await plain.getByRole('button', { name: 'Inloggen' }).click();
    await plain.waitForURL(/\/door$/);
    // Without a detector the console's own decoder reads the camera (office-tools.browser.test.ts decodes a
    // real code with it); the button is there either way.
    t.ok(
      await plain.getByRole('button', { name: 'QR-code scannen' }).isVisible(),
      'no detector: the scan button all the same',
    );
    const page = await context.newPage();
    // As a string: a function would be compiled by tsx with helpers the page does not have.
    const seen = JSON.stringify(`https://elders.example.org/door/scan/${attendeeId}`);
    await page.addInitScript({
      content: `window.BarcodeDetector = class { async detect() { return [{ rawValue: ${seen} }]; } };`,
    });
    await page.goto(`${stack.url}/door`);
    await page.getByRole('button', { name: 'QR-code scannen' }).tap();
    await page.waitForURL(`${stack.url}/door/scan/${attendeeId}`);
    t.ok(
      await page.getByText('Iris de Boer').isVisible(),
      'the scanned attendee, on the console, with one button',
    );
  },
);

t.test(
  'roles: the read-only and door accounts are refused every meeting page and action; nothing changes',
  async (t) => {
    const other = await registrationCall('POST', '/admin/meetings', {
      title: 'Later',
      slug: `later-${Date.now().toString(36)}`,
      startsAt: '2031-03-11T13:00',
      endsAt: '2031-03-11T17:00',
      venue: { name: 'Hal', address: 'Straat 1' },
      capacity: 5,
      status: 'published',
    });
    const later = await system.call('registration', 'POST', `/meetings/${other.body.id}/registrations`, {
      body: { name: 'Lotte Later', email: 'lotte@example.org', organisation: 'Gemeente', role: 'partner' },
    });
    const state = async () => {
      const m = (await registrationCall('GET', `/admin/meetings/${meetingId}`)).body;
      const regs = (await registrationCall('GET', `/admin/meetings/${meetingId}/registrations`)).body.items;
      return {
        version: m.version,
        status: m.status,
        capacity: m.capacity,
        registrations: regs.map((r: { name: string; status: string; version: number }) => [
          r.name,
          r.status,
          r.version,
        ]),
      };
    };
    const before = await state();
    const pages = [
      '/meetings',
      '/meetings/new',
      `/meetings/${meetingId}`,
      `/meetings/${meetingId}/edit`,
      `/meetings/${meetingId}/attendees.csv`,
      `/meetings/${meetingId}/attendees/new`,
      '/reports/attendance',
    ];
    const actions: [string, Record<string, string>][] = [
      [
        '/meetings',
        {
          title: 'X',
          slug: 'x-role',
          startsAt: '2031-01-01T10:00',
          endsAt: '2031-01-01T11:00',
          capacity: '5',
          venueName: 'a',
          venueAddress: 'b',
        },
      ],
      [`/meetings/${meetingId}/publish`, { confirm: '1' }],
      [`/meetings/${meetingId}/capacity`, { capacity: '50', confirm: '1' }],
      [
        `/meetings/${meetingId}/reschedule`,
        { startsAt: '2031-01-01T10:00', endsAt: '2031-01-01T11:00', confirm: '1' },
      ],
      [`/meetings/${meetingId}/cancel`, { reason: 'nee', confirm: '1' }],
      [
        `/meetings/${meetingId}/edit`,
        { title: 'Gekaapt', slug: meetingSlug, venueName: 'a', venueAddress: 'b', confirm: '1' },
      ],
      [`/meetings/${meetingId}/attendees`, { name: 'Indringer', email: 'in@example.org', overCapacity: '1' }],
    ];
    for (const role of ['lezer', 'deur'] as const) {
      const v = new Visitor(stack.url);
      await v.login(people[role].email);
      for (const path of pages) t.equal((await v.get(path)).status, 403, `${role}: GET ${path} refused`);
      for (const [path, form] of actions) {
        // With the session's own CSRF token: the role is what refuses it.
        const res = await v.submit('/door', path, form);
        t.equal(res.status, 403, `${role}: POST ${path} refused`);
      }
    }
    const lezer = new Visitor(stack.url);
    await lezer.login(people.lezer.email);
    for (const path of ['/door/undo', '/door/check-in']) {
      const res = await lezer.submit('/', path, { meetingId, registrationId: attendeeId });
      t.equal(res.status, 403, `lezer: POST ${path} refused`);
    }
    const deur = new Visitor(stack.url);
    await deur.login(people.deur.email);
    const elsewhere = await deur.get(`/door/scan/${later.body.registrationId}`);
    t.equal(elsewhere.status, 404, 'the door cannot open an attendee of another meeting');
    t.notMatch(elsewhere.text, /Lotte Later/);
    const undoElsewhere = await deur.submit('/door', '/door/undo', {
      meetingId: other.body.id,
      registrationId: later.body.registrationId,
    });
    t.equal(undoElsewhere.status, 403, 'nor undo anything there (registration refuses the door token)');
    t.same(await state(), before, 'nothing changed');
    const refusals = (await listAudit(stack.console.ctx.db, 500)).filter((e) => e.outcome === 'refused');
    t.ok(refusals.length >= 2 * (pages.length + actions.length), 'every refusal is in the audit trail');
  },
);
