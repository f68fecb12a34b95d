import type { AttendeeMessageRequestedEvent, Language } from '@citydeals/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { composeEmail } from '../email/email.compose.ts';
import type { EmailContext } from '../email/email.context.ts';
import { insertEmails, suppressedHashes } from '../email/email.repository.ts';
import { MeetingNotKnownYet, PersonalLinkNotKnownYet } from '../email/email.service.ts';
import { type RenderedMail, renderMail } from '../email/email.templates.ts';
import { addressHash, unsubscribeToken } from '../email/unsubscribe.rules.ts';
import { findMeetings, lockMeetings } from '../read-models/meeting.repository.ts';
import { findRecipients } from '../read-models/recipient.repository.ts';

/**
 * One recipient of an office message becomes one mail in the queue, at most once per message and
 * registration (the dedupe key), so a redelivered event queues nothing new. An erased registration or a
 * suppressed address gets nothing; the text is the one registration chose for the attendee's language.
 */
export async function messageRequested(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: AttendeeMessageRequestedEvent,
): Promise<void> {
  const { messageId, registrationId, meetingId } = event.data;
  const meeting = (await lockMeetings(trx, [meetingId])).get(meetingId);
  if (!meeting) throw new MeetingNotKnownYet(`meeting ${meetingId} has not arrived yet`);
  const [recipient] = await findRecipients(trx, [registrationId]);
  if (recipient?.erased) return;
  // The attendee's own events come first in the stream; a message overtaking them is retried shortly.
  if (!recipient?.manage_url) {
    throw new PersonalLinkNotKnownYet(`registration ${registrationId} is not known with its link yet`);
  }
  const secret = await ctx.secret(trx);
  if (recipient.email && (await suppressedHashes(trx, [addressHash(secret, recipient.email)])).size > 0)
    return;
  const mail = composeEmail(ctx, {
    kind: 'attendee_message',
    meeting,
    recipient,
    now: ctx.clock.now(),
    language: event.data.language,
    extra: { message: { subject: event.data.subject, body: event.data.body } },
    unsubscribeUrl: `${ctx.publicBaseUrl}/unsubscribe/${unsubscribeToken(secret, registrationId)}`,
    dedupeKey: `message:${messageId}:${registrationId}`,
  });
  if ((await insertEmails(trx, [mail])) > 0 && ctx.mail.queued()) await ctx.mail.notify(trx);
}

export interface MessagePreviewInput {
  language: Language;
  subject: string;
  body: string;
  name?: string | undefined;
}

/**
 * The exact mail an attendee of the meeting would get for this text (subject, HTML and text), with a sample
 * name and links: what the office reads before sending.
 */
export async function previewMessage(
  db: Kysely<Database>,
  ctx: EmailContext,
  meetingId: string,
  input: MessagePreviewInput,
): Promise<(RenderedMail & { language: Language }) | null> {
  const [meeting] = await findMeetings(db, [meetingId]);
  if (!meeting) return null;
  const rendered = renderMail('attendee_message', input.language, {
    name: input.name ?? (input.language === 'nl' ? 'Voornaam Achternaam' : 'First Last'),
    meeting: {
      title: meeting.title,
      startsAt: new Date(meeting.starts_at),
      endsAt: new Date(meeting.ends_at),
      timeZone: meeting.time_zone,
      venueName: meeting.venue_name,
      venueAddress: meeting.venue_address,
      onlineUrl: meeting.online_url,
    },
    // Each attendee's own links; placeholders here.
    manageUrl: 'https://…/aanmelding/beheren/…',
    unsubscribeUrl: `${ctx.publicBaseUrl}/unsubscribe/…`,
    message: { subject: input.subject, body: input.body },
  });
  return { ...rendered, language: input.language };
}
