import { prepared } from '@citydeals/db';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ReminderStatus } from '../db/email.tables.ts';
import type { ExistingReminder, ReminderPlan } from './reminder.rules.ts';

export type ReminderRow = Selectable<Database['reminder']>;

export async function remindersOf(
  trx: Transaction<Database>,
  registrationIds: readonly string[],
): Promise<Map<string, ExistingReminder[]>> {
  const byRegistration = new Map<string, ExistingReminder[]>();
  if (registrationIds.length === 0) return byRegistration;
  const rows = await trx
    .selectFrom('reminder')
    .select(['registration_id', 'reminder_offset', 'status'])
    .where('registration_id', 'in', registrationIds)
    .execute();
  for (const row of rows) {
    const list = byRegistration.get(row.registration_id) ?? [];
    list.push({ offset: row.reminder_offset, status: row.status });
    byRegistration.set(row.registration_id, list);
  }
  return byRegistration;
}

/** Applies the reminder plans of several registrations: one statement for every row to insert or re-time. */
export async function applyReminderPlans(
  trx: Transaction<Database>,
  plans: readonly { registrationId: string; meetingId: string; plan: ReminderPlan }[],
): Promise<void> {
  const upserts = plans.flatMap(({ registrationId, meetingId, plan }) =>
    plan.upsert.map((p) => ({
      registration_id: registrationId,
      meeting_id: meetingId,
      reminder_offset: p.offset,
      due_at: p.dueAt,
      status: p.status,
    })),
  );
  if (upserts.length > 0) {
    const column = <T>(pick: (u: (typeof upserts)[number]) => T) => upserts.map(pick);
    // Arrays, not a list of values, so the text is the same for every batch size and is prepared once.
    await sql`${prepared('upsert-reminders')}
      insert into reminder (registration_id, meeting_id, reminder_offset, due_at, status)
      select * from unnest(${column((u) => u.registration_id)}::uuid[], ${column((u) => u.meeting_id)}::uuid[],
        ${column((u) => u.reminder_offset)}::text[], ${column((u) => u.due_at)}::timestamptz[],
        ${column((u) => u.status)}::text[])
      on conflict (registration_id, reminder_offset) do update set due_at = excluded.due_at,
        status = excluded.status, email_id = null, updated_at = now()`.execute(trx);
  }
  // Only when a meeting dropped an offset: rare, so one statement per registration concerned.
  for (const { registrationId, plan } of plans) {
    if (plan.cancel.length === 0) continue;
    await trx
      .updateTable('reminder')
      .set({ status: 'cancelled', updated_at: new Date() })
      .where('registration_id', '=', registrationId)
      .where('reminder_offset', 'in', plan.cancel)
      .where('status', '=', 'pending')
      .execute();
  }
}

/** Stops the reminders of registrations that lost their seat; sent ones stay as history. */
export async function cancelPendingReminders(trx: Transaction<Database>, registrationIds: readonly string[]) {
  if (registrationIds.length === 0) return;
  await trx
    .updateTable('reminder')
    .set({ status: 'cancelled', updated_at: new Date() })
    .where('registration_id', 'in', registrationIds)
    .where('status', 'in', ['pending', 'skipped'])
    .execute();
}

export async function deleteMeetingReminders(trx: Transaction<Database>, meetingId: string) {
  await trx.deleteFrom('reminder').where('meeting_id', '=', meetingId).execute();
}

/**
 * Reminders whose mail is queued but not yet sent go back to pending, so the next plan re-times them
 * (their queued mails, which name the old date, are cancelled by the caller).
 */
export async function requeueUnsentReminders(trx: Transaction<Database>, meetingId: string) {
  await trx
    .updateTable('reminder')
    .set({ status: 'pending', email_id: null, updated_at: new Date() })
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'queued')
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('email')
          .select(sql`1`.as('one'))
          .whereRef('email.id', '=', 'reminder.email_id')
          .where('email.status', '=', 'cancelled'),
      ),
    )
    .execute();
}

/** When the next pending reminder falls due after `now` (the ones due already are being dispatched). */
export async function nextReminderDueAt(db: Kysely<Database>, now: Date): Promise<Date | undefined> {
  const row = await db
    .selectFrom('reminder')
    .select((eb) => eb.fn.min('due_at').as('due'))
    .where('status', '=', 'pending')
    .where('due_at', '>', now)
    .executeTakeFirst();
  return row?.due ? new Date(row.due) : undefined;
}

/** Claims due reminders; rows another replica holds are skipped, so no reminder is taken twice. */
export async function claimDueReminders(
  trx: Transaction<Database>,
  now: Date,
  limit: number,
): Promise<ReminderRow[]> {
  return trx
    .selectFrom('reminder')
    .selectAll()
    .where('status', '=', 'pending')
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .modifyEnd(prepared('claim-reminders'))
    .execute();
}

export async function setReminderStatus(
  trx: Transaction<Database>,
  updates: readonly { id: number; status: ReminderStatus; emailId: string | null }[],
): Promise<void> {
  if (updates.length === 0) return;
  await sql`${prepared('set-reminder-status')}
    update reminder as r set status = u.status, email_id = u.email_id::uuid, updated_at = now()
    from (select * from unnest(${sql.val(updates.map((u) => u.id))}::bigint[],
                               ${sql.val(updates.map((u) => u.status))}::text[],
                               ${sql.val(updates.map((u) => u.emailId))}::text[]) as t(id, status, email_id)) as u
    where r.id = u.id`.execute(trx);
}
