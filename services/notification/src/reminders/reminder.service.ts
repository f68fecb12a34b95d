import type { IndexPlannedDb } from '@citydeals/db';
import type { Clock } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ReminderStatus } from '../db/email.tables.ts';
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

/** A reminder whose mail is to be written now, with what the mail names. */
export interface DueReminderMail {
  reminderId: number;
  dueAt: Date;
  offset: string;
  meeting: MeetingRow;
  recipient: RecipientRow;
}

/**
 * What dispatching reminders needs of the mail queue. The email feature provides it (`reminderMailsOf`),
 * handed over where the service is put together (app.ts), so neither feature imports the other; the
 * attendee events that plan reminders are handled in attendees/.
 */
export interface ReminderMails {
  /** The registrations among these recipients whose address is on the suppression list. */
  suppressed(trx: Transaction<Database>, recipients: readonly RecipientRow[]): Promise<Set<string>>;
  /** Composes and queues the reminders' mails in this transaction; returns their ids, in order. */
  queue(trx: Transaction<Database>, reminders: readonly DueReminderMail[], now: Date): Promise<string[]>;
  /** Mails a dispatch queued have been committed: the senders can take them now. */
  committed(): void;
}

/** What happened to one reminder that fell due. */
export interface DispatchedReminder {
  id: number;
  status: ReminderStatus;
}

/**
 * Turns due reminders into queued mails in one transaction: the claimed rows stay locked until the mails
 * are recorded, so a second dispatcher skips them, and a crash before commit leaves them due. The row lock
 * is the lease: nothing outlives the transaction, so a reminder is handed to the mail queue exactly once.
 */
export async function dispatchDueReminders(
  // Every statement here takes or changes a batch by an index (the due ones, their meetings, recipients,
  // mails and reminder rows by id), whatever the statistics of a table that just filled up say.
  db: IndexPlannedDb<Database>,
  deps: { clock: Clock; mails: ReminderMails },
  limit: number,
): Promise<DispatchedReminder[]> {
  return db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const due = await claimDueReminders(trx, now, limit);
    if (due.length === 0) return [];
    const meetings = new Map(
      (await findMeetings(trx, [...new Set(due.map((r) => r.meeting_id))])).map((m) => [m.id, m]),
    );
    const recipients = new Map(
      (await findRecipients(trx, [...new Set(due.map((r) => r.registration_id))])).map((r) => [
        r.registration_id,
        r,
      ]),
    );
    const suppressed = await deps.mails.suppressed(trx, [...recipients.values()]);
    const toMail: DueReminderMail[] = [];
    const updates: { id: number; status: ReminderStatus; emailId: string | null }[] = [];
    for (const reminder of due) {
      const meeting = meetings.get(reminder.meeting_id);
      const recipient = recipients.get(reminder.registration_id);
      const decision = decideDueReminder({
        now,
        meeting: meeting && { startsAt: new Date(meeting.starts_at), status: meeting.status },
        recipient: recipient && { status: recipient.status, hasAddress: Boolean(recipient.email) },
        suppressed: suppressed.has(reminder.registration_id),
      });
      if (decision !== 'send' || !meeting || !recipient) {
        updates.push({
          id: reminder.id,
          status: decision === 'send' ? 'cancelled' : decision,
          emailId: null,
        });
        continue;
      }
      toMail.push({
        reminderId: reminder.id,
        dueAt: new Date(reminder.due_at),
        offset: reminder.reminder_offset,
        meeting,
        recipient,
      });
    }
    const emailIds = await deps.mails.queue(trx, toMail, now);
    toMail.forEach((reminder, i) => {
      updates.push({ id: reminder.reminderId, status: 'queued', emailId: emailIds[i]! });
    });
    await setReminderStatus(trx, updates);
    return updates.map(({ id, status }) => ({ id, status }));
  });
}
