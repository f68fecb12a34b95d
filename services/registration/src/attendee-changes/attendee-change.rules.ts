import type { attendeeDetailsFields } from '@citydeals/contracts';
import type { RegistrationStatusColumn } from '../db/database.ts';

type DetailsField = (typeof attendeeDetailsFields)[number];

export interface AttendeeDetails {
  name: string;
  email: string;
  organisation: string | null;
  role: string;
  dealId: string | null;
}

export type AttendeeChangeInput = Partial<AttendeeDetails> & { substitute: boolean };

export type AttendeeChangePlan =
  | { kind: 'refused'; status: 409 | 400; field: string; reason: string }
  | { kind: 'none' }
  | { kind: 'details'; next: AttendeeDetails; changedFields: DetailsField[] }
  | { kind: 'substitute'; next: AttendeeDetails };

const sameAddress = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * What a change the office makes to a registration is. A correction keeps the person (and their link); a
 * substitution puts someone else in a confirmed seat — a new name and a new address, and the
 * details of the previous person (needs, consents) do not carry over. Only live registrations change, and
 * a checked-in or no-show registration is history: corrected, never handed to someone else (nor is a waitlist
place: the queue is the public's).
 */
export function planAttendeeChange(
  current: AttendeeDetails & { status: RegistrationStatusColumn; erased: boolean },
  input: AttendeeChangeInput,
): AttendeeChangePlan {
  if (current.erased || current.status === 'cancelled') {
    return {
      kind: 'refused',
      status: 409,
      field: 'id',
      reason: `a ${current.erased ? 'erased' : 'cancelled'} registration cannot change`,
    };
  }
  const next: AttendeeDetails = {
    name: input.name ?? current.name,
    email: input.email ?? current.email,
    organisation: input.organisation === undefined ? current.organisation : input.organisation,
    role: input.role ?? current.role,
    dealId: input.dealId === undefined ? current.dealId : input.dealId,
  };
  if (input.substitute) {
    if (current.status !== 'confirmed') {
      return {
        kind: 'refused',
        status: 409,
        field: 'substitute',
        reason: `a ${current.status} registration cannot be handed over`,
      };
    }
    if (!input.name || !input.email) {
      return {
        kind: 'refused',
        status: 400,
        field: input.name ? 'email' : 'name',
        reason: 'a substitute needs a name and an address',
      };
    }
    if (sameAddress(input.email, current.email)) {
      return {
        kind: 'refused',
        status: 400,
        field: 'email',
        reason: 'a substitute has another address than the current attendee',
      };
    }
    return { kind: 'substitute', next };
  }
  const changedFields: DetailsField[] = [];
  if (next.name !== current.name) changedFields.push('name');
  if (next.email !== current.email) changedFields.push('email');
  if (next.organisation !== current.organisation) changedFields.push('organisation');
  if (next.role !== current.role) changedFields.push('role');
  if (next.dealId !== current.dealId) changedFields.push('dealId');
  return changedFields.length === 0 ? { kind: 'none' } : { kind: 'details', next, changedFields };
}
