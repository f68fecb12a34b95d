import type { AttendeeSessionPlaceGrantedEvent } from '@citydeals/contracts';
import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { composeEmail } from '../email/email.compose.ts';
import type { EmailContext } from '../email/email.context.ts';
import { insertEmails } from '../email/email.repository.ts';
import { lockMeetings } from '../read-models/meeting.repository.ts';
import { MeetingNotKnownYet, PersonalLinkNotKnownYet } from '../read-models/not-known-yet.ts';
import { findRecipients } from '../read-models/recipient.repository.ts';

/**
 * A session place given by promotion (docs/sessions.md) becomes one short mail to the attendee, with their
 * personal manage link, in their language (the meeting's when they chose none). The event names the
 * registration only, so the address, name and link come from the recipient read model, which the
 * registration's earlier events in the stream filled. Once per event (the dedupe key, besides the inbox);
 * none to an erased registration or for a cancelled meeting.
 */
export async function sessionPlaceGranted(
  trx: Transaction<Database>,
  ctx: EmailContext,
  event: AttendeeSessionPlaceGrantedEvent,
): Promise<void> {
  const { registrationId, meetingId } = event.data;
  const meeting = (await lockMeetings(trx, [meetingId])).get(meetingId);
  if (!meeting) throw new MeetingNotKnownYet(`meeting ${meetingId} has not arrived yet`);
  const [recipient] = await findRecipients(trx, [registrationId]);
  if (recipient?.erased || meeting.status === 'cancelled') return;
  if (!recipient?.manage_url) {
    // The registration's own events come first in the stream; one overtaken by this is retried shortly.
    throw new PersonalLinkNotKnownYet(`registration ${registrationId} is not known with its link yet`);
  }
  const mail = composeEmail(ctx, {
    kind: 'session_place',
    meeting,
    recipient,
    now: ctx.clock.now(),
    extra: {
      session: {
        title: event.data.sessionTitle,
        startsAt: new Date(event.data.startsAt),
        endsAt: new Date(event.data.endsAt),
        waited: event.data.previousPosition !== null,
      },
    },
    dedupeKey: `${event.id}:${registrationId}`,
  });
  if ((await insertEmails(trx, [mail])) > 0 && ctx.mail.queued()) await ctx.mail.notify(trx);
}
