import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emailKinds, languages } from '@citydeals/contracts';
import { carriesMailTexts } from '../mail-texts/mail-text.rules.ts';
import { calendarUid } from './email.compose.ts';
import { renderMail } from './email.templates.ts';
import { buildIcs } from './ics.format.ts';

// `npm run mail:preview [folder]`: every template in every language, rendered with sample data, for review.
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, '.data/mail-preview'));

const startsAt = new Date('2026-11-26T12:00:00Z');
const endsAt = new Date('2026-11-26T16:30:00Z');
const meeting = {
  title: 'Community of Practice City Deals, november',
  startsAt,
  endsAt,
  timeZone: 'Europe/Amsterdam',
  venueName: 'Hangar op het voormalige PTT-terrein',
  venueAddress: 'Voormalig PTT-terrein, Den Haag',
  onlineUrl: null,
};
const sampleMailTexts = {
  nl: {
    introduction:
      'Welkom bij de Community of Practice! Dit keer staat de jaarlijkse resultatenparade centraal.',
    practical: 'De zaal is open vanaf 12:30.\n\nParkeren kan bij het station; het is tien minuten lopen.',
  },
  en: {
    introduction:
      'Welcome to the Community of Practice! This time the annual parade of results takes centre stage.',
    practical: 'The room opens at 12:30.\n\nYou can park at the station; it is a ten-minute walk.',
  },
};
const withCalendar = new Set([
  'registration_confirmed',
  'promoted',
  'meeting_rescheduled',
  'meeting_changed',
  'meeting_cancelled',
  'registration_cancelled',
]);

await mkdir(outDir, { recursive: true });
const links: string[] = [];
for (const language of languages) {
  for (const kind of emailKinds) {
    const mail = renderMail(kind, language, {
      name: 'Sanne de Vries',
      meeting,
      manageUrl: 'https://cop.citydeals.example.org/aanmelding/beheren/q3Vx9Lk2TzR8bWfN0cYhPa',
      position: 3,
      changes: ['venue'],
      previous: { startsAt: new Date('2026-11-19T12:00:00Z'), endsAt: new Date('2026-11-19T16:30:00Z') },
      reason: 'De hangar is niet beschikbaar; we plannen een nieuwe datum in het voorjaar.',
      // The office's texts (docs/mail-texts.md); only the kinds that carry them show them.
      office: carriesMailTexts(kind) ? sampleMailTexts[language] : null,
      reminderOffset: 'P1D',
      unsubscribeUrl: 'http://127.0.0.1:3003/unsubscribe/01936b2c-1a2b-7d4e-8f60-718293a4b5c6.sample',
      hasCalendar: withCalendar.has(kind),
      confirmUrl: 'https://cop.citydeals.example.org/aanmelding/bevestigen/Lq2Wd8Rz5Tn0Yx3Kc7Vb1Mh4Gp9Fs6Ja',
      surveyUrl: 'https://cop.citydeals.example.org/evaluatie/Pz4Nc8Xw2Lm6Qr0Tb5Hk9Dv3Jf7Sg1Ya',
      acceptUrl: 'https://cop.citydeals.example.org/aanmelding/plek/Vb3Nq8Lx2Tk7Wr0Zc5Hm9Df4Gj1Sp6Ya',
      linkExpiresAt: new Date('2026-11-02T09:15:00Z'),
      session: {
        title: language === 'nl' ? 'Ontwerpsessie: wat is je ideale CoP?' : 'Design session: your ideal CoP',
        startsAt: new Date('2026-11-26T13:30:00Z'),
        endsAt: new Date('2026-11-26T14:30:00Z'),
        waited: true,
      },
      message: {
        subject:
          language === 'nl' ? 'Praktische informatie voor donderdag' : 'Practical information for Thursday',
        body:
          language === 'nl'
            ? 'Beste deelnemers,\n\nDe zaal is open vanaf 12:30. Parkeren kan bij het station;\nhet is tien minuten lopen.'
            : 'Dear participants,\n\nThe room opens at 12:30. You can park at the station;\nit is a ten-minute walk.',
      },
    });
    const base = `${language}-${kind}`;
    await writeFile(path.join(outDir, `${base}.html`), mail.html);
    await writeFile(path.join(outDir, `${base}.txt`), `Subject: ${mail.subject}\n\n${mail.text}`);
    if (withCalendar.has(kind)) {
      const cancel = kind === 'meeting_cancelled' || kind === 'registration_cancelled';
      await writeFile(
        path.join(outDir, `${base}.ics`),
        buildIcs({
          method: cancel ? 'CANCEL' : 'REQUEST',
          uid: calendarUid('01936b2c-1a2b-7d4e-8f60-718293a4b5c6', 'cop.citydeals.example.org'),
          sequence: ['meeting_rescheduled', 'meeting_changed', 'meeting_cancelled'].includes(kind) ? 1 : 0,
          stamp: new Date('2026-11-01T09:00:00Z'),
          startsAt,
          endsAt,
          title: meeting.title,
          location: `${meeting.venueName}, ${meeting.venueAddress}`,
          description: mail.subject,
          url: null,
          organizer: { name: 'City Deals CoP', email: 'cop@citydeals.example.org' },
          attendee: { name: 'Sanne de Vries', email: 'sanne.devries@example.org' },
        }),
      );
    }
    links.push(
      `<li><a href="${base}.html">${base}</a> (<a href="${base}.txt">text</a>) — ${mail.subject}</li>`,
    );
  }
}
await writeFile(
  path.join(outDir, 'index.html'),
  `<!doctype html><meta charset="utf-8"><title>Mail preview</title><ul>\n${links.join('\n')}\n</ul>\n`,
);
console.log(`${links.length} mails rendered to ${outDir}`);
