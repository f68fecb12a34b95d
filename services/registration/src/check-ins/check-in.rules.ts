import type { RegistrationStatusColumn } from '../db/database.ts';

export type UndoTransition = { ok: true; changed: boolean } | { ok: false; reason: string };

/**
 * Taking back a check-in (the wrong name tapped at the door): a checked-in registration is confirmed again and
 * keeps its seat. Undoing twice changes nothing; anything that was never checked in cannot be undone.
 */
export function undoCheckInTransition(status: RegistrationStatusColumn): UndoTransition {
  if (status === 'checked_in') return { ok: true, changed: true };
  if (status === 'confirmed') return { ok: true, changed: false };
  return { ok: false, reason: `a ${status} registration has no check-in to undo` };
}
