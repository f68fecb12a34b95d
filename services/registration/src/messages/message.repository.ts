import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { AttendeeMessageTable, Database } from '../db/database.ts';

export type MessageRow = Selectable<AttendeeMessageTable>;

/** Stores a message; a message with this id already stored is left as it is. Returns whether it was new. */
export async function insertMessage(
  trx: Transaction<Database>,
  row: Insertable<AttendeeMessageTable>,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('attendee_message')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export function findMessage(db: Kysely<Database> | Transaction<Database>, id: string) {
  return db.selectFrom('attendee_message').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Locks a message that has not gone out; another sweep holding it is skipped, not waited for. */
export function lockUnsentMessage(trx: Transaction<Database>, id: string) {
  return trx
    .selectFrom('attendee_message')
    .selectAll()
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
}

export function markMessageSent(trx: Transaction<Database>, id: string, sentAt: Date, recipients: number) {
  return trx
    .updateTable('attendee_message')
    .set({ sent_at: sentAt, recipients })
    .where('id', '=', id)
    .execute();
}

export async function dueMessageIds(db: Kysely<Database>, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('attendee_message')
    .select('id')
    .where('sent_at', 'is', null)
    .where('send_at', '<=', now)
    .orderBy('send_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export function listMessages(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('attendee_message')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** The registrations a message goes to, in arrival order; erased ones never. */
export function listMessageRecipients(
  trx: Transaction<Database>,
  message: Pick<MessageRow, 'meeting_id' | 'statuses' | 'deal_ids' | 'roles'>,
) {
  let query = trx
    .selectFrom('registration')
    .select(['id', 'language'])
    .where('meeting_id', '=', message.meeting_id)
    .where('status', 'in', message.statuses)
    .where('erased_at', 'is', null);
  if (message.deal_ids) query = query.where('deal_id', 'in', message.deal_ids);
  if (message.roles) query = query.where('role', 'in', message.roles);
  return query.orderBy('seq').execute();
}
