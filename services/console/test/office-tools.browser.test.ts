/**
 * The office's tools beside the meeting pages, in Debian's chromium: the deals as a board by phase (reached
 * from the overview's picture; columns stack on a phone), the agenda, reminders and registration window in the
 * meeting forms (registration's field errors beside the fields, nothing written), and the door's camera
 * scanner really decoding a QR code from chromium's fake camera, which plays a frame made here with the code
 * the confirmation mail carries. Each page passes axe (nothing serious or critical) at phone and desktop size,
 * with screenshots.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DealPhase, dealPhaseTransitions } from '@citydeals/contracts';
import { launchChromium } from '@citydeals/testkit/browser';
import QRCode from 'qrcode';
import t from 'tap';
import { amsterdamLocal, checkPage, loggedIn } from './browser.fixture.ts';
import { adminAuth, people, startConsoleSystem } from './harness.ts';

t.setTimeout(600_000);

const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;

const call = (service: 'registration' | 'deal_tracking', method: string, path: string, body?: unknown) =>
  system.call(service, method as 'GET', path, { headers: adminAuth, ...(body ? { body } : {}) });

const phaseNames = ['Verkenning', 'Getekend', 'Opbouw', 'Uitvoering', 'Borging', 'Afgerond', 'Gestopt'];
const phaseOrder = ['preparing', 'signed', 'building', 'delivering', 'securing', 'completed', 'discontinued'];

t.test('the deals as a board: a column per phase in deal-tracking’s order, a card per deal', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const csp: string[] = [];
  const deals = (await call('deal_tracking', 'GET', '/deals?limit=500')).body.items as {
    id: string;
    name: string;
    phase: DealPhase;
  }[];
  t.ok(deals.length > 1, 'the demo deals are there');

  for (const size of ['desktop', 'phone'] as const) {
    const page = await loggedIn(browser, stack.url, people.lezer.email, size, csp);
    await checkPage(t, page, 'overview-lezer', size);
    // The overview's picture of the deals by phase leads to the board.
    await page.getByRole('link', { name: /^Deals per fase.*Als bord per fase$/ }).click();
    await page.waitForURL(`${stack.url}/deals/board`);
    const columns = page.locator('.board-column');
    t.same(
      await columns.locator('h2').evaluateAll((hs) => hs.map((h) => h.firstChild?.textContent?.trim())),
      phaseNames,
      `${size}: a column per phase, in deal-tracking's order`,
    );
    const shown = await columns.evaluateAll((cs) =>
      cs.map((c) => [...c.querySelectorAll('.card a')].map((a) => a.getAttribute('href'))),
    );
    t.same(
      shown.map((hrefs) => [...hrefs].sort()),
      phaseOrder.map((phase) =>
        deals
          .filter((d) => d.phase === phase)
          .map((d) => `/deals/${d.id}`)
          .sort(),
      ),
      `${size}: each deal as a card in the column of its phase, linking to its page`,
    );
    const [first, second] = [await columns.nth(0).boundingBox(), await columns.nth(1).boundingBox()];
    if (size === 'phone') {
      t.ok(second!.y >= first!.y + first!.height, 'phone: the columns stack');
      t.equal(Math.round(second!.x), Math.round(first!.x), 'phone: one above the other');
    } else {
      t.equal(Math.round(second!.y), Math.round(first!.y), 'desktop: the columns stand side by side');
    }
    await checkPage(t, page, 'deals-board', size);
    const deal = deals[0]!;
    await page.locator('.card a', { hasText: deal.name }).click();
    await page.waitForURL(`${stack.url}/deals/${deal.id}`);
    // The list offers the board as well.
    await page.goto(`${stack.url}/deals`);
    await page.getByRole('link', { name: 'Als bord per fase' }).click();
    await page.waitForURL(`${stack.url}/deals/board`);
  }

  // A deal moved in deal-tracking is in its new column at the next look.
  const deal = deals.find((d) => dealPhaseTransitions[d.phase].length > 0)!;
  const to = dealPhaseTransitions[deal.phase][0]!;
  const current = (await call('deal_tracking', 'GET', `/deals/${deal.id}`)).body;
  const moved = await system.call('deal_tracking', 'POST', `/deals/${deal.id}/transitions`, {
    headers: { ...adminAuth, 'if-match': `"${current.version}"` },
    body: { to, reason: 'verder op het bord' },
  });
  t.equal(moved.status, 200);
  const page = await loggedIn(browser, stack.url, people.lezer.email, 'desktop', csp);
  await page.goto(`${stack.url}/deals/board`);
  t.equal(await page.locator(`.phase-${to} .card a`, { hasText: deal.name }).count(), 1, 'moved along');
  t.equal(await page.locator(`.phase-${deal.phase} .card a`, { hasText: deal.name }).count(), 0);
  t.same(csp, [], 'the board works under the CSP');
});

t.test(
  'the meeting forms carry the agenda, reminders and registration window; bad input stays out',
  async (t) => {
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const csp: string[] = [];
    const office = await loggedIn(browser, stack.url, people.redacteur.email, 'desktop', csp);
    const phone = await loggedIn(browser, stack.url, people.redacteur.email, 'phone', csp);
    const slug = `cop-agenda-${Date.now().toString(36)}`;
    const start = new Date(Date.now() + 3 * 24 * 3600_000);
    const bySlug = async () =>
      (
        (await call('registration', 'GET', '/admin/meetings')).body.items as { slug: string; id: string }[]
      ).find((m) => m.slug === slug);

    await office.goto(`${stack.url}/meetings/new`);
    await office.getByLabel('Titel', { exact: true }).fill('CoP agenda');
    await office.getByLabel('Korte naam in de link (slug)').fill(slug);
    await office.getByLabel('Begint').fill(amsterdamLocal(start));
    await office.getByLabel('Eindigt').fill(amsterdamLocal(new Date(start.getTime() + 4 * 3600_000)));
    await office.getByLabel('Capaciteit').fill('30');
    await office.getByLabel('Locatie').fill('Hangar');
    await office.getByLabel('Adres').fill('Binckhorstlaan 36, Den Haag');
    await office.getByLabel('Taal van de bijeenkomst').selectOption('en');
    await office.getByLabel('Onderdeel 1: tijd').fill('13:00');
    await office.getByLabel('Onderdeel 1: onderwerp').fill('Welcome');
    await office.getByLabel('Onderdeel 2: tijd').fill('13:30');
    await office.getByLabel('Onderdeel 2: onderwerp').fill('Design session');
    await office.getByLabel('Onderdeel 2: soort').selectOption('workshop');
    // A time without a subject: registration refuses the item.
    await office.getByLabel('Onderdeel 3: tijd').fill('17:00');
    await office.getByLabel('1 week', { exact: true }).uncheck();
    await office.getByLabel('2 uur', { exact: true }).check();
    await office.getByLabel(/Andere tijden/).fill('P10D');
    await office.getByLabel('Aanmelden opent').fill(amsterdamLocal(new Date(Date.now() - 3600_000)));
    await office.getByLabel('Aanmelden sluit').fill(amsterdamLocal(new Date(start.getTime() - 3600_000)));
    await office.getByRole('button', { name: 'Aanmaken' }).click();
    await office.getByRole('alert').filter({ hasText: 'Controleer de gemarkeerde velden.' }).waitFor();
    t.match(
      await office.locator('#agendaTitle2-error').textContent(),
      /\S/,
      'the subject of the third item has registration’s error beside it',
    );
    t.equal(await office.getByLabel('Onderdeel 3: onderwerp').getAttribute('aria-invalid'), 'true');
    t.equal(await office.getByLabel('Onderdeel 2: onderwerp').inputValue(), 'Design session', 'input kept');
    t.equal(await bySlug(), undefined, 'nothing written');

    // Registration's own rules: closing after the start, a reminder of a month (no fixed length).
    await office.getByLabel('Onderdeel 3: onderwerp').fill('Drinks');
    await office.getByLabel('Onderdeel 3: soort').selectOption('drinks');
    await office.getByLabel(/Andere tijden/).fill('P10D P1M');
    await office.getByLabel('Aanmelden sluit').fill(amsterdamLocal(new Date(start.getTime() + 3600_000)));
    await office.getByRole('button', { name: 'Aanmaken' }).click();
    await office.locator('#registrationClosesAt-error').waitFor();
    t.equal(
      await office.locator('#registrationClosesAt-error').textContent(),
      'registration must close no later than the start',
      'the window’s error beside its field, as registration words it',
    );
    t.match(
      await office.locator('#reminders-error').textContent(),
      /P1M/,
      'the reminder’s beside the reminders',
    );
    t.equal(await bySlug(), undefined, 'nothing written');
    await checkPage(t, office, 'meeting-new-details-errors', 'desktop');

    await office.getByLabel(/Andere tijden/).fill('P10D');
    const closes = new Date(start.getTime() - 3600_000);
    await office.getByLabel('Aanmelden sluit').fill(amsterdamLocal(closes));
    await office.getByRole('button', { name: 'Aanmaken' }).click();
    await office.getByRole('status').filter({ hasText: 'Doorgevoerd' }).waitFor();
    const id = new URL(office.url()).pathname.split('/')[2]!;
    const created = (await call('registration', 'GET', `/admin/meetings/${id}`)).body;
    t.same(
      created.agenda,
      [
        { time: '13:00', title: 'Welcome', kind: 'plenary' },
        { time: '13:30', title: 'Design session', kind: 'workshop' },
        { time: '17:00', title: 'Drinks', kind: 'drinks' },
      ],
      'the agenda as written',
    );
    t.equal(created.language, 'en');
    t.same([...created.reminderOffsets].sort(), ['P10D', 'P1D', 'PT2H'], 'the reminders chosen and typed');
    t.equal(
      new Date(created.registrationClosesAt).toISOString(),
      new Date(Math.floor(closes.getTime() / 60_000) * 60_000).toISOString(),
      'the window, read in the meeting’s zone',
    );
    t.ok(created.registrationOpensAt, 'opens as set');

    // Editing: the form holds what registration has; a change goes through the confirmation step.
    await phone.goto(`${stack.url}/meetings/${id}/edit`);
    t.equal(await phone.getByLabel('Onderdeel 2: onderwerp').inputValue(), 'Design session');
    t.ok(await phone.getByLabel('2 uur', { exact: true }).isChecked());
    t.equal(await phone.getByLabel(/Andere tijden/).inputValue(), 'P10D');
    t.equal(await phone.getByLabel('Aanmelden sluit').inputValue(), amsterdamLocal(closes));
    await checkPage(t, phone, 'meeting-edit-details', 'phone');
    await office.goto(`${stack.url}/meetings/${id}/edit`);
    await checkPage(t, office, 'meeting-edit-details', 'desktop');
    await office.getByLabel('Onderdeel 4: tijd').fill('18:00');
    await office.getByLabel('Onderdeel 4: onderwerp').fill('Dinner');
    await office.getByLabel('Aanmelden sluit').fill(amsterdamLocal(new Date(start.getTime() + 3600_000)));
    await office.getByRole('button', { name: 'Wijzigen' }).click();
    await office.getByRole('button', { name: 'Ja, doorvoeren' }).click();
    await office.locator('#registrationClosesAt-error').waitFor();
    t.equal(await office.getByLabel('Onderdeel 4: onderwerp').inputValue(), 'Dinner', 'input kept');
    const unchanged = (await call('registration', 'GET', `/admin/meetings/${id}`)).body;
    t.equal(unchanged.version, created.version, 'nothing written');
    await office.getByLabel('Aanmelden sluit').fill('');
    await office.getByLabel('2 uur', { exact: true }).uncheck();
    await office.getByLabel('Onderdeel 1: onderwerp').fill('');
    await office.getByLabel('Onderdeel 1: tijd').fill('');
    await office.getByRole('button', { name: 'Wijzigen' }).click();
    await office.getByRole('button', { name: 'Ja, doorvoeren' }).click();
    await office.getByRole('status').filter({ hasText: 'Doorgevoerd' }).waitFor();
    const edited = (await call('registration', 'GET', `/admin/meetings/${id}`)).body;
    t.same(
      edited.agenda.map((a: { title: string }) => a.title),
      ['Design session', 'Drinks', 'Dinner'],
      'an item emptied is gone, one added is there',
    );
    t.same([...edited.reminderOffsets].sort(), ['P10D', 'P1D']);
    t.equal(edited.registrationClosesAt, null, 'an emptied window closes at the start again');
    t.same(csp, [], 'the forms work under the CSP');
  },
);

/**
 * One video frame in Y4M (4:2:0) showing the QR code as the confirmation mail makes it (services/notification's
 * door-qr.ts: the door address, error correction M, a quiet zone of four modules), black on white, centred.
 */
