import type { AttendeeSnapshot } from '@citydeals/contracts';
import { prepared } from '@citydeals/db';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export type RecipientRow = Selectable<Database['recipient']>;

/**
 * A recipient as a snapshot left it. `first_seen`: the row did not exist before, so nothing derived from it
 * (reminders, mails) can exist yet: those are only made for stored recipients, and a recipient row is never
 * deleted (erasure keeps a tombstone).
 */
export type AppliedRecipient = RecipientRow & { first_seen: boolean };

/**
 * An attendee snapshot with the personal manage link it carries, if any: only the first event of a
 * registration carries it (see the attendee events in the contracts), later ones link to the manage page
 * without the token and are stored with `manageUrl: null`.
 */
export type RecipientSnapshot = Omit<AttendeeSnapshot, 'manageUrl'> & { manageUrl: string | null };

/**
 * Applies attendee snapshots, each if it is newer than what is stored and the attendee was not erased, in
 * one statement. Returns the rows applied by registration id; an older, repeated or post-erasure snapshot
 * has none. A snapshot without a personal link keeps the stored one, so every later mail still carries it.
 * The registration ids must differ (one statement cannot update a row twice).
 */
export async function applyAttendeeSnapshots(
  trx: Transaction<Database>,
  snapshots: readonly RecipientSnapshot[],
): Promise<Map<string, AppliedRecipient>> {
  if (snapshots.length === 0) return new Map();
  const column = <T>(pick: (s: RecipientSnapshot) => T) => snapshots.map(pick);
  // Arrays, not a list of values, so the text is the same for every batch size and is prepared once.
  // `xmax = 0`: the row was inserted by this statement; one it updated carries this transaction in xmax.
  const { rows } = await sql<AppliedRecipient>`${prepared('apply-attendee-snapshots')}
    insert into recipient (registration_id, meeting_id, version, status, name, email, language, position,
      manage_url, deal_id)
    select * from unnest(${column((s) => s.registrationId)}::uuid[], ${column((s) => s.meetingId)}::uuid[],
      ${column((s) => s.version)}::int[], ${column((s) => s.status)}::text[], ${column((s) => s.name)}::text[],
      ${column((s) => s.email)}::text[], ${column((s) => s.language)}::text[],
      ${column((s) => s.position)}::int[], ${column((s) => s.manageUrl)}::text[],
      ${column((s) => s.dealId ?? null)}::uuid[])
    on conflict (registration_id) do update set meeting_id = excluded.meeting_id, version = excluded.version,
      status = excluded.status, name = excluded.name, email = excluded.email, language = excluded.language,
      position = excluded.position, manage_url = coalesce(excluded.manage_url, recipient.manage_url),
      deal_id = excluded.deal_id, updated_at = now()
    where recipient.version < excluded.version and not recipient.erased
    returning *, xmax = 0 as first_seen`.execute(trx);
  return new Map(rows.map((row) => [row.registration_id, row]));
}

/**
 * Removes the person's data and keeps a tombstone with the version, so that no older event can bring it
 * back. Returns the address that was stored, if any, for cleaning up what was derived from it.
 */
export async function eraseRecipient(
  trx: Transaction<Database>,
  input: { registrationId: string; meetingId: string; version: number },
): Promise<{ email: string | null }> {
  const before = await trx
    .selectFrom('recipient')
    .select('email')
    .where('registration_id', '=', input.registrationId)
    .forUpdate()
    .executeTakeFirst();
  await trx
    .insertInto('recipient')
    .values({
      registration_id: input.registrationId,
      meeting_id: input.meetingId,
      version: input.version,
      status: 'erased',
      name: null,
      email: null,
      language: 'nl',
      position: null,
      manage_url: null,
      deal_id: null,
      erased: true,
    })
    .onConflict((oc) =>
      oc.column('registration_id').doUpdateSet((eb) => ({
        version: eb.fn('greatest', [eb.ref('recipient.version'), eb.ref('excluded.version')]),
        status: 'erased',
        name: null,
        email: null,
        position: null,
        manage_url: null,
        deal_id: null,
        erased: true,
        updated_at: new Date(),
      })),
    )
    .execute();
  return { email: before?.email ?? null };
}

/** Attendees of a meeting in the given statuses, in a stable order. */
export async function listRecipients(
  db: Kysely<Database> | Transaction<Database>,
  meetingId: string,
  statuses: readonly string[],
): Promise<RecipientRow[]> {
  return db
    .selectFrom('recipient')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('status', 'in', statuses)
    .where('erased', '=', false)
    .orderBy('registration_id')
    .execute();
}

export async function findRecipients(
  db: Kysely<Database>,
  registrationIds: readonly string[],
): Promise<RecipientRow[]> {
  if (registrationIds.length === 0) return [];
  return db.selectFrom('recipient').selectAll().where('registration_id', 'in', registrationIds).execute();
}

export async function countOtherRecipientsWithAddress(
  trx: Transaction<Database>,
  email: string,
  exceptRegistrationId: string,
): Promise<number> {
  const row = await trx
    .selectFrom('recipient')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .where('registration_id', '!=', exceptRegistrationId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Whether the registration (or request) was erased: its tombstone stays, so late events send nothing. */
export async function isErasedRecipient(
  trx: Transaction<Database>,
  registrationId: string,
): Promise<boolean> {
  const row = await trx
    .selectFrom('recipient')
    .select('erased')
    .where('registration_id', '=', registrationId)
    .executeTakeFirst();
  return row?.erased === true;
}
