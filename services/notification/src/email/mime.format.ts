import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import * as qp from 'nodemailer/lib/qp';
import type { InlineImage } from './door-qr.ts';

/** One attendee mail as it goes on the wire: always text and HTML, optionally a calendar request. */
export interface MimeMessage {
  from: { name: string; address: string };
  to: string;
  subject: string;
  messageId: string;
  date: Date;
  /** Extra header lines (ASCII values), in order. */
  headers: readonly [string, string][];
  text: string;
  html: string;
  calendar: { method: string; content: string; filename: string } | null;
  /** Images the HTML shows by `cid:` (the door QR code); they go with the HTML in a multipart/related. */
  images: readonly InlineImage[];
}

/**
 * Whether formatMime can write this message: addresses outside ASCII need punycode or SMTPUTF8, which
 * nodemailer's own composer handles and this formatter does not.
 */
export function canFormatMime(message: Pick<MimeMessage, 'from' | 'to'>): boolean {
  return isAscii(message.from.address) && isAscii(message.to);
}

/**
 * The MIME text of a mail, in the structure nodemailer gives a mail with `icalEvent` (multipart/mixed of a
 * multipart/alternative text, HTML and calendar, plus the calendar as an attachment; without a calendar just
 * the alternative), built synchronously from nodemailer's own encoders. Composed by nodemailer's stream
 * pipeline instead, a mail cost several times the CPU it costs here (docs/performance.md). `boundary` must
 * not occur in the content: a random token does that.
 */
export function formatMime(message: MimeMessage, boundary: string): Buffer {
  const outer = `----=_cd_${boundary}_1`;
  const inner = `----=_cd_${boundary}_2`;
  const { calendar } = message;
  const header = [
    ...message.headers.map(([name, value]) => headerLine(name, value)),
    `From: ${addressName(message.from.name)} <${message.from.address}>`,
    `To: ${message.to}`,
    headerLine('Subject', mimeFuncs.encodeWords(oneLine(message.subject), 'Q', 52)),
    headerLine('Message-ID', message.messageId),
    `Date: ${message.date.toUTCString().replace(/GMT/, '+0000')}`,
    'MIME-Version: 1.0',
  ];
  const html = textPart('text/html; charset=utf-8', message.html);
  const related = `----=_cd_${boundary}_3`;
  const alternative = [
    textPart('text/plain; charset=utf-8', message.text),
    message.images.length === 0
      ? html
      : `Content-Type: multipart/related; type="text/html";\r\n boundary="${related}"\r\n\r\n${multipart(
          related,
          [html, ...message.images.map(imagePart)],
        )}`,
    ...(calendar
      ? [textPart(`text/calendar; charset=utf-8; method=${calendar.method}`, calendar.content)]
      : []),
  ];
  if (!calendar) {
    return Buffer.from(
      [
        ...header,
        `Content-Type: multipart/alternative;\r\n boundary="${inner}"`,
        '',
        multipart(inner, alternative),
      ].join('\r\n'),
    );
  }
  const attachment = [
    `Content-Type: application/ics; name=${calendar.filename}`,
    `Content-Disposition: attachment; filename=${calendar.filename}`,
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(Buffer.from(calendar.content, 'utf8')),
  ].join('\r\n');
  const alternativePart = `Content-Type: multipart/alternative;\r\n boundary="${inner}"\r\n\r\n${multipart(inner, alternative)}`;
  return Buffer.from(
    [
      ...header,
      `Content-Type: multipart/mixed;\r\n boundary="${outer}"`,
      '',
      multipart(outer, [alternativePart, attachment]),
    ].join('\r\n'),
  );
}

function imagePart(image: InlineImage): string {
  return [
    `Content-Type: ${image.contentType}; name=${image.filename}`,
    `Content-ID: <${image.cid}>`,
    `Content-Disposition: inline; filename=${image.filename}`,
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(image.content),
  ].join('\r\n');
}

/**
 * Base64 in lines of 76 characters, as nodemailer's `base64.wrap` writes it; that one runs a regular
 * expression over the whole text, a visible share of a confirmation's CPU for its calendar attachment.
 */
export function base64Lines(content: Buffer): string {
  const encoded = content.toString('base64');
  if (encoded.length <= 76) return encoded;
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
  return lines.join('\r\n');
}

function multipart(boundary: string, parts: readonly string[]): string {
  return `${parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('')}--${boundary}--\r\n`;
}

/** 7bit when the text allows it (ASCII, short lines), else quoted-printable; line breaks become CRLF. */
function textPart(contentType: string, body: string): string {
  const crlf = body.replace(/\r?\n|\r/g, '\r\n');
  const plain = mimeFuncs.isPlainText(crlf) && !mimeFuncs.hasLongerLines(crlf, 76);
  return [
    `Content-Type: ${contentType}`,
    `Content-Transfer-Encoding: ${plain ? '7bit' : 'quoted-printable'}`,
    '',
    plain ? crlf : qp.wrap(qp.encode(crlf), 76),
  ].join('\r\n');
}

function headerLine(name: string, value: string): string {
  return mimeFuncs.foldLines(`${name}: ${oneLine(value)}`, 76);
}

/** A display name as nodemailer writes it: bare if it is words, quoted if ASCII, an encoded word if not. */
function addressName(name: string): string {
  const clean = oneLine(name);
  if (/^[\w ]*$/.test(clean)) return clean;
  if (isAscii(clean)) return `"${clean.replace(/(["\\])/g, '\\$1')}"`;
  return mimeFuncs.encodeWord(clean, 'Q', 52);
}

function oneLine(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return value.replace(/\r?\n|\r/g, ' ').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
}

function isAscii(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}