function qrFrame(text: string, width = 640, height = 480): Buffer {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const quiet = 4;
  const scale = Math.floor(Math.min(width, height) / (modules.size + 2 * quiet));
  const left = Math.floor((width - modules.size * scale) / 2);
  const top = Math.floor((height - modules.size * scale) / 2);
  const luma = Buffer.alloc(width * height, 235);
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (!modules.get(row, col)) continue;
      for (let y = 0; y < scale; y++) {
        luma.fill(
          16,
          (top + row * scale + y) * width + left + col * scale,
          (top + row * scale + y) * width + left + (col + 1) * scale,
        );
      }
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\nFRAME\n`);
  return Buffer.concat([header, luma, chroma]);
}

t.test(
  'the door scanner decodes the mail’s QR code from the camera and the attendee is checked in',
  async (t) => {
    const start = new Date(Date.now() + 5 * 60_000);
    const meeting = await call('registration', 'POST', '/admin/meetings', {
      title: 'CoP vandaag',
      slug: `cop-vandaag-${Date.now().toString(36)}`,
      startsAt: start.toISOString(),
      endsAt: new Date(start.getTime() + 2 * 3600_000).toISOString(),
      venue: { name: 'Stadhuis', address: 'Spui 70, Den Haag' },
      capacity: 10,
      status: 'published',
    });
    t.equal(meeting.status, 201);
    const added = await call('registration', 'POST', `/admin/meetings/${meeting.body.id}/registrations`, {
      name: 'Quinten QR',
      email: 'quinten@example.org',
    });
    const registrationId = added.body.registrationId as string;
    t.equal(
      (await call('registration', 'GET', `/admin/registrations/${registrationId}`)).body.status,
      'confirmed',
    );

    const dir = await mkdtemp(join(tmpdir(), 'door-camera-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const video = join(dir, 'qr.y4m');
    await writeFile(video, qrFrame(`${stack.url}/door/scan/${registrationId}`));
    const browser = await launchChromium({
      args: [
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${video}`,
      ],
    });
    t.teardown(() => browser.close());
    const csp: string[] = [];
    const door = await loggedIn(browser, stack.url, people.deur.email, 'phone', csp);
    await door.context().grantPermissions(['camera'], { origin: stack.url });
    const decoderLoaded: string[] = [];
    door.on('response', (r) => {
      if (r.url().endsWith('/static/jsqr.js')) decoderLoaded.push(String(r.status()));
    });
    await door.goto(`${stack.url}/door`);
    t.notOk(await door.evaluate("'BarcodeDetector' in window"), 'this chromium has no BarcodeDetector');
    await checkPage(t, door, 'door-scanner', 'phone');
    await door.getByRole('button', { name: 'QR-code scannen' }).tap();
    await door.waitForURL(`${stack.url}/door/scan/${registrationId}`);
    t.same(decoderLoaded, ['200'], 'read by the console’s own copy of jsQR');
    await door.getByRole('button', { name: 'Inchecken: Quinten QR' }).tap();
    await door.waitForURL(`${stack.url}/door`);
    t.equal(
      (await call('registration', 'GET', `/admin/registrations/${registrationId}`)).body.status,
      'checked_in',
      'camera, code, tap: checked in at registration',
    );
    t.same(csp, [], 'the scanner works under the CSP');
  },
);
