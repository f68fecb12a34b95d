import { randomBytes } from 'node:crypto';
import type { EmailKind, MailKind } from '@citydeals/contracts';
import { type IndexPlannedDb, prepared } from '@citydeals/db';
import { currentTraceparent, type StatementEvent, writeWithEvents } from '@citydeals/messaging';
import { type DueRowsTable, type HeldRow, leaseDueRows, nextDueAt, renewLeases } from '@citydeals/work-queue';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Settlement } from './email.rules.ts';

export type EmailRow = Selectable<Database['email']>;
/** A mail as composed: queued, not tried yet. */
export type NewEmail = Pick<
  Selectable<Database['email']>,
  | 'id'
  | 'meeting_id'
  | 'registration_id'
  | 'reminder_offset'
  | 'recipient'
  | 'language'
  | 'subject'
  | 'text_body'
  | 'html_body'
  | 'ics'
  | 'ics_method'
  | 'unsubscribe_url'
  | 'message_id'
  | 'dedupe_key'
  | 'expires_at'
  | 'created_at'
> & { kind: MailKind; status: 'queued' };

export async function insertEmails(trx: Transaction<Database>, rows: readonly NewEmail[]): Promise<number> {
  if (rows.length === 0) return 0;
  const column = <T>(pick: (e: NewEmail) => T) => rows.map(pick);
  // A dedupe key makes a re-applied cause (e.g. an event dead-lettered and retried) queue nothing new.
  // Arrays, not a list of values, so the text is the same for every batch size and is prepared once.
  const { rows: inserted } = await sql<{ id: string }>`${prepared('insert-emails')}
    insert into email (id, kind, meeting_id, registration_id, reminder_offset, recipient, language, subject,
      text_body, html_body, ics, ics_method, unsubscribe_url, message_id, dedupe_key, status, expires_at,
      created_at, traceparent)
    select *, ${currentTraceparent() ?? null}::text from unnest(${column((e) => e.id)}::uuid[], ${column((e) => e.kind)}::text[],
      ${column((e) => e.meeting_id)}::uuid[], ${column((e) => e.registration_id)}::uuid[],
      ${column((e) => e.reminder_offset)}::text[], ${column((e) => e.recipient)}::text[],
      ${column((e) => e.language)}::text[], ${column((e) => e.subject)}::text[],
      ${column((e) => e.text_body)}::text[], ${column((e) => e.html_body)}::text[], ${column((e) => e.ics)}::text[],
      ${column((e) => e.ics_method)}::text[], ${column((e) => e.unsubscribe_url)}::text[],
      ${column((e) => e.message_id)}::text[], ${column((e) => e.dedupe_key)}::text[],
      ${column((e) => e.status)}::text[], ${column((e) => e.expires_at)}::timestamptz[],
      ${column((e) => e.created_at)}::timestamptz[])
    on conflict (dedupe_key) do nothing
    returning id`.execute(trx);
  return inserted.length;
}

/** The mail queue as `leaseDueRows` sees it. */
const mailQueue: DueRowsTable = {
  table: 'email',
  readyWhen: { column: 'status', equals: 'queued' },
  dueColumn: 'next_attempt_at',
  leasedUntilColumn: 'leased_until',
  attemptsColumn: 'attempts',
  statementName: 'lease-mail',
};

/**
 * Leases up to `limit` mails that are due (see `leaseDueRows`): concurrent senders take different mails,
 * which come back with `attempts` counting the attempt about to be made. If this sender dies, it stops
 * renewing (`renewMailLeases`): the mails are due again when the lease runs out, and another sender (or
 * replica) sends them with the same Message-ID.
 */
export function leaseQueuedEmails(
  // The head of the queue index, whatever the statistics say (a burst is planned as a sort of all of it).
  db: IndexPlannedDb<Database>,
  now: Date,
  limit: number,
  leaseUntil: Date,
): Promise<LeasedEmail[]> {
  return leaseDueRows<EmailRow, Database>(db, mailQueue, { now, limit, leaseUntil });
}

/**
 * Extends the lease of mails a sender holds to `leaseUntil`, fenced by the attempts its lease counted (see
 * `renewLeases`); returns the ids still held.
 */
export function renewMailLeases(
  db: Kysely<Database>,
  held: readonly HeldRow[],
  leaseUntil: Date,
): Promise<Set<string>> {
  return renewLeases(db, mailQueue, held, leaseUntil);
}

/** When the next queued mail falls due after `now` (a retry's time, a lease running out). */
export function nextMailDueAt(db: IndexPlannedDb<Database>, now: Date): Promise<Date | undefined> {
  return nextDueAt(db, mailQueue, now);
}

/** A leased mail, with the time it was due before the lease moved next_attempt_at to the lease's end. */
export type LeasedEmail = EmailRow & { due_at: Date };

export interface EmailSettlementRow {
  id: string;
  /** The leased row's `attempts`: the fencing token of that lease. */
  attempts: number;
  settlement: Settlement;
  /** The outcome's event (keyed by the mail's id), written only if the outcome is recorded. */
  announcement?: StatementEvent | undefined;
  /** Put the address on the suppression list (by its hash) if the outcome is recorded. */
  suppressHash?: string | undefined;
}

