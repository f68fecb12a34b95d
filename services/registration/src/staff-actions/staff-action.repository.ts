import type { Actor } from '@citydeals/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface StaffAction {
  at: Date;
  actor: Actor;
  action: string;
  meetingId: string | null;
  registrationId: string | null;
  status: number;
}

export async function recordStaffAction(db: Kysely<Database>, entry: StaffAction): Promise<void> {
  await db
    .insertInto('staff_action')
    .values({
      at: entry.at,
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      actor_name: entry.actor.name,
      action: entry.action,
      meeting_id: entry.meetingId,
      registration_id: entry.registrationId,
      status: entry.status,
    })
    .execute();
}

/** A meeting's admin changes, newest first: those on the meeting and those on its registrations. */
export function listStaffActionsOfMeeting(db: Kysely<Database>, meetingId: string, limit: number) {
  return db
    .selectFrom('staff_action as a')
    .leftJoin('registration as r', 'r.id', 'a.registration_id')
    .select([
      'a.at',
      'a.actor_type',
      'a.actor_id',
      'a.actor_name',
      'a.action',
      'a.registration_id',
      'r.name as registration_name',
      'a.status',
    ])
    .where((eb) => eb.or([eb('a.meeting_id', '=', meetingId), eb('r.meeting_id', '=', meetingId)]))
    .orderBy('a.id', 'desc')
    .limit(limit)
    .execute();
}
