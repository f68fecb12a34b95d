import { once } from 'node:events';
import {
  type AttendeeSnapshot,
  createEvent,
  type EventDefinition,
  registrationEvents as e,
  type MeetingSnapshot,
} from '@citydeals/contracts';
import { type Namespace, publishEvent } from '@citydeals/messaging';
import { newEventId } from '@citydeals/service-kit';
import { recordedEvent } from '@citydeals/testkit';
import type { JetStreamClient } from '@nats-io/jetstream';
import ICAL from 'ical.js';
import type { Kysely } from 'kysely';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Database } from '../../src/db/database.ts';
import { type EmailContext, mailSignal } from '../../src/email/email.context.ts';
import type { NewEmail } from '../../src/email/email.repository.ts';
import { messageIdFor } from '../../src/email/email.rules.ts';

export interface ReceivedMail {
  to: string;
  raw: string;
  parsed: ParsedMail;
  messageId: string;
  kind: string;
  header(name: string): string | undefined;
  ics(): string | undefined;
}

/**
 * A real SMTP server on a free port that records every accepted message. `reply` decides per recipient
 * and attempt: a number answers RCPT TO with that code, undefined accepts.
 */
export async function startSmtpServer(
  options: {
    reply?: (address: string, attempt: number) => number | undefined;
    /** Delay before accepting each message's data, to keep mails in flight longer. */
    acceptDelayMs?: number;
    /**
     * Called with each message the client has finished sending: a promise returned holds the answer to its
     * DATA (the 250) until it resolves, as a slow server would; the message counts as received after that.
     */
    holdAnswer?: (raw: string) => Promise<void> | undefined;
    /** Parse each message fully (MIME, attachments); off, only the raw header lines are read. */
    parse?: boolean;
    /** A given port, e.g. to bring a stopped server back where its clients look for it; a free one otherwise. */
    port?: number;
  } = {},
) {
  const received: ReceivedMail[] = [];
  const attempts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    maxClients: 100,
    // On close, sessions still open are ended soon after, as a mail server going down would.
    closeTimeout: 200,
    disableReverseLookup: true,
    onRcptTo(address, _session, callback) {
      const attempt = (attempts.get(address.address) ?? 0) + 1;
      attempts.set(address.address, attempt);
      const code = options.reply?.(address.address, attempt);
      if (code) {
        const err = Object.assign(
          new Error(code >= 500 ? '5.1.1 Mailbox unavailable' : '4.7.1 Try again later'),
          {
            responseCode: code,
          },
        );
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed =
          options.parse === false ? headersOnly(raw) : await simpleParser(raw, { skipTextToHtml: true });
        if (options.acceptDelayMs) await new Promise((r) => setTimeout(r, options.acceptDelayMs));
        await options.holdAnswer?.(raw);
        const to = session.envelope.rcptTo.map((r) => r.address).join(',');
        received.push({
          to,
          raw,
          parsed,
          messageId: parsed.messageId ?? '',
          kind: String(parsed.headers.get('x-citydeals-kind') ?? ''),
          // Raw header lines: mailparser folds List-* headers into a structured `list` value.
          header: (name) => {
            const line = parsed.headerLines.find((h) => h.key === name.toLowerCase());
            return line?.line
              .slice(line.line.indexOf(':') + 1)
              .replace(/\r?\n\s+/g, ' ')
              .trim();
          },
          ics: () => {
            const part = parsed.attachments.find((a) => /calendar|ics/.test(a.contentType));
            return part?.content.toString('utf8');
          },
        });
        callback();
      });
    },
  });
  // A client killed mid-session resets its connection; that is the crash under test, not a failure.
  server.on('error', () => {});
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    attemptsFor: (address: string) => attempts.get(address) ?? 0,
    to: (address: string) => received.filter((m) => m.to === address),
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The header lines of a raw message, in the shape the tests read from a parsed one. */
function headersOnly(raw: string): ParsedMail {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const headerLines = head
    .split('\r\n')
    .map((line) => ({ key: line.slice(0, line.indexOf(':')).toLowerCase(), line }));
  const value = (key: string) =>
    headerLines
      .find((h) => h.key === key)
      ?.line.slice(key.length + 1)
      .trim();
  return {
    headerLines,
    headers: new Map([['x-citydeals-kind', value('x-citydeals-kind') ?? '']]),
    messageId: value('message-id'),
    subject: value('subject'),
    attachments: [],
  } as unknown as ParsedMail;
}

