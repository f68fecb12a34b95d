import type { IndexPlannedDb } from '@citydeals/db';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ReminderStatus } from '../db/email.tables.ts';
import { composeEmail } from '../email/email.compose.ts';
import type { EmailContext } from '../email/email.context.ts';
import { insertEmails, type NewEmail, suppressedHashes } from '../email/email.repository.ts';
import { addressHash, unsubscribeToken } from '../email/unsubscribe.rules.ts';
import { findMeetings, type MeetingRow } from '../read-models/meeting.repository.ts';
import {
  type AppliedRecipient,
  findRecipients,
  type RecipientRow,
} from '../read-models/recipient.repository.ts';
import {
  applyReminderPlans,
  claimDueReminders,
  remindersOf,
  setReminderStatus,
} from './reminder.repository.ts';
import { decideDueReminder, type ExistingReminder, planReminders } from './reminder.rules.ts';

/** Brings the reminder rows of these attendees (all with a seat) in line with the meeting as it is now. */
export function planRemindersFor(
  trx: Transaction<Database>,
  now: Date,
  meeting: MeetingRow,
  recipients: readonly RecipientRow[],
): Promise<void> {
  return planRemindersOf(
    trx,
    now,
    recipients.map((recipient) => ({ meeting, recipient })),
  );
}

/** As planRemindersFor, for attendees of any meetings: a fixed number of statements however many. */
export async function planRemindersOf(
  trx: Transaction<Database>,
  now: Date,
  seats: readonly {
    meeting: MeetingRow;
    recipient: RecipientRow & Partial<Pick<AppliedRecipient, 'first_seen'>>;
  }[],
): Promise<void> {
  const planned = seats.filter(({ meeting }) => meeting.status !== 'cancelled');
  if (planned.length === 0) return;
  // A recipient first seen in this transaction has no reminders to look up (a new registration, usually).
  const known = planned.filter(({ recipient }) => !recipient.first_seen);
  const existing =
    known.length === 0
      ? new Map<string, ExistingReminder[]>()
      : await remindersOf(
          trx,
          known.map(({ recipient }) => recipient.registration_id),
        );
  await applyReminderPlans(
    trx,
    planned.map(({ meeting, recipient }) => ({
      registrationId: recipient.registration_id,
      meetingId: meeting.id,
      plan: planReminders({
        startsAt: new Date(meeting.starts_at),
        offsets: meeting.reminder_offsets,
        now,
        existing: existing.get(recipient.registration_id) ?? [],
      }),
    })),
  );
}

export function unsubscribeUrl(ctx: EmailContext, secret: string, registrationId: string): string {
  return `${ctx.publicBaseUrl}/unsubscribe/${unsubscribeToken(secret, registrationId)}`;
}

export interface DispatchResult {
  claimed: number;
  queued: number;
  dropped: number;
}

/**
 * Turns due reminders into queued mails in one transaction: the claimed rows stay locked until the mails
 * are recorded, so a second dispatcher skips them, and a crash before commit leaves them due.
 */
export async function dispatchDueReminders(
  // Every statement here takes or changes a batch by an index (the due ones, their meetings, recipients,
  // mails and reminder rows by id), whatever the statistics of a table that just filled up say.
  db: IndexPlannedDb<Database>,
  ctx: EmailContext,
  limit: number,
): Promise<DispatchResult> {
  const secret = await ctx.secret(db);
  return db.transaction().execute(async (trx) => {
    const now = ctx.clock.now();
    const due = await claimDueReminders(trx, now, limit);
    if (due.length === 0) return { claimed: 0, queued: 0, dropped: 0 };
    const trxDb = trx as unknown as Kysely<Database>;
    const meetings = new Map(
      (await findMeetings(trxDb, [...new Set(due.map((r) => r.meeting_id))])).map((m) => [m.id, m]),
    );
    const recipients = new Map(
      (await findRecipients(trxDb, [...new Set(due.map((r) => r.registration_id))])).map((r) => [
        r.registration_id,
        r,
      ]),
    );
    const hashOf = (r: RecipientRow | undefined) => (r?.email ? addressHash(secret, r.email) : null);
    const suppressed = await suppressedHashes(
      trx,
      [...recipients.values()].map(hashOf).filter((h): h is string => h !== null),
    );
    const mails: NewEmail[] = [];
    const updates: { id: number; status: ReminderStatus; emailId: string | null }[] = [];
    for (const reminder of due) {
      const meeting = meetings.get(reminder.meeting_id);
      const recipient = recipients.get(reminder.registration_id);
      const hash = hashOf(recipient);
      const decision = decideDueReminder({
        now,
        meeting: meeting && { startsAt: new Date(meeting.starts_at), status: meeting.status },
        recipient: recipient && { status: recipient.status, hasAddress: Boolean(recipient.email) },
        suppressed: hash !== null && suppressed.has(hash),
      });
      if (decision !== 'send' || !meeting || !recipient) {
        updates.push({
          id: reminder.id,
          status: decision === 'send' ? 'cancelled' : decision,
          emailId: null,
        });
        continue;
      }
      const mail = composeEmail(ctx, {
        kind: 'reminder',
        meeting,
        recipient,
        now,
        dedupeKey: `reminder:${reminder.id}:${new Date(reminder.due_at).toISOString()}`,
        reminderOffset: reminder.reminder_offset,
        unsubscribeUrl: unsubscribeUrl(ctx, secret, recipient.registration_id),
        expiresAt: new Date(meeting.starts_at),
      });
      mails.push(mail);
      updates.push({ id: reminder.id, status: 'queued', emailId: mail.id });
    }
    await insertEmails(trx, mails);
    await setReminderStatus(trx, updates);
    return { claimed: due.length, queued: mails.length, dropped: due.length - mails.length };
  });
}
