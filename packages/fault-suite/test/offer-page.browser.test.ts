/**
 * The waitlist offer from mail to seat, in a real browser (Debian's chromium through playwright-core),
 * against the three services as processes with a recording SMTP server: a seat comes free in a meeting that
 * offers seats, the offer mail arrives with its accept link, opening the link changes nothing, the button
 * confirms the seat and the promoted mail follows. A second offer is left to expire: its page says so kindly
 * and changes nothing. Every page is checked with axe-core (no serious or critical violation) and
 * photographed at phone and desktop size into test-artifacts/screenshots/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { eventually } from '@citydeals/testkit';
import { assertAccessible, launchChromium } from '@citydeals/testkit/browser';
import { simpleParser } from 'mailparser';
import t, { type Test } from 'tap';
import { adminAuth, repoRoot, System } from '../src/system.ts';
import { createMeeting } from '../src/workload.ts';

// Three service processes and a browser: more than the default file timeout.
t.setTimeout(300_000);

const screenshots = path.join(repoRoot, 'test-artifacts', 'screenshots');
const sizes = [
  ['phone', { width: 375, height: 812 }],
  ['desktop', { width: 1280, height: 900 }],
] as const;

// The sweep looks for expired offers every half second, so the second offer runs out within the test.
const system = await System.start({ deferStart: true, env: { registration: { OFFER_SWEEP_MS: '500' } } });
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

async function check(t: Test, name: string) {
  for (const [label, size] of [...sizes].reverse()) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(screenshots, `${name}-${label}.png`), fullPage: true });
  }
  await assertAccessible(t, name, page);
}

async function mailTo(address: string, kind: string) {
  const found = await eventually(
    () => system.mail.received.find((m) => m.to === address && m.kind === kind),
    30_000,
  );
  if (!found) throw new Error(`no ${kind} mail to ${address}`);
  return simpleParser(found.raw);
}

const acceptLinkIn = (text: string | undefined) =>
  new RegExp(`${registration.replaceAll('.', '\\.')}/aanmelding/plek/[A-Za-z0-9_-]{32}`).exec(
    text ?? '',
  )?.[0];

async function register(meetingId: string, name: string, email: string) {
  const res = await system.call('registration', 'POST', `/meetings/${meetingId}/registrations`, {
    body: { name, email, organisation: 'Gemeente Delft', role: 'dealmaker', language: 'nl' },
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`);
  return res.body as { registrationId: string; status: string; manageUrl: string };
}

const statusOf = async (id: string) =>
  (await system.call('registration', 'GET', `/admin/registrations/${id}`, { headers: adminAuth })).body
    .status as string;

t.test('the offer mail’s link opens a page that accepts only on its button', async (t) => {
  const meeting = await createMeeting(system, { capacity: 1, language: 'nl', waitlistPromotion: 'offer' });
  const seated = await register(meeting.id, 'Joost Zitplaats', 'joost.offer@example.org');
  const waiting = await register(meeting.id, 'Kim Wachtlijst', 'kim.offer@example.org');
  t.equal(waiting.status, 'waitlisted');
  const cancel = await system.call(
    'registration',
    'POST',
    `/admin/registrations/${seated.registrationId}/cancel`,
    {
      headers: adminAuth,
    },
  );
  t.equal(cancel.status, 200);

  const offer = await mailTo('kim.offer@example.org', 'waitlist_offer');
  t.match(offer.subject, /^Er is een plek vrij voor je/);
  const link = acceptLinkIn(offer.text);
  t.ok(link, 'the mail carries the accept link');
  t.ok(String(offer.html).includes(`href="${link}"`), 'as a button in the HTML too');

  await page.goto(link!);
  t.equal(await page.locator('h1').textContent(), 'Er is een plek vrij voor je');
  t.ok(await page.getByText(/Bevestig vóór/).isVisible(), 'the deadline is shown');
  await check(t, 'offer');
  t.equal(await statusOf(waiting.registrationId), 'waitlisted', 'opening the link accepted nothing');

  await page.getByRole('button', { name: 'Ja, ik kom: bevestig mijn plek' }).click();
  t.equal(await page.locator('h1').textContent(), 'Je plek is bevestigd');
  await check(t, 'offer-accepted');
  t.equal(await statusOf(waiting.registrationId), 'confirmed', 'the button confirmed the seat');
  const promoted = await mailTo('kim.offer@example.org', 'promoted');
  t.ok(
    promoted.attachments.some((a) => a.filename === 'invite.ics'),
    'the usual promoted mail with its invite',
  );
});

t.test('an offer left to expire: a kind page, nothing changed', async (t) => {
  // Close to the start an offer runs until the start at most: a meeting that starts soon lets it expire.
  const startsAt = new Date(Date.now() + 15_000);
  const meeting = await createMeeting(system, {
    capacity: 1,
    language: 'nl',
    waitlistPromotion: 'offer',
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(),
  });
  const seated = await register(meeting.id, 'Lars Zitplaats', 'lars.offer@example.org');
  const waiting = await register(meeting.id, 'Mila Wachtlijst', 'mila.offer@example.org');
  await system.call('registration', 'POST', `/admin/registrations/${seated.registrationId}/cancel`, {
    headers: adminAuth,
  });
  const offer = await mailTo('mila.offer@example.org', 'waitlist_offer');
  const link = acceptLinkIn(offer.text)!;
  // The offer runs until the start, a few seconds away; then the sweep closes it.
  t.ok(
    await eventually(async () => (await statusOf(waiting.registrationId)) === 'cancelled', 30_000),
    'the sweep ends the offer and the waitlist place',
  );
  await page.goto(link);
  t.equal(await page.locator('h1').textContent(), 'De tijd om te bevestigen is voorbij');
  t.equal(await page.getByRole('button').count(), 0, 'no button to press');
  await check(t, 'offer-expired');
  const api = await system.call(
    'registration',
    'POST',
    `/registrations/offers/${link.split('/').pop()}/accept`,
  );
  t.equal(api.status, 410, 'the API refuses with 410');
  t.equal(await statusOf(waiting.registrationId), 'cancelled', 'nothing changed');
});