const day = 86_400_000;

export function meetingSnapshot(overrides: Partial<MeetingSnapshot> = {}): MeetingSnapshot {
  const startsAt = new Date(Date.now() + 10 * day);
  startsAt.setUTCMinutes(0, 0, 0);
  return {
    meetingId: crypto.randomUUID(),
    version: 1,
    title: 'Community of Practice City Deals',
    slug: 'cop-city-deals',
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 4.5 * 3600_000).toISOString(),
    timeZone: 'Europe/Amsterdam',
    venue: { name: 'Hangar op het voormalige PTT-terrein', address: 'Voormalig PTT-terrein, Den Haag' },
    onlineUrl: null,
    language: 'nl',
    reminderOffsets: ['P7D', 'P1D'],
    status: 'published',
    capacity: 500,
    icsSequence: 0,
    ...overrides,
  };
}

let attendeeCount = 0;
export function attendeeSnapshot(
  meetingId: string,
  overrides: Partial<AttendeeSnapshot> = {},
): AttendeeSnapshot {
  attendeeCount += 1;
  const registrationId = crypto.randomUUID();
  return {
    registrationId,
    meetingId,
    version: 1,
    status: 'confirmed',
    name: `Deelnemer ${attendeeCount}`,
    email: `deelnemer-${attendeeCount}-${registrationId.slice(0, 8)}@example.org`,
    language: 'nl',
    position: null,
    dealId: null,
    manageUrl: `https://cop.citydeals.example.org/aanmelding/beheren/tok${registrationId.replaceAll('-', '')}`,
    ...overrides,
  };
}

/**
 * This test's values in the shape registration really emits (recorded by its own test through its real
 * routes, packages/testkit/fixtures): the same fields, and the manage link in the recorded form — personal
 * (with its token) only where registration sends it so. Events written by hand once carried the personal
 * link in every attendee event, which registration never sends, and hid that promoted attendees got dead
 * links. packages/journeys checks the same end to end.
 */
function asRegistrationEmits(type: string, data: Record<string, unknown>): Record<string, unknown> {
  const recorded = recordedEvent(type).data;
  const missing = Object.keys(recorded).filter((key) => !(key in data));
  const extra = Object.keys(data).filter((key) => !(key in recorded));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`${type} differs from what registration emits: missing [${missing}], extra [${extra}]`);
  }
  if (typeof recorded.manageUrl !== 'string' || typeof data.manageUrl !== 'string') return data;
  const personal = data.manageUrl;
  return {
    ...data,
    manageUrl: recorded.manageUrl
      .replace('<publicBaseUrl>', new URL(personal).origin)
      .replace('<secret>', personal.slice(personal.lastIndexOf('/') + 1)),
  };
}

/** Publishes registration events into the service's namespace, as the registration service would. */
export function eventFeed(js: JetStreamClient, ns: Namespace) {
  const publish = async <D extends EventDefinition>(definition: D, subject: string, data: object) => {
    const event = createEvent(definition, {
      id: newEventId(),
      time: new Date(),
      source: '/registration',
      subject,
      data: asRegistrationEmits(definition.type, { ...data }) as never,
    });
    await publishEvent(js, ns, definition, event);
    return event;
  };
  return {
    scheduled: (m: MeetingSnapshot) => publish(e.meetingScheduled, m.meetingId, m),
    updated: (m: MeetingSnapshot, changedFields: string[]) =>
      publish(e.meetingUpdated, m.meetingId, { ...m, changedFields }),
    rescheduled: (m: MeetingSnapshot, previous: MeetingSnapshot) =>
      publish(e.meetingRescheduled, m.meetingId, {
        ...m,
        previousStartsAt: previous.startsAt,
        previousEndsAt: previous.endsAt,
      }),
    meetingCancelled: (m: MeetingSnapshot, reason: string | null) =>
      publish(e.meetingCancelled, m.meetingId, { ...m, status: 'cancelled', reason }),
    registered: (a: AttendeeSnapshot) => publish(e.attendeeRegistered, a.registrationId, a),
    waitlisted: (a: AttendeeSnapshot) => publish(e.attendeeWaitlisted, a.registrationId, a),
    promoted: (a: AttendeeSnapshot, previousPosition: number) =>
      publish(e.attendeePromoted, a.registrationId, { ...a, previousPosition }),
    cancelled: (a: AttendeeSnapshot, previousStatus: 'confirmed' | 'waitlisted') =>
      publish(e.attendeeCancelled, a.registrationId, { ...a, previousStatus, cancelledBy: 'attendee' }),
    checkedIn: (a: AttendeeSnapshot, checkedInAt: string) =>
      publish(e.attendeeCheckedIn, a.registrationId, { ...a, status: 'checked_in', checkedInAt }),
    checkInUndone: (a: AttendeeSnapshot, previousCheckedInAt: string) =>
      publish(e.attendeeCheckInUndone, a.registrationId, {
        ...a,
        status: 'confirmed',
        previousCheckedInAt,
        undoneAt: new Date().toISOString(),
        undoneBy: { type: 'user', id: 'staff:test', name: 'Dora Deur <dora@example.nl>' },
      }),
    substituted: (a: AttendeeSnapshot) =>
      publish(e.attendeeSubstituted, a.registrationId, {
        ...a,
        status: 'confirmed',
        position: null,
        changedBy: { type: 'user', id: 'staff:test', name: 'Rik Redacteur <rik@example.nl>' },
      }),
    erased: (a: AttendeeSnapshot, version: number) =>
      publish(e.attendeeErased, a.registrationId, {
        registrationId: a.registrationId,
        meetingId: a.meetingId,
        version,
      }),
  };
}

