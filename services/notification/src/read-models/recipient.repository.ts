import type { AttendeeSnapshot } from '@citydeals/contracts';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';

export type RecipientRow = Selectable<Database['recipient']>;

/**
 * Applies an attendee snapshot if it is newer than what is stored and the attendee was not erased.
 * Returns the row when applied; undefined for an older, repeated or post-erasure event.
 */
export async function applyAttendeeSnapshot(
  trx: Transaction<Database>,
  snapshot: AttendeeSnapshot,
): Promise<RecipientRow | undefined> {
  const values = {
    registration_id: snapshot.registrationId,
    meeting_id: snapshot.meetingId,
    version: snapshot.version,
    status: snapshot.status,
    name: snapshot.name,
    email: snapshot.email,
    language: snapshot.language,
    position: snapshot.position,
    manage_url: snapshot.manageUrl,
  };
  const { registration_id: _id, ...update } = values;
  return trx
    .insertInto('recipient')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('registration_id')
        .doUpdateSet({ ...update, updated_at: new Date() })
        .where('recipient.version', '<', snapshot.version)
        .where('recipient.erased', '=', false),
    )
    .returningAll()
    .executeTakeFirst();
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
