/**
 * Messages to a meeting's attendees from the console (docs/messages.md), in Debian's chromium: a redacteur
 * composes one on the meeting's page, sees registration's and notification's field errors beside the fields
 * (nothing sent), previews the mail as notification renders it per language, sends it to a filtered group
 * (the one attendee it is for receives it over SMTP) and schedules another; both are listed with their counts.
 * The lezer sees the list only; the deur nothing. axe and screenshots at phone and desktop size.
 */
import { eventually } from '@citydeals/testkit';
import { launchChromium } from '@citydeals/testkit/browser';
import t from 'tap';
import { amsterdamLocal, checkPage, loggedIn } from './browser.fixture.ts';
import { adminAuth, people, startConsoleSystem, Visitor } from './harness.ts';

t.setTimeout(600_000);
const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;

const call = (service: 'registration' | 'notification', method: string, path: string, body?: unknown) =>
  system.call(service, method as 'GET', path, { headers: adminAuth, ...(body ? { body } : {}) });

t.test(
  'messages to attendees: composed, previewed by notification, sent by registration, listed',
  async (t) => {
    const meeting = await call('registration', 'POST', '/admin/meetings', {
      title: 'CoP met bericht',
      slug: `cop-bericht-${Date.now().toString(36)}`,
      startsAt: '2031-05-14T13:00',
      endsAt: '2031-05-14T17:00',
      venue: { name: 'Hangar', address: 'Den Haag' },
      capacity: 2,
      status: 'published',
    });
    const meetingId = meeting.body.id as string;
    const register = (name: string, email: string, role: string, language: string) =>
      system.call('registration', 'POST', `/meetings/${meetingId}/registrations`, {
        body: { name, email, organisation: 'Gemeente', role, language },
      });
    t.equal((await register('Anna Nl', 'anna@example.org', 'partner', 'nl')).body.status, 'confirmed');
    t.equal((await register('Ben En', 'ben@example.org', 'dealmaker', 'en')).body.status, 'confirmed');
    t.equal((await register('Cor Wacht', 'cor@example.org', 'dealmaker', 'nl')).body.status, 'waitlisted');
    // Notification previews only a meeting it has heard of (through registration's events).
    t.ok(
      await eventually(
        async () =>
          (
            await call('notification', 'POST', `/admin/meetings/${meetingId}/message-preview`, {
              language: 'nl',
              subject: 'x',
              body: 'x',
            })
          ).status === 200,
        20_000,
      ),
    );
    const messages = async () =>
      (await call('registration', 'GET', `/admin/meetings/${meetingId}/messages`)).body.items as {
        id: string;
        roles: string[] | null;
        statuses: string[];
        sentAt: string | null;
        sendAt: string;
        recipients: number | null;
        createdBy: string;
        texts: Record<string, { subject: string }>;
      }[];

    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const csp: string[] = [];
    const office = await loggedIn(browser, stack.url, people.redacteur.email, 'desktop', csp);
    await office.goto(`${stack.url}/meetings/${meetingId}`);
    await office.getByRole('link', { name: 'Berichten aan deelnemers' }).click();
    await office.waitForURL(`${stack.url}/meetings/${meetingId}/messages`);
    await checkPage(t, office, 'messages-compose', 'desktop');

    // No status ticked: registration refuses, the error stands beside the statuses, nothing is sent.
    await office.getByLabel('bevestigd').uncheck();
    await office.getByLabel('Onderwerp (Nederlands)').fill('Praktische informatie');
    await office.getByLabel('Bericht (Nederlands)').fill('Beste deelnemers,\n\nDe zaal is open vanaf 12:30.');
    await office.getByRole('button', { name: 'Versturen' }).click();
    await office.locator('#statuses-error').waitFor();
    t.equal(
      await office.getByLabel('Onderwerp (Nederlands)').inputValue(),
      'Praktische informatie',
      'input kept',
    );
    t.same(await messages(), [], 'nothing written');

    // An English subject without a body: notification's preview names the English body.
    await office.getByLabel('bevestigd').check();
    await office.getByLabel('Onderwerp (Engels)').fill('Practical information');
    await office.getByRole('button', { name: 'Voorbeeld bekijken' }).click();
    await office.locator('#bodyEn-error').waitFor();
    t.equal(await office.getByLabel('Bericht (Engels)').getAttribute('aria-invalid'), 'true');

    await office.getByLabel('Bericht (Engels)').fill('Dear attendees,\n\nThe hall opens at 12:30.');
    await office.getByLabel('dealmaker').check();
    await office.getByRole('button', { name: 'Voorbeeld bekijken' }).click();
    await office.getByRole('heading', { name: 'Voorbeeld' }).waitFor();
    const dutch = office.locator('article', { hasText: 'Zo krijgt een Nederlandstalige deelnemer het' });
    t.equal(
      await dutch.locator('.preview-subject').textContent(),
      'Praktische informatie',
      'notification’s subject',
    );
    t.match(
      await dutch.locator('.preview-text').textContent(),
      /De zaal is open vanaf 12:30\./,
      'and its text',
    );
    const english = office.locator('article', { hasText: 'Zo krijgt een Engelstalige deelnemer het' });
    t.match(await english.locator('.preview-text').textContent(), /The hall opens at 12:30\./);
    t.same(await messages(), [], 'a preview sends nothing');
    await checkPage(t, office, 'messages-preview', 'desktop');

    // Sent from the preview's form: to the confirmed dealmakers only, that is Ben, in English.
    await office.getByRole('button', { name: 'Versturen' }).click();
    await office.getByRole('status').filter({ hasText: 'Bericht verstuurd of ingepland.' }).waitFor();
    const [sent] = await messages();
    t.match(sent, { statuses: ['confirmed'], roles: ['dealmaker'], recipients: 1 }, 'one recipient');
    t.match(sent!.createdBy, people.redacteur.email, 'written by the redacteur');
    const newest = office.locator('#message-table tbody tr').first().locator('td');
    t.equal(await newest.nth(1).textContent(), 'Praktische informatie', 'listed');
    t.equal(await newest.nth(4).textContent(), '1', 'with its count');
    t.ok(
      await eventually(() =>
        system.mail.received.some(
          (m) => m.to.includes('ben@example.org') && /Practical information/.test(m.raw),
        ),
      ),
      'Ben got it, in English',
    );
    t.notOk(system.mail.received.some((m) => m.to.includes('anna@example.org') && /Praktische/.test(m.raw)));

    // Later: scheduled, listed as such.
    const later = new Date(Date.now() + 2 * 24 * 3600_000);
    await office.getByLabel('Onderwerp (Nederlands)').fill('Nog één ding');
    await office.getByLabel('Bericht (Nederlands)').fill('Neem uw badge mee.');
    await office.getByLabel('Versturen op').fill(amsterdamLocal(later));
    await office.getByRole('button', { name: 'Versturen' }).click();
    await office.getByRole('status').filter({ hasText: 'Bericht verstuurd of ingepland.' }).waitFor();
    const [scheduled] = await messages();
    t.match(scheduled, { sentAt: null, recipients: null, statuses: ['confirmed'] });
    t.equal(scheduled!.sendAt, new Date(Math.floor(later.getTime() / 60_000) * 60_000).toISOString());
    t.match(await office.locator('#message-table tbody tr').first().textContent(), /gepland/);
    const phone = await loggedIn(browser, stack.url, people.redacteur.email, 'phone', csp);
    await phone.goto(`${stack.url}/meetings/${meetingId}/messages`);
    await checkPage(t, phone, 'messages-compose', 'phone');

    // The read-only role sees the list and no form; its sending and the door's everything are refused.
    const lezerPage = await loggedIn(browser, stack.url, people.lezer.email, 'phone', csp);
    await lezerPage.goto(`${stack.url}/meetings/${meetingId}/messages`);
    t.equal(await lezerPage.locator('#message-table tbody tr').count(), 2, 'the lezer sees the list');
    t.equal(await lezerPage.getByRole('button', { name: 'Versturen' }).count(), 0, 'and no form');
    await checkPage(t, lezerPage, 'messages-list-lezer', 'phone');
    const form = {
      action: 'send',
      status_confirmed: '1',
      subjectNl: 'Ongevraagd',
      bodyNl: 'Dit mag niet.',
    };
    const lezer = new Visitor(stack.url);
    await lezer.login(people.lezer.email);
    const refused = await lezer.submit(
      `/meetings/${meetingId}/messages`,
      `/meetings/${meetingId}/messages`,
      form,
    );
    t.equal(refused.status, 403, 'lezer: sending refused');
    const deur = new Visitor(stack.url);
    await deur.login(people.deur.email);
    t.equal((await deur.get(`/meetings/${meetingId}/messages`)).status, 403, 'deur: the list refused');
    const deurSend = await deur.submit('/door', `/meetings/${meetingId}/messages`, form);
    t.equal(deurSend.status, 403, 'deur: sending refused');
    t.equal((await messages()).length, 2, 'nothing more written');
    t.same(csp, [], 'the pages work under the CSP');
  },
);
