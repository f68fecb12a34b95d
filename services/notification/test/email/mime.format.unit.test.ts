import { type ParsedMail, simpleParser } from 'mailparser';
import * as base64 from 'nodemailer/lib/base64';
import MailComposer from 'nodemailer/lib/mail-composer';
import t from 'tap';
import { base64Lines, canFormatMime, formatMime, type MimeMessage } from '../../src/email/mime.format.ts';

const ics = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'METHOD:REQUEST',
  'BEGIN:VEVENT',
  'UID:0193a1b2-0000-7000-8000-000000000001@cop.citydeals.example.org',
  'SUMMARY:Community of Practice City Deals – Den Haag',
  'DESCRIPTION:Aanmelding bevestigd\\nhttps://cop.citydeals.example.org/aanmelding/beheren/tok0123456789abcdef0123456789abcdef',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const base: MimeMessage = {
  from: { name: 'City Deals', address: 'noreply@cop.citydeals.example.org' },
  to: 'sanne.de.vries@gemeente.example.nl',
  subject: 'Aanmelding bevestigd: Community of Practice City Deals',
  messageId: '<0193a1b2-0000-7000-8000-000000000001@cop.citydeals.example.org>',
  date: new Date('2026-11-28T10:00:00Z'),
  headers: [['X-CityDeals-Kind', 'registration_confirmed']],
  text: 'Beste Sanne,\n\nJe aanmelding is bevestigd.\n.\nEen regel met een punt hierboven.\n',
  html: '<p>Beste Sanne,</p><p>Je aanmelding is bevestigd.</p>',
  calendar: { method: 'REQUEST', content: ics, filename: 'invite.ics' },
  images: [],
};

const qr = {
  cid: 'door-qr@citydeals',
  contentType: 'image/png' as const,
  filename: 'deur-qr.png',
  content: Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)),
};

const cases: [string, MimeMessage][] = [
  ['plain ASCII with a calendar', base],
  ['no calendar', { ...base, calendar: null }],
  [
    'the door QR code inline in the HTML',
    { ...base, html: `${base.html}<p><img src="cid:${qr.cid}" alt="QR"></p>`, images: [qr] },
  ],
  [
    'the door QR code without a calendar',
    { ...base, html: `<img src="cid:${qr.cid}" alt="QR">`, calendar: null, images: [qr] },
  ],
  [
    'non-ASCII subject, name and bodies, long lines, unsubscribe headers',
    {
      ...base,
      from: { name: 'Agenda Stad — City Deals', address: 'noreply@cop.citydeals.example.org' },
      subject: `Herinnering: bijeenkomst “Ruimte voor de stad” in ’s-Hertogenbosch, ${'zeer '.repeat(12)}lang`,
      headers: [
        ['X-CityDeals-Kind', 'reminder'],
        ['List-Unsubscribe', `<https://cop.citydeals.example.org/unsubscribe/${'a1b2c3d4'.repeat(12)}>`],
        ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
      ],
      text: `Beste Zoë Çelik,\r\n\r\n${'Dit is een heel lange regel zonder einde met é en ü erin. '.repeat(6)}\r\nTot ziens!`,
      html: `<p>Beste Zoë,</p><p>${'lange tekst met € en ß '.repeat(20)}</p>`,
      calendar: { method: 'CANCEL', content: ics.replace('REQUEST', 'CANCEL'), filename: 'invite.ics' },
    },
  ],
  [
    'a name that needs quoting',
    { ...base, from: { name: 'City Deals, Agenda Stad', address: base.from.address } },
  ],
];

/** What a receiving mail client makes of a message. */
function reading(mail: ParsedMail) {
  const calendarPart = mail.attachments.find((a) => a.contentType === 'text/calendar');
  const attached = mail.attachments.find((a) => a.contentType === 'application/ics');
  return {
    from: mail.from?.value,
    to: Array.isArray(mail.to) ? mail.to.map((a) => a.value) : mail.to?.value,
    subject: mail.subject,
    messageId: mail.messageId,
    date: mail.date?.toISOString(),
    kind: mail.headers.get('x-citydeals-kind'),
    unsubscribe: mail.headers.get('list-unsubscribe'),
    unsubscribePost: mail.headers.get('list-unsubscribe-post'),
    text: mail.text?.replace(/\r\n/g, '\n'),
    html: mail.html,
    calendar: calendarPart?.content.toString('utf8'),
    calendarType: calendarPart?.headers.get('content-type'),
    attachment: attached && { filename: attached.filename, content: attached.content.toString('utf8') },
    images: mail.attachments
      .filter((a) => a.contentType === 'image/png')
      .map((a) => ({
        cid: a.cid,
        filename: a.filename,
        related: a.related,
        content: a.content.toString('base64'),
      })),
  };
}

function nodemailerMime(message: MimeMessage): Promise<Buffer> {
  return new MailComposer({
    from: { name: message.from.name, address: message.from.address },
    to: message.to,
    subject: message.subject,
    messageId: message.messageId,
    date: message.date,
    headers: Object.fromEntries(message.headers),
    text: message.text,
    html: message.html,
    attachments: message.images.map((i) => ({
      cid: i.cid,
      filename: i.filename,
      content: i.content,
      contentType: i.contentType,
      contentDisposition: 'inline' as const,
    })),
    ...(message.calendar
      ? {
          icalEvent: {
            method: message.calendar.method,
            filename: message.calendar.filename,
            content: message.calendar.content,
          },
        }
      : {}),
  })
    .compile()
    .build();
}

for (const [name, message] of cases) {
  t.test(`formatMime reads as nodemailer's composition does: ${name}`, async (t) => {
    const ours = formatMime(message, 'f0e1d2c3b4a5968778695a4b');
    const theirs = await nodemailerMime(message);
    t.same(reading(await simpleParser(ours)), reading(await simpleParser(theirs)));
    const text = ours.toString('utf8');
    const headerEnd = text.indexOf('\r\n\r\n');
    t.ok(
      text
        .slice(0, headerEnd)
        .split('\r\n')
        .every((line) => line.length <= 998),
      'header lines within the 998 limit (a long URL cannot be folded)',
    );
    t.ok(
      text
        .slice(headerEnd)
        .split('\r\n')
        .every((line) => line.length <= 78),
      'body lines no longer than 78 characters',
    );
    t.notOk(/[^\r]\n|\r[^\n]/.test(ours.toString('utf8')), 'every line ends in CRLF');
    t.ok(
      [...ours].every((byte) => byte < 0x80),
      '7-bit clean: everything outside ASCII is encoded',
    );
  });
}

t.test("base64 lines are nodemailer's, at every length around a line's end", async (t) => {
  for (let length = 0; length <= 400; length += 1) {
    const content = Buffer.from(Array.from({ length }, (_, i) => (i * 53 + 7) % 256));
    t.equal(base64Lines(content), base64.wrap(base64.encode(content), 76), `${length} bytes`);
  }
});

t.test('addresses outside ASCII are left to nodemailer', async (t) => {
  t.ok(canFormatMime(base));
  t.notOk(canFormatMime({ ...base, to: 'zoë@example.nl' }));
  t.notOk(canFormatMime({ ...base, from: { name: 'x', address: 'post@bücher.example' } }));
});
