/**
 * Issue 20's mail texts, against the real servers: registration and notification as processes on Postgres
 * and NATS, notification sending to a real SMTP server. The office saves an introduction and practical
 * information per language; a registration's confirmation carries them, escaped in HTML, in the attendee's
 * language; the preview is the mail as sent; a reminder composed after the texts changed carries the new
 * ones while the confirmation queued before keeps the old; bad input is refused naming the field, with
 * nothing written.
 */
import { adminHeaders, eventually, withAdmin } from '@citydeals/testkit';
import type { Test } from 'tap';
import type { JourneySystem, Mail } from './journey-system.ts';

/** Notification's settings this journey needs: due reminders are looked for every 50 ms. */
export const mailTextsEnv = { notification: { REMINDER_POLL_MS: '50' } };

const texts = {
  nl: {
    language: 'nl',
    introduction: 'Welkom bij de <Community of Practice> & de resultatenparade!\n\nNeem je deal-poster mee.',
    practical: 'De zaal is open vanaf 12:30.\nParkeren kan bij het station.\n\nLunch & koffie staan klaar.',
  },
  en: {
    language: 'en',
    introduction: 'Welcome to the <Community of Practice>!',
    practical: 'The room opens at 12:30.\r\nYou can park at the station.',
  },
} as const;

