import { randomBytes } from 'node:crypto';
import type { EmailKind } from '@citydeals/contracts';
import { type Insertable, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export type EmailRow = Selectable<Database['email']>;
export type NewEmail = Insertable<Database['email']>;

export async function insertEmails(trx: Transaction<Database>, rows: readonly NewEmail[]): Promise<number> {
  if (rows.length === 0) return 0;
  // A dedupe key makes a re-applied cause (e.g. an event dead-lettered and retried) queue nothing new.
  const inserted = await trx
    .insertInto('email')
    .values([...rows])
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .execute();
  return inserted.length;
}

/** Claims mails ready to go; the row locks are held until the caller's transaction records the outcome. */
export async function claimQueuedEmails(
  trx: Transaction<Database>,
  now: Date,
  limit: number,
): Promise<EmailRow[]> {
  return trx
    .selectFrom('email')
    .selectAll()
    .where('status', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function updateEmail(
  trx: Transaction<Database>,
  id: string,
  changes: Partial<Omit<EmailRow, 'id' | 'version'>>,
): Promise<void> {
  await trx
    .updateTable('email')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .execute();
}

/** Withdraws mails that have not gone out yet, e.g. reminders of a registration that was cancelled. */
export async function cancelQueuedEmails(
  trx: Transaction<Database>,
  filter: { meetingId?: string; registrationId?: string; kinds?: readonly EmailKind[] },
): Promise<number> {
  let query = trx
    .updateTable('email')
    .set((eb) => ({ status: 'cancelled' as const, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('status', '=', 'queued');
  if (filter.meetingId) query = query.where('meeting_id', '=', filter.meetingId);
  if (filter.registrationId) query = query.where('registration_id', '=', filter.registrationId);
  if (filter.kinds) query = query.where('kind', 'in', filter.kinds);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Erasure: the log keeps what happened, but nothing that names or reaches the person. */
export async function eraseEmailsOf(trx: Transaction<Database>, registrationId: string): Promise<void> {
  await cancelQueuedEmails(trx, { registrationId });
  await trx
    .updateTable('email')
    .set({ recipient: null, text_body: null, html_body: null, ics: null, unsubscribe_url: null })
    .where('registration_id', '=', registrationId)
    .execute();
}

export interface EmailFilter {
  meetingId?: string | undefined;
  registrationId?: string | undefined;
  recipient?: string | undefined;
  kind?: string | undefined;
  status?: string | undefined;
  before?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

export async function listEmails(db: Kysely<Database>, filter: EmailFilter): Promise<EmailRow[]> {
  let query = db.selectFrom('email').selectAll();
  if (filter.meetingId) query = query.where('meeting_id', '=', filter.meetingId);
  if (filter.registrationId) query = query.where('registration_id', '=', filter.registrationId);
  if (filter.recipient)
    query = query.where((eb) => eb(eb.fn('lower', ['recipient']), '=', filter.recipient!.toLowerCase()));
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.status) query = query.where('status', '=', filter.status as EmailRow['status']);
  if (filter.before) {
    const { createdAt, id } = filter.before;
    query = query.where(sql<boolean>`(created_at, id) < (${createdAt}, ${id}::uuid)`);
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

export async function suppressedHashes(
  db: Kysely<Database> | Transaction<Database>,
  hashes: readonly string[],
): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await db
    .selectFrom('suppression')
    .select('address_hash')
    .where('address_hash', 'in', hashes)
    .execute();
  return new Set(rows.map((r) => r.address_hash));
}

export async function suppressAddress(
  trx: Transaction<Database>,
  hash: string,
  reason: 'rejected' | 'unsubscribed',
): Promise<void> {
  await trx
    .insertInto('suppression')
    .values({ address_hash: hash, reason })
    .onConflict((oc) => oc.column('address_hash').doNothing())
    .execute();
}

export async function removeSuppression(trx: Transaction<Database>, hash: string): Promise<void> {
  await trx.deleteFrom('suppression').where('address_hash', '=', hash).execute();
}

/** The configured secret, or one generated on first use and kept, so links survive restarts. */
export async function unsubscribeSecret(db: Kysely<Database>, configured: string | undefined) {
  if (configured) return configured;
  await db
    .insertInto('email_setting')
    .values({ key: 'unsubscribe_secret', value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('email_setting')
    .select('value')
    .where('key', '=', 'unsubscribe_secret')
    .executeTakeFirstOrThrow();
  return row.value;
}
