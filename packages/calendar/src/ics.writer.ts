/**
 * The iCalendar (RFC 5545) writer of every calendar file the project sends or serves: the public feeds of
 * registration and the invitations, updates and cancellations that notification attaches to mails. One
 * writer, so that escaping and folding are decided once.
 *
 * Every value is written so that it cannot end its content line: TEXT is escaped (RFC 5545 §3.3.11) with
 * CR, LF and CRLF as `\n` and other control characters dropped; parameter values are quoted without
 * DQUOTE or control characters (§3.1, QSAFE-CHAR); URIs and calendar addresses percent-encode what a URI
 * may not hold. Times are in UTC (form 2 of §3.3.5), which calendars show in the reader's own zone, so no
 * VTIMEZONE is needed.
 */

export const PRODUCT_ID = '-//City Deals//Community of Practice//NL';

export type CalendarMethod = 'PUBLISH' | 'REQUEST' | 'CANCEL';

export interface CalendarPerson {
  name: string;
  email: string;
}

export interface CalendarAttendee extends CalendarPerson {
  participation: 'ACCEPTED' | 'DECLINED' | 'NEEDS-ACTION';
}

export interface CalendarEvent {
  /** The same for every version of one calendar entry; updates and cancellations find it by this. */
  uid: string;
  /** Grows with every change of the entry a calendar should apply (RFC 5546 §2.1.4). */
  sequence: number;
  /** When this file was made (DTSTAMP). */
  stamp: Date;
  startsAt: Date;
  endsAt: Date;
  summary: string;
  description?: string | null;
  location?: string | null;
  url?: string | null;
  status: 'CONFIRMED' | 'CANCELLED';
  lastModified?: Date | null;
  organizer?: CalendarPerson | null;
  attendee?: CalendarAttendee | null;
  transparency?: 'OPAQUE' | 'TRANSPARENT' | null;
}

export interface Calendar {
  method: CalendarMethod;
  /** Shown by some calendars as the name of a subscribed feed (X-WR-CALNAME). */
  name?: string | null;
  events: readonly CalendarEvent[];
}

export function writeCalendar(calendar: Calendar): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${escapeText(PRODUCT_ID)}`,
    'CALSCALE:GREGORIAN',
    `METHOD:${calendar.method}`,
    ...(calendar.name ? [`X-WR-CALNAME:${escapeText(calendar.name)}`] : []),
    ...calendar.events.flatMap(eventLines),
    'END:VCALENDAR',
  ];
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}

function eventLines(event: CalendarEvent): string[] {
  if (!Number.isSafeInteger(event.sequence) || event.sequence < 0) {
    throw new RangeError(`SEQUENCE must be a non-negative integer, got ${event.sequence}`);
  }
  const optionalText = (name: string, value: string | null | undefined) =>
    value ? [`${name}:${escapeText(value)}`] : [];
  const { organizer, attendee } = event;
  return [
    'BEGIN:VEVENT',
    `UID:${escapeText(event.uid)}`,
    `SEQUENCE:${event.sequence}`,
    `DTSTAMP:${formatUtc(event.stamp)}`,
    ...(event.lastModified ? [`LAST-MODIFIED:${formatUtc(event.lastModified)}`] : []),
    `DTSTART:${formatUtc(event.startsAt)}`,
    `DTEND:${formatUtc(event.endsAt)}`,
    `SUMMARY:${escapeText(event.summary)}`,
    ...optionalText('DESCRIPTION', event.description),
    ...optionalText('LOCATION', event.location),
    ...(event.url ? [`URL:${uri(event.url)}`] : []),
    ...(organizer ? [`ORGANIZER;CN=${paramValue(organizer.name)}:${mailto(organizer.email)}`] : []),
    ...(attendee
      ? [
          `ATTENDEE;CN=${paramValue(attendee.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=${attendee.participation};` +
            `RSVP=FALSE:${mailto(attendee.email)}`,
        ]
      : []),
    `STATUS:${event.status}`,
    ...(event.transparency ? [`TRANSP:${event.transparency}`] : []),
    'END:VEVENT',
  ];
}

/** Line breaks of any kind, including the Unicode separators some readers also break on. */
const LINE_BREAK = /\r\n|[\r\n\u2028\u2029]/g;
/** Control characters other than HTAB (RFC 5545 CONTROL), plus the C1 range. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, every line break as `\n`. */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(LINE_BREAK, '\\n')
    .replace(CONTROL, '');
}

/** A quoted parameter value (QSAFE-CHAR): no DQUOTE, no control characters, no line break. */
export function paramValue(value: string): string {
  return `"${value.replace(LINE_BREAK, ' ').replace(CONTROL, '').replace(/"/g, "'")}"`;
}

/** A URI as a property value: what a URI may not hold is percent-encoded, so it stays one value. */
export function uri(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return value.replace(/[\u0000-\u0020\u007f-\u009f\u2028\u2029"<>\\^`{|}]/g, (c) => encodeURIComponent(c));
}

function mailto(address: string): string {
  return uri(`mailto:${address}`);
}

/**
 * Folds a content line at 75 octets (RFC 5545 §3.1): continuation lines start with one space. Counts UTF-8
 * octets and never splits a character.
 */
export function foldLine(line: string): string {
  // Most lines are ASCII, one octet a character: cut by length, without looking at each character.
  if (ASCII.test(line)) {
    if (line.length <= 75) return line;
    const parts = [line.slice(0, 75)];
    for (let at = 75; at < line.length; at += 74) parts.push(line.slice(at, at + 74));
    return parts.join('\r\n ');
  }
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = utf8Octets(char.codePointAt(0)!);
    // The first line holds 75 octets; continuations 74 plus the leading space.
    const limit = parts.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: every ASCII character is allowed here.
const ASCII = /^[\u0000-\u007f]*$/;

/** Octets of a code point in UTF-8; a lone surrogate is written as U+FFFD, three octets. */
function utf8Octets(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint < 0x10000 ? 3 : 4;
}

/** DATE-TIME in UTC, e.g. 20231123T120000Z. */
export function formatUtc(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
