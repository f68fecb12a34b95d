import type { AttendeeSnapshot } from '@citydeals/contracts';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export type RecipientRow = Selectable<Database['recipient']>;

/**
 * Applies attendee snapshots, each if it is newer than what is stored and the attendee was not erased, in
 * one statement. Returns the rows applied by registration id; an older, repeated or post-erasure snapshot
 * has none. The registration ids must differ (one statement cannot update a row twice).
 */
export async function applyAttendeeSnapshots(
  trx: Transaction<Database>,
  snapshots: readonly AttendeeSnapshot[],
): Promise<Map<string, RecipientRow>> {
  if (snapshots.length === 0) return new Map();
  const rows = await trx
    .insertInto('recipient')
    .values(
      snapshots.map((snapshot) => ({
        registration_id: snapshot.registrationId,
        meeting_id: snapshot.meetingId,
        version: snapshot.version,
        status: snapshot.status,
        name: snapshot.name,
        email: snapshot.email,
        language: snapshot.language,
        position: snapshot.position,
        manage_url: snapshot.manageUrl,
      })),
    )
    .onConflict((oc) =>
      oc
        .column('registration_id')
        .doUpdateSet((eb) => ({
          meeting_id: eb.ref('excluded.meeting_id'),
          version: eb.ref('excluded.version'),
          status: eb.ref('excluded.status'),
          name: eb.ref('excluded.name'),
          email: eb.ref('excluded.email'),
          language: eb.ref('excluded.language'),
          position: eb.ref('excluded.position'),
          manage_url: eb.ref('excluded.manage_url'),
          updated_at: new Date(),
        }))
        .whereRef('recipient.version', '<', 'excluded.version')
        .where('recipient.erased', '=', false),
    )
    .returningAll()
    .execute();
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