/** A clock that starts at real time and can only be moved forward. */
export function testClock() {
  let shift = 0;
  return {
    now: () => new Date(Date.now() + shift),
    advanceTo(date: Date) {
      shift = Math.max(shift, date.getTime() - Date.now());
    },
  };
}

/** A queued mail as the composer writes it (a short reminder), for tests of the queue and its senders. */
export function queuedMail(i: number, overrides: Partial<NewEmail> = {}): NewEmail {
  const id = crypto.randomUUID();
  return {
    id,
    kind: 'reminder',
    meeting_id: null,
    registration_id: null,
    reminder_offset: 'P1D',
    recipient: `mail-${i}-${id.slice(0, 8)}@example.org`,
    language: 'nl',
    subject: `Herinnering ${i}`,
    text_body: 'Tot morgen.\n',
    html_body: null,
    ics: null,
    ics_method: null,
    unsubscribe_url: null,
    message_id: messageIdFor(id, 'test.example.org'),
    dedupe_key: null,
    status: 'queued',
    expires_at: null,
    created_at: new Date(),
    ...overrides,
  };
}

/** The email feature's context for tests that drive a sender directly, on the given clock. */
export function testEmailContext(clock: EmailContext['clock']): EmailContext {
  return {
    clock,
    wallClock: clock,
    newId: () => crypto.randomUUID(),
    from: { name: 'City Deals', address: 'cop@example.org', header: 'City Deals <cop@example.org>' },
    messageIdDomain: 'test.example.org',
    publicBaseUrl: 'http://notification.test',
    consoleUrl: null,
    secret: async () => 'test-secret',
    mail: mailSignal(),
  };
}

/** The calendar part of a received mail, read with a real iCalendar parser. */
export function parseIcs(mail: ReceivedMail) {
  const text = mail.ics();
  if (!text) throw new Error(`mail "${mail.parsed.subject}" has no calendar part`);
  const calendar = new ICAL.Component(ICAL.parse(text));
  const event = calendar.getFirstSubcomponent('vevent')!;
  return {
    method: calendar.getFirstPropertyValue('method'),
    uid: event.getFirstPropertyValue('uid'),
    sequence: Number(event.getFirstPropertyValue('sequence')),
    start: (event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate(),
    end: (event.getFirstPropertyValue('dtend') as ICAL.Time).toJSDate(),
    status: event.getFirstPropertyValue('status'),
  };
}

/** A time as an attendee in the Netherlands reads it in a mail. */
export const amsterdamTime = (d: Date, locale = 'nl-NL') =>
  new Intl.DateTimeFormat(locale, {
    timeZone: 'Europe/Amsterdam',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d);

/** What the mail tests read back from the service's tables: a registration's reminders, a consumed event. */
export function notificationRows(db: Kysely<Database>) {
  return {
    reminders: (registrationId: string) =>
      db
        .selectFrom('reminder')
        .select(['reminder_offset', 'due_at', 'status'])
        .where('registration_id', '=', registrationId)
        .orderBy('reminder_offset')
        .execute(),
    inboxHas: async (eventId: string) =>
      Boolean(
        await db.selectFrom('inbox').select('event_id').where('event_id', '=', eventId).executeTakeFirst(),
      ),
  };
}
