/** Pure rules about a registration's status changes; the seat counters follow them in seats/. */
import type { RegistrationStatusColumn } from '../db/database.ts';

export type Transition = { ok: true; changed: boolean } | { ok: false; reason: string };

export function checkInTransition(status: RegistrationStatusColumn): Transition {
  if (status === 'checked_in') return { ok: true, changed: false };
  // A no-show who turns up late is checked in after all.
  if (status === 'confirmed' || status === 'no_show') return { ok: true, changed: true };
  return { ok: false, reason: `a ${status} registration cannot be checked in` };
}

export function noShowTransition(
  status: RegistrationStatusColumn,
  meetingStartsAt: Date,
  now: Date,
): Transition {
  if (status === 'no_show') return { ok: true, changed: false };
  if (status !== 'confirmed')
    return { ok: false, reason: `a ${status} registration cannot be marked no-show` };
  if (now.getTime() < meetingStartsAt.getTime()) {
    return { ok: false, reason: 'a no-show can only be recorded once the meeting has started' };
  }
  return { ok: true, changed: true };
}

export function cancelTransition(status: RegistrationStatusColumn): Transition {
  if (status === 'cancelled') return { ok: true, changed: false };
  if (status === 'confirmed' || status === 'waitlisted') return { ok: true, changed: true };
  return { ok: false, reason: `a ${status} registration can no longer be cancelled` };
}