/** The personal links differ per attendee and are placeholders in a preview; everything else is the same. */
const personal = (s: string) =>
  s
    .replace(/http:\/\/registration\.test\/aanmelding\/beheren\/[A-Za-z0-9_-]+/g, 'MANAGE')
    .replace(/https:\/\/…\/aanmelding\/beheren\/…/g, 'MANAGE')
    .replace(/http:\/\/notification\.test\/unsubscribe\/[^"\s<]+/g, 'UNSUBSCRIBE');

export function mailTexts(t: Test, services: JourneySystem) {
  const { namespace } = services;
  const reg = (method: 'GET' | 'POST', path: string, payload?: object) =>
    services.call(services.registration.url, method, path, payload, adminHeaders);
  const note = (method: 'GET' | 'POST' | 'PUT', path: string, payload?: object) =>
    services.call(services.notification.url, method, path, payload, adminHeaders);
  let meetingId = '';

  t.before(async () => {
    // Its one-day reminder is planned with each registration, due weeks ahead; the test brings it forward
    // once it has changed the texts.
    const startsAt = new Date(Date.now() + 30 * 86_400_000);
    startsAt.setUTCMilliseconds(0);
    const created = await reg('POST', '/admin/meetings', {
      title: 'Community of Practice City Deals',
      slug: `cop-texts-${namespace.replaceAll('_', '-')}`,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 4 * 3_600_000).toISOString(),
      venue: { name: 'Hangar', address: 'PTT-terrein, Den Haag' },
      language: 'nl',
      capacity: 10,
      status: 'published',
      reminderOffsets: ['P1D'],
    });
    if (created.status !== 201) throw new Error(created.body);
    meetingId = created.json().id;
    // Texts can be saved once the meeting has reached notification.
    await eventually(
      async () => (await note('GET', `/admin/meetings/${meetingId}/mail-texts`)).status === 200,
    );
  });

  async function register(name: string, language: 'nl' | 'en') {
    const res = await services.call(
      services.registration.url,
      'POST',
      `/meetings/${meetingId}/registrations`,
      {
        name,
        email: `${name.toLowerCase()}@example.org`,
        organisation: 'Gemeente Voorbeeld',
        role: 'projectleider',
        language,
      },
    );
    if (res.status !== 201) throw new Error(res.body);
  }

  let anna: Mail;

  t.test('saved texts are in the confirmation, in the attendee’s language, escaped in HTML', async (t) => {
    const empty = await note('GET', `/admin/meetings/${meetingId}/mail-texts`);
    t.same(empty.json().texts, [], 'none before they are saved');
    t.same(empty.json().kinds, [
      'registration_confirmed',
      'promoted',
      'reminder',
      'meeting_changed',
      'meeting_rescheduled',
    ]);
    const saved = await note('PUT', `/admin/meetings/${meetingId}/mail-texts`, {
      texts: [texts.nl, texts.en],
    });
    t.equal(saved.status, 200, saved.body);
    const en = saved.json().texts.find((x: { language: string }) => x.language === 'en');
    t.equal(en.practical, 'The room opens at 12:30.\nYou can park at the station.', 'CRLF stored as LF');
    t.match(en.updatedBy, { id: /^api-key:/ }, 'the key that saved them is recorded');

    await register('Anna', 'nl');
    await register('Bram', 'en');
    anna = await services.mailTo('anna@example.org', 'registration_confirmed');
    const bram = await services.mailTo('bram@example.org', 'registration_confirmed');

    const annaHtml = String(anna.parsed.html);
    t.match(
      annaHtml,
      '<p>Welkom bij de &lt;Community of Practice&gt; &amp; de resultatenparade!</p>\n<p>Neem je deal-poster mee.</p>',
      'the introduction as paragraphs, escaped',
    );
    t.match(annaHtml, /Praktische informatie<\/h2>/);
    t.match(
      annaHtml,
      '<p>De zaal is open vanaf 12:30.<br>Parkeren kan bij het station.</p>\n<p>Lunch &amp; koffie staan klaar.</p>',
    );
    t.notMatch(annaHtml, '<Community of Practice>', 'no markup from the text');
    const annaText = String(anna.parsed.text);
    t.match(
      annaText,
      `${texts.nl.introduction}\n\nWat:`,
      'the introduction above the details in the text part',
    );
    t.match(annaText, `Praktische informatie\n${texts.nl.practical}\n`);

    const bramHtml = String(bram.parsed.html);
    t.match(bramHtml, '<p>Welcome to the &lt;Community of Practice&gt;!</p>');
    t.match(bramHtml, '<p>The room opens at 12:30.<br>You can park at the station.</p>');
    t.match(
      String(bram.parsed.text),
      'Practical information\nThe room opens at 12:30.\nYou can park at the station.',
    );
    t.notMatch(String(bram.parsed.text), 'Welkom', 'no Dutch text in the English mail');
    t.notMatch(annaText, 'Welcome', 'no English text in the Dutch mail');
  });

  t.test('the preview is the mail as it was sent', async (t) => {
    const preview = await note('POST', `/admin/meetings/${meetingId}/mail-preview`, {
      kind: 'registration_confirmed',
      language: 'nl',
      name: 'Anna',
    });
    t.equal(preview.status, 200, preview.body);
    const { subject, html, text } = preview.json();
    t.equal(subject, anna.parsed.subject);
    t.equal(personal(text), personal(String(anna.parsed.text)));
    t.equal(personal(html).trim(), personal(String(anna.parsed.html)).trim());

    const unsaved = await note('POST', `/admin/meetings/${meetingId}/mail-preview`, {
      kind: 'reminder',
      language: 'en',
      texts: { introduction: 'Not saved <yet>', practical: '' },
    });
    t.equal(unsaved.status, 200, unsaved.body);
    t.match(
      unsaved.json().html,
      '<p>Not saved &lt;yet&gt;</p>',
      'texts not saved yet, in the kind asked for',
    );
    t.match(unsaved.json().subject, /^Reminder: /);
    t.notMatch(unsaved.json().html, 'Practical information', 'an empty text leaves its part out');
    const stored = (await note('GET', `/admin/meetings/${meetingId}/mail-texts`)).json().texts;
    t.notMatch(JSON.stringify(stored), 'Not saved', 'the preview wrote nothing');
  });

  t.test('texts are taken when a mail is queued: a later reminder carries the new ones', async (t) => {
    const changed = await note('PUT', `/admin/meetings/${meetingId}/mail-texts`, {
      texts: [{ language: 'nl', introduction: 'Morgen is het zover.', practical: 'Neem een jas mee.' }],
    });
    t.equal(changed.status, 200, changed.body);
    t.same(
      changed.json().texts.map((x: { language: string }) => x.language),
      ['nl'],
      'a language left out has no texts any more',
    );
    // The reminders were planned before the change, and fall due now.
    const notificationDb = (sql: string) =>
      withAdmin(async (c) => (await c.query(sql, [meetingId])).rowCount, services.notificationDb.url);
    const where = `meeting_id = $1 and status = 'pending'`;
    await eventually(
      async () => (await notificationDb(`select 1 from notification.reminder where ${where}`)) === 2,
    );
    const broughtForward =
      (await notificationDb(`update notification.reminder set due_at = now() where ${where}`)) === 2;
    t.ok(broughtForward, 'both reminders were planned, and are due now');
    const reminder = await services.mailTo('anna@example.org', 'reminder');
    t.match(String(reminder.parsed.text), 'Morgen is het zover.\n\nWat:');
    t.match(String(reminder.parsed.html), '<p>Neem een jas mee.</p>');
    t.notMatch(String(reminder.parsed.text), 'resultatenparade', 'not the texts it replaced');
    const bramReminder = await services.mailTo('bram@example.org', 'reminder');
    t.notMatch(String(bramReminder.parsed.text), /Welcome|Practical information/, 'English texts removed');
    const preview = await note('POST', `/admin/meetings/${meetingId}/mail-preview`, {
      kind: 'reminder',
      language: 'nl',
      name: 'Anna',
    });
    t.equal(
      personal(preview.json().text),
      personal(String(reminder.parsed.text)),
      'reminder preview as sent',
    );
    t.equal(personal(preview.json().html).trim(), personal(String(reminder.parsed.html)).trim());
  });

  t.test('bad input is refused naming the field, and nothing is written', async (t) => {
    const before = (await note('GET', `/admin/meetings/${meetingId}/mail-texts`)).json();
    const ok = { language: 'nl', introduction: 'Hallo', practical: '' };
    const put: [unknown, string][] = [
      [{ texts: [{ ...ok, introduction: 'x'.repeat(2001) }] }, 'body.texts.0.introduction'],
      [{ texts: [{ ...ok, practical: 'x'.repeat(4001) }] }, 'body.texts.0.practical'],
      [{ texts: [{ ...ok, language: 'de' }] }, 'body.texts.0.language'],
      [{ texts: [ok, ok] }, 'body.texts.1.language'],
      [{ texts: [{ ...ok, introduction: 5 }] }, 'body.texts.0.introduction'],
      [{ texts: [{ ...ok, practical: null }] }, 'body.texts.0.practical'],
      [{ texts: 'nl' }, 'body.texts'],
      [{}, 'body.texts'],
    ];
    for (const [body, field] of put) {
      const res = await note('PUT', `/admin/meetings/${meetingId}/mail-texts`, body as object);
      t.equal(res.status, 400, `${field}: ${res.body.slice(0, 200)}`);
      t.match(res.json().errors, [{ field }], `names ${field}`);
    }
    const preview: [unknown, string][] = [
      [{ kind: 'waitlisted', language: 'nl' }, 'body.kind'],
      [{ kind: 'nonsense', language: 'nl' }, 'body.kind'],
      [{ kind: 'reminder', language: 'fr' }, 'body.language'],
      [
        { kind: 'reminder', language: 'nl', texts: { introduction: 'x'.repeat(2001), practical: '' } },
        'body.texts.introduction',
      ],
      [
        { kind: 'reminder', language: 'nl', texts: { introduction: [], practical: '' } },
        'body.texts.introduction',
      ],
    ];
    for (const [body, field] of preview) {
      const res = await note('POST', `/admin/meetings/${meetingId}/mail-preview`, body as object);
      t.equal(res.status, 400, `${field}: ${res.body.slice(0, 200)}`);
      t.match(res.json().errors, [{ field }], `names ${field}`);
    }
    const unknown = '01936b2a-4f00-7c3e-9a1b-2d4e6f708192';
    for (const [method, path, body] of [
      ['GET', `/admin/meetings/${unknown}/mail-texts`, undefined],
      ['PUT', `/admin/meetings/${unknown}/mail-texts`, { texts: [ok] }],
      ['POST', `/admin/meetings/${unknown}/mail-preview`, { kind: 'reminder', language: 'nl' }],
    ] as const) {
      const res = await note(method, path, body);
      t.equal(res.status, 404, `${method} ${path}`);
      t.match(res.json(), { type: /not-found/, status: 404 });
      t.match(res.json().errors, [{ field: 'params.id' }], 'names the meeting');
    }
    const raw = await fetch(`${services.notification.url}/admin/meetings/${unknown}/mail-texts`, {
      headers: adminHeaders,
    });
    t.match(raw.headers.get('content-type'), /^application\/problem\+json/);
    const notUuid = await note('PUT', '/admin/meetings/nope/mail-texts', { texts: [ok] });
    t.equal(notUuid.status, 400);
    t.match(notUuid.json().errors, [{ field: 'params.id' }]);
    const anonymous = await services.call(
      services.notification.url,
      'PUT',
      `/admin/meetings/${meetingId}/mail-texts`,
      {
        texts: [ok],
      },
    );
    t.equal(anonymous.status, 401, 'no key, no change');
    t.same((await note('GET', `/admin/meetings/${meetingId}/mail-texts`)).json(), before, 'nothing written');
  });

  t.test('saves of one meeting at the same time: each answered, one of them stands whole', async (t) => {
    const bodies = [...Array(8).keys()].map((i) => ({
      texts: [
        { language: 'nl', introduction: `Versie ${i}`, practical: `Praktisch ${i}` },
        { language: 'en', introduction: `Version ${i}`, practical: '' },
      ],
    }));
    const answers = await Promise.all(
      bodies.map((body) => note('PUT', `/admin/meetings/${meetingId}/mail-texts`, body)),
    );
    t.same(
      answers.map((a) => a.status),
      bodies.map(() => 200),
      answers.map((a) => a.body.slice(0, 120)).join('\n'),
    );
    const stored = (await note('GET', `/admin/meetings/${meetingId}/mail-texts`)).json().texts;
    const version = /Versie (\d)/.exec(stored[1]?.introduction ?? '')?.[1];
    t.same(
      stored.map((x: { language: string; introduction: string; practical: string }) => [
        x.language,
        x.introduction,
        x.practical,
      ]),
      [
        ['en', `Version ${version}`, ''],
        ['nl', `Versie ${version}`, `Praktisch ${version}`],
      ],
      'both languages from the same save',
    );
  });
}
