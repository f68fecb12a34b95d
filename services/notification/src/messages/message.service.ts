import type { AttendeeMessageRequestedEvent, Language } from '@citydeals/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { composeEmail } from '../email/email.compose.ts';
import type { EmailContext } from '../email/email.context.ts';
import { insertEmails, suppressedHashes } from '../email/email.repository.ts';
import { type RenderedMail, renderMail } from '../email/email.templates.ts';
import { addressHash, unsubscribeToken } from '../email/unsubscribe.rules.ts';
import { findMeetings, lockMeetings } from '../read-models/meeting.repository.ts';
import { MeetingNotKnownYet, PersonalLinkNotKnownYet } from '../read-models/not-known-yet.ts';
import { findRecipients } from '../read-models/recipient.repository.ts';

/**
 * One recipient of an office message becomes one mail in the queue, at most once per message and
 * registration (the dedupe key), so a redelivered event queues nothing new. An erased registration or a
 * suppressed address gets nothing; the text is the one registration chose for the attendee's language.
 */
export function messageRequested(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: AttendeeMessageRequestedEvent,
): Promise<void> {
  return messagesRequested(trx, ctx, [event]);
}

/**
 * The same for a run of message events, with the same effects as messageRequested for each in turn, in a
 * fixed number of statements: one message to a meeting arrives as one event per attendee, all together.
 * What cannot be done yet for one event (its meeting or its recipient's link not known yet) fails the run,
 * and the runner replays its events one by one.
 */
export async function messagesRequested(
  trx: Transaction<Database>,
  ctx: EmailContext,
  events: readonly AttendeeMessageRequestedEvent[],
): Promise<void> {
  const meetings = await lockMeetings(
    trx,
    events.map((e) => e.data.meetingId),
  );
  const unknown = events.find((e) => !meetings.has(e.data.meetingId));
  if (unknown) throw new MeetingNotKnownYet(`meeting ${unknown.data.meetingId} has not arrived yet`);
  const recipients = new Map(
    (
      await findRecipients(
        trx,
        events.map((e) => e.data.registrationId),
      )
    ).map((r) => [r.registration_id, r]),
  );
  const live = events.filter((e) => !recipients.get(e.data.registrationId)?.erased);
  // The attendee's own events come first in the stream; a message overtaking them is retried shortly.
  const linkless = live.find((e) => !recipients.get(e.data.registrationId)?.manage_url);
  if (linkless) {
    throw new PersonalLinkNotKnownYet(
      `registration ${linkless.data.registrationId} is not known with its link yet`,
    );
  }
  if (live.length === 0) return;
  const secret = await ctx.secret(trx);
  const hashes = new Map(
    live.flatMap((e) => {
      const email = recipients.get(e.data.registrationId)?.email;
      return email ? [[e.data.registrationId, addressHash(secret, email)] as const] : [];
    }),
  );
  const suppressed = await suppressedHashes(trx, [...new Set(hashes.values())]);
  const now = ctx.clock.now();
  const mails = live
    .filter((e) => {
      const hash = hashes.get(e.data.registrationId);
      return hash === undefined || !suppressed.has(hash);
    })
    .map((event) => {
      const { messageId, registrationId, meetingId } = event.data;
      return composeEmail(ctx, {
        kind: 'attendee_message',
        meeting: meetings.get(meetingId)!,
        recipient: recipients.get(registrationId)!,
        now,
        language: event.data.language,
        extra: { message: { subject: event.data.subject, body: event.data.body } },
        unsubscribeUrl: `${ctx.publicBaseUrl}/unsubscribe/${unsubscribeToken(secret, registrationId)}`,
        dedupeKey: `message:${messageId}:${registrationId}`,
      });
    });
  if ((await insertEmails(trx, mails)) > 0 && ctx.mail.queued()) await ctx.mail.notify(trx);
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