/**
 * Records the outcomes of leased mails, their events and any suppression in one statement, which commits
 * on its own: one round trip for a whole batch. A row is only changed while the lease that sent it still
 * holds it (same `attempts`, still queued): a sender whose lease ran out and was taken over records nothing,
 * and then announces and suppresses nothing either. Returns the ids that were recorded.
 */
export async function recordOutcomes(
  db: IndexPlannedDb<Database>,
  rows: readonly EmailSettlementRow[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const col = <T>(pick: (s: Settlement) => T | undefined) => rows.map((r) => pick(r.settlement) ?? null);
  const iso = (d: Date | undefined) => d?.toISOString();
  const announcements = rows.flatMap((r) => (r.announcement ? [r.announcement] : []));
  const suppressed = rows.filter((r) => r.suppressHash);
  const settled = await writeWithEvents(
    db,
    announcements,
    (insertEvents) => sql<{ id: string }>`${prepared('record-mail-outcomes')}
    with settled as (
      update email as e set
        status = case when u.status = 'waiting' then 'queued' else u.status end,
        -- A mail that waited for the server gives its attempt back; the fence below still holds, as only
        -- this lease can take the count back below its own token.
        attempts = e.attempts - (u.status = 'waiting')::int,
        version = e.version + 1,
        updated_at = now(),
        leased_until = null,
        next_attempt_at = coalesce(u.next_attempt_at, e.next_attempt_at),
        last_error = case when u.status in ('queued', 'failed') then u.last_error
          when u.status = 'waiting' then coalesce(u.last_error, e.last_error) else e.last_error end,
        smtp_code = case when u.status in ('queued', 'failed') then u.smtp_code else e.smtp_code end,
        sent_at = u.sent_at,
        failed_at = u.failed_at
      from unnest(
        ${sql.val(rows.map((r) => r.id))}::uuid[],
        ${sql.val(rows.map((r) => r.attempts))}::int[],
        ${sql.val(col((s) => s.status))}::text[],
        ${sql.val(col((s) => (s.status === 'queued' ? iso(s.nextAttemptAt) : s.status === 'waiting' ? iso(s.dueAt) : undefined)))}::timestamptz[],
        ${sql.val(col((s) => (s.status === 'queued' || s.status === 'failed' || s.status === 'waiting' ? s.error : undefined)))}::text[],
        ${sql.val(col((s) => (s.status === 'queued' || s.status === 'failed' ? s.smtpCode : undefined)))}::int[],
        ${sql.val(col((s) => (s.status === 'sent' ? iso(s.sentAt) : undefined)))}::timestamptz[],
        ${sql.val(col((s) => (s.status === 'failed' ? iso(s.failedAt) : undefined)))}::timestamptz[]
      ) as u(id, attempts, status, next_attempt_at, last_error, smtp_code, sent_at, failed_at)
      where e.id = u.id and e.attempts = u.attempts and e.status = 'queued' and e.leased_until is not null
      returning e.id
    ), announced as (
      ${insertEvents(sql`select id::text as key, null::int as count from settled`)}
    ), suppressed as (
      insert into suppression (address_hash, reason)
      select h.address_hash, 'rejected'
      from unnest(
        ${sql.val(suppressed.map((r) => r.id))}::uuid[],
        ${sql.val(suppressed.map((r) => r.suppressHash!))}::text[]
      ) as h(email_id, address_hash)
      where h.email_id in (select id from settled)
      on conflict (address_hash) do nothing
      returning 1
    )
    select id from settled`,
  );
  return new Set(settled.map((r) => r.id));
}

/**
 * Withdraws mails that have not gone out yet, e.g. reminders of a registration that was cancelled. A mail
 * under a live lease is on the wire and cannot be withdrawn: it stays, and is recorded as its attempt ends
 * (so a reminder that did go out is not planned a second time). `now` is the senders' clock.
 */
export async function cancelQueuedEmails(
  trx: Transaction<Database>,
  now: Date,
  filter: { meetingId?: string; registrationIds?: readonly string[]; kinds?: readonly EmailKind[] },
): Promise<number> {
  let query = trx
    .updateTable('email')
    .set((eb) => ({ status: 'cancelled' as const, version: eb('version', '+', 1), updated_at: new Date() }))
    .where('status', '=', 'queued')
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]));
  if (filter.meetingId) query = query.where('meeting_id', '=', filter.meetingId);
  if (filter.registrationIds) {
    if (filter.registrationIds.length === 0) return 0;
    query = query.where('registration_id', 'in', filter.registrationIds);
  }
  if (filter.kinds) query = query.where('kind', 'in', filter.kinds);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Erasure: the log keeps what happened, but nothing that names or reaches the person. */
export async function eraseEmailsOf(
  trx: Transaction<Database>,
  now: Date,
  registrationId: string,
): Promise<void> {
  await cancelQueuedEmails(trx, now, { registrationIds: [registrationId] });
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
  kind?: MailKind | undefined;
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
