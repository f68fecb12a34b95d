/**
 * The confirmation of the address before a seat is held, from the HTTP request to the mail as an SMTP
 * server receives it: registration and notification run as processes on the shared Postgres and NATS, and
 * the events between them are the ones registration really emits. The person follows the link in the
 * parsed mail; only then is a seat decided, and the mail that says so carries a working manage link.
 */
import { adminHeaders } from '@citydeals/testkit';
import type { Test } from 'tap';
import type { JourneySystem, Mail } from './journey-system.ts';

/** The confirmation link in a parsed mail, the same in its text and HTML parts. */
function confirmLinkOf(mail: Mail): string {
  const link = /http:\/\/registration\.test\/aanmelding\/bevestigen\/([A-Za-z0-9_-]{32})/.exec(
    mail.parsed.text ?? '',
  );
  if (!link) throw new Error(`no confirmation link in: ${mail.parsed.text}`);
  if (!String(mail.parsed.html).includes(link[0])) throw new Error('the HTML part has another link');
  return link[1]!;
}

export function addressConfirmation(t: Test, services: JourneySystem) {
  const { namespace, mailTo } = services;
  const call = (method: 'GET' | 'POST', path: string, payload?: object, headers?: Record<string, string>) =>
    services.call(services.registration.url, method, path, payload, headers);
  const register = (meetingId: string, name: string, language?: 'nl' | 'en') =>
    call('POST', `/meetings/${meetingId}/registrations`, {
      name,
      email: `${name.toLowerCase()}@example.org`,
      organisation: 'Gemeente Voorbeeld',
      role: 'projectleider',
      ...(language ? { language } : {}),
    });

  return t.test(
    'held until the address is confirmed by the mailed link; then seated, in the chosen language',
    async (t) => {
      const startsAt = new Date(Date.now() + 20 * 86_400_000);
      startsAt.setUTCSeconds(0, 0);
      const created = await call(
        'POST',
        '/admin/meetings',
        {
          title: 'Community of Practice City Deals',
          slug: `cop-confirm-${namespace.replaceAll('_', '-')}`,
          startsAt: startsAt.toISOString(),
          endsAt: new Date(startsAt.getTime() + 4 * 3_600_000).toISOString(),
          venue: { name: 'Hangar', address: 'PTT-terrein, Den Haag' },
          language: 'nl',
          capacity: 1,
          status: 'published',
          addressConfirmation: true,
        },
        adminHeaders,
      );
      t.equal(created.status, 201, created.body);
      const meeting = created.json() as { id: string };

      // Eva (English in a Dutch meeting) and Fleur (no choice: Dutch) ask; neither holds the one seat yet.
      t.equal((await register(meeting.id, 'Eva', 'en')).status, 202);
      t.equal((await register(meeting.id, 'Fleur')).status, 202);
      const evaMail = await mailTo('eva@example.org', 'address_confirmation');
      const fleurMail = await mailTo('fleur@example.org', 'address_confirmation');
      t.match(evaMail.parsed.subject, /^Please confirm your registration for Community of Practice/);
      t.match(fleurMail.parsed.subject, /^Bevestig je aanmelding voor Community of Practice/);
      t.notMatch(evaMail.parsed.text, /PTT-terrein/, 'no venue before a seat is held');
      const seats = async () =>
        (await call('GET', `/admin/meetings/${meeting.id}`, undefined, adminHeaders)).json().seats;
      t.match(await seats(), { confirmed: 0, waitlisted: 0 }, 'nothing held before confirmation');
      const page = await fetch(
        `${services.registration.url}/aanmelding/bevestigen/${confirmLinkOf(evaMail)}?lang=en`,
      );
      t.equal(page.status, 200, 'the page behind the link opens (a button, no change)');
      t.match(await page.text(), /Confirm my registration/);
      t.match(await seats(), { confirmed: 0, waitlisted: 0 }, 'opening the page holds nothing');

      // Fleur confirms first and gets the seat; Eva, confirming after, the waitlist.
      const fleur = await call('POST', `/registrations/confirmations/${confirmLinkOf(fleurMail)}`);
      t.equal(fleur.status, 201, fleur.body);
      t.equal(fleur.json().status, 'confirmed');
      const eva = await call('POST', `/registrations/confirmations/${confirmLinkOf(evaMail)}`);
      t.same([eva.json().status, eva.json().position], ['waitlisted', 1]);

      const seated = await mailTo('fleur@example.org', 'registration_confirmed');
      t.ok(seated.parsed.text?.includes(fleur.json().manageUrl), 'the seat mail carries the personal link');
      const own = await call(
        'GET',
        `/registrations/manage/${fleur.json().manageUrl.slice(fleur.json().manageUrl.lastIndexOf('/') + 1)}`,
      );
      t.equal(own.json().registrationId, fleur.json().registrationId, 'and that link works');
      const waitlisted = await mailTo('eva@example.org', 'waitlisted');
      t.match(waitlisted.parsed.text, /waitlist/i, 'Eva chose English');
      t.ok(waitlisted.parsed.text?.includes(eva.json().manageUrl));

      // The link in the mail works once.
      const reused = await call('POST', `/registrations/confirmations/${confirmLinkOf(fleurMail)}`);
      t.equal(reused.status, 409);
      t.match(reused.json(), { type: /confirmation-link-used$/ });
      const usedPage = await fetch(
        `${services.registration.url}/aanmelding/bevestigen/${confirmLinkOf(evaMail)}?lang=en`,
      );
      t.equal(usedPage.status, 409, 'the page behind a used link says so at once');
      t.match(await usedPage.text(), /Already confirmed/);
    },
  );
}
