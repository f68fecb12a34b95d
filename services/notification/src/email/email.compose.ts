import type { EmailKind, Language } from '@citydeals/contracts';
import { type MailTexts, mailTextsFor } from '../mail-texts/mail-text.rules.ts';
import type { MeetingRow } from '../read-models/meeting.repository.ts';
import type { RecipientRow } from '../read-models/recipient.repository.ts';
import { DOOR_QR_CID, showsDoorQr } from './door-qr.ts';
import type { EmailContext } from './email.context.ts';
import type { NewEmail } from './email.repository.ts';
import { mailLanguage, messageIdFor } from './email.rules.ts';
import { type MailData, renderMail } from './email.templates.ts';
import { buildIcs } from './ics.format.ts';

export interface ComposeInput {
  kind: EmailKind;
  meeting: MeetingRow;
  recipient: RecipientRow;
  now: Date;
  dedupeKey: string;
  calendar?: 'REQUEST' | 'CANCEL' | null;
  /** SEQUENCE of the calendar entry; the meeting's unless this mail supersedes the entry on its own. */
  calendarSequence?: number;
  extra?: Pick<
    MailData,
    | 'position'
    | 'previous'
    | 'reason'
    | 'changes'
    | 'confirmUrl'
    | 'surveyUrl'
    | 'acceptUrl'
    | 'linkExpiresAt'
    | 'message'
    | 'session'
  >;
  /** The mail's language when its text was chosen before (an office message written in one language). */
  language?: Language;
  reminderOffset?: string | null;
  dealNews?: MailData['dealNews'];
  unsubscribeUrl?: string | null;
  expiresAt?: Date | null;
  /** The meeting's office texts by language; the mail shows them if its kind carries them. */
  mailTexts?: ReadonlyMap<Language, MailTexts> | undefined;
}

/** One attendee's calendar entry for a meeting: the UID stays the same through every update. */
export function calendarUid(registrationId: string, domain: string): string {
  return `${registrationId}@${domain}`;
}

/**
 * Renders a mail into a queue row; it is sent later by the sender, exactly as rendered now. The row is due
 * at once (the database's now), whatever clock the schedule runs on.
 */
export function composeEmail(ctx: EmailContext, input: ComposeInput): NewEmail {
  const { meeting, recipient } = input;
  if (!recipient.email || !recipient.name || !recipient.manage_url) {
    throw new Error(`registration ${recipient.registration_id} has no address (erased)`);
  }
  const id = ctx.newId();
  // Dated with the real time: `now` runs on the schedule's clock, which a demo may have shifted.
  const composedAt = ctx.wallClock.now();
  const language = input.language ?? mailLanguage(recipient.language, meeting.language);
  const meetingView = {
    title: meeting.title,
    startsAt: new Date(meeting.starts_at),
    endsAt: new Date(meeting.ends_at),
    timeZone: meeting.time_zone,
    venueName: meeting.venue_name,
    venueAddress: meeting.venue_address,
    onlineUrl: meeting.online_url,
  };
  const rendered = renderMail(input.kind, language, {
    name: recipient.name,
    meeting: meetingView,
    manageUrl: recipient.manage_url,
    reminderOffset: input.reminderOffset ?? null,
    dealNews: input.dealNews ?? null,
    unsubscribeUrl: input.unsubscribeUrl ?? null,
    hasCalendar: Boolean(input.calendar),
    doorQrCid: ctx.consoleUrl && showsDoorQr(input.kind) ? DOOR_QR_CID : null,
    office: mailTextsFor(input.kind, language, input.mailTexts),
    ...input.extra,
  });
  const ics = input.calendar
    ? buildIcs({
        method: input.calendar,
        uid: calendarUid(recipient.registration_id, ctx.messageIdDomain),
        sequence: input.calendarSequence ?? meeting.ics_sequence,
        stamp: composedAt,
        startsAt: meetingView.startsAt,
        endsAt: meetingView.endsAt,
        title: meeting.title,
        location: `${meeting.venue_name}, ${meeting.venue_address}`,
        description: `${rendered.subject}\n${recipient.manage_url}`,
        url: meeting.online_url,
        organizer: { name: ctx.from.name, email: ctx.from.address },
        attendee: { name: recipient.name, email: recipient.email },
      })
    : null;
  return {
    id,
    kind: input.kind,
    meeting_id: meeting.id,
    registration_id: recipient.registration_id,
    reminder_offset: input.reminderOffset ?? null,
    recipient: recipient.email,
    language,
    subject: rendered.subject,
    text_body: rendered.text,
    html_body: rendered.html,
    ics,
    ics_method: input.calendar ?? null,
    unsubscribe_url: input.unsubscribeUrl ?? null,
    message_id: messageIdFor(id, ctx.messageIdDomain),
    dedupe_key: input.dedupeKey,
    status: 'queued',
    expires_at: input.expiresAt ?? null,
    created_at: composedAt,
  };
}
