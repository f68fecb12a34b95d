import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { dealNewsOfReminders } from '../deal-news/deal-news.service.ts';
import { mailTextsOfMeetings } from '../mail-texts/mail-text.repository.ts';
import type { MeetingRow } from '../read-models/meeting.repository.ts';
import type { RecipientRow } from '../read-models/recipient.repository.ts';
import { composeEmail } from './email.compose.ts';
import type { EmailContext } from './email.context.ts';
import { insertEmails, suppressedHashes } from './email.repository.ts';
import { addressHash, unsubscribeToken } from './unsubscribe.rules.ts';

/** A reminder whose mail is to be written now, with what the mail names. */
export interface DueReminderMail {
  reminderId: number;
  dueAt: Date;
  offset: string;
  meeting: MeetingRow;
  recipient: RecipientRow;
}

/**
 * The mail queue as the reminder dispatcher uses it: suppression, composing and queueing, the wake-up. It
 * is the reminders' `ReminderMails`, handed to them where the service is put together (app.ts): neither
 * feature imports the other.
 */
export function reminderMailsOf(ctx: EmailContext) {
  return {
    async suppressed(trx: Transaction<Database>, recipients: readonly RecipientRow[]): Promise<Set<string>> {
      const secret = await ctx.secret(trx);
      const hashed = recipients.flatMap((r) =>
        r.email ? [{ registrationId: r.registration_id, hash: addressHash(secret, r.email) }] : [],
      );
      const suppressed = await suppressedHashes(
        trx,
        hashed.map((h) => h.hash),
      );
      return new Set(hashed.filter((h) => suppressed.has(h.hash)).map((h) => h.registrationId));
    },
    async queue(
      trx: Transaction<Database>,
      reminders: readonly DueReminderMail[],
      now: Date,
    ): Promise<string[]> {
      if (reminders.length === 0) return [];
      const secret = await ctx.secret(trx);
      const texts = await mailTextsOfMeetings(
        trx,
        reminders.map((r) => r.meeting.id),
      );
      const dealNews = await dealNewsOfReminders(trx, reminders, now);
      const mails = reminders.map(({ reminderId, dueAt, offset, meeting, recipient }) =>
        composeEmail(ctx, {
          mailTexts: texts.get(meeting.id),
          kind: 'reminder',
          meeting,
          recipient,
          now,
          // Planned again for a new time (a reschedule), a reminder is a new mail.
          dedupeKey: `reminder:${reminderId}:${dueAt.toISOString()}`,
          reminderOffset: offset,
          unsubscribeUrl: `${ctx.publicBaseUrl}/unsubscribe/${unsubscribeToken(secret, recipient.registration_id)}`,
          expiresAt: new Date(meeting.starts_at),
          dealNews: dealNews.get(reminderId) ?? null,
        }),
      );
      await insertEmails(trx, mails);
      return mails.map((mail) => mail.id);
    },
    committed: (): void => ctx.mail.committed(),
  };
}
