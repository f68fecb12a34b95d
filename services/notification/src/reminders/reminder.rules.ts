import { durationMs } from '@citydeals/calendar';
import type { ReminderStatus } from '../db/email.tables.ts';

export function reminderDueAt(startsAt: Date, offset: string): Date {
  return new Date(startsAt.getTime() - durationMs(offset));
}

export interface ExistingReminder {
  offset: string;
  status: ReminderStatus;
}

export interface PlannedReminder {
  offset: string;
  dueAt: Date;
  status: 'pending' | 'skipped';
}

export interface ReminderPlan {
  /** Rows to insert or to (re)time: one per offset of the meeting that is not already handled. */
  upsert: PlannedReminder[];
  /** Offsets that are no longer in the meeting and were still waiting. */
  cancel: string[];
}

/** Statuses that a new plan may overwrite: nothing has been sent for them and nothing is in flight. */
const replannable: ReadonlySet<ReminderStatus> = new Set(['pending', 'skipped', 'cancelled', 'expired']);

/**
 * The reminder schedule of one attendee with a seat. An offset whose moment has already passed is
 * `skipped`, so someone who registers late (or whose meeting moved closer) never gets a stale reminder.
 * Reminders already handed to the mail queue or suppressed are left alone.
 */
export function planReminders(input: {
  startsAt: Date;
  offsets: readonly string[];
  now: Date;
  existing: readonly ExistingReminder[];
}): ReminderPlan {
  const byOffset = new Map(input.existing.map((r) => [r.offset, r.status]));
  const upsert: PlannedReminder[] = [];
  for (const offset of input.offsets) {
    const current = byOffset.get(offset);
    if (current !== undefined && !replannable.has(current)) continue;
    const dueAt = reminderDueAt(input.startsAt, offset);
    const stillAhead =
      dueAt.getTime() > input.now.getTime() && input.startsAt.getTime() > input.now.getTime();
    upsert.push({ offset, dueAt, status: stillAhead ? 'pending' : 'skipped' });
  }
  const wanted = new Set(input.offsets);
  const cancel = input.existing
    .filter((r) => !wanted.has(r.offset) && r.status === 'pending')
    .map((r) => r.offset);
  return { upsert, cancel };
}

export type DueReminderDecision = 'send' | 'expired' | 'cancelled' | 'suppressed';

/**
 * What to do with a reminder whose time has come. A reminder still unsent when the meeting starts has
 * lost its point; one for a registration that lost its seat or a meeting that is off is dropped.
 */
export function decideDueReminder(input: {
  now: Date;
  meeting: { startsAt: Date; status: string } | undefined;
  recipient: { status: string; hasAddress: boolean } | undefined;
  suppressed: boolean;
}): DueReminderDecision {
  const { meeting, recipient } = input;
  if (!meeting || meeting.status === 'cancelled') return 'cancelled';
  if (input.now.getTime() >= meeting.startsAt.getTime()) return 'expired';
  if (recipient?.status !== 'confirmed' || !recipient.hasAddress) return 'cancelled';
  if (input.suppressed) return 'suppressed';
  return 'send';
}
